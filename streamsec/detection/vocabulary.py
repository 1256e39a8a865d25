"""Packaged clinical vocabularies, read once per process from installed packages (offline).

* ICD-10-CM codes and condition terms: ``simple-icd-10-cm`` (MIT; the code set
  is the US CMS/NCHS release, public domain). Codes come from its code list;
  condition terms are the single words of its descriptions that name a
  condition by their ending (``-itis``, ``-osis``, ``-oma``, ``-emia``,
  ``-pathy``, ...) plus the condition words below that need no ending.
* Medications: the drug dictionary of ``drug-named-entity-recognition`` (MIT,
  Fast Data Science; generic and brand names from DrugBank open data, MeSH,
  Wikipedia and the NHS). Only its data file is read: importing that package
  would read a cache in the home directory and pull in network helpers.
"""

from __future__ import annotations

import bz2
import functools
import pickle
from importlib.util import find_spec
from pathlib import Path
from typing import Final

import regex

__all__ = ["condition_terms", "drug_first_words", "drug_names", "icd10_codes", "modifier_words"]

_CONDITION_ENDINGS: Final = (
    "itis",
    "osis",
    "oma",
    "emia",
    "aemia",
    "pathy",
    "algia",
    "plegia",
    "ism",
    "ia",
    "epsy",
)
_NOT_CONDITIONS: Final = frozenset(
    [
        "diagnosis",
        "prognosis",
        "anastomosis",
        "media",
        "bacteria",
        "cafeteria",
        "california",
        "cardia",
        "cinema",
        "diploma",
        "fascia",
        "gamma",
        "genitalia",
        "ganglia",
        "criteria",
        "petechia",
        "militia",
        "trivia",
        "nostalgia",
        "mania",
        "tourism",
        "criticism",
        "mechanism",
        "organism",
        "metabolism",
        "mechanism",
        "magnetism",
        "symbolism",
        "realism",
        "journalism",
        "terrorism",
        "alcoholism",
        "capitalism",
        "optimism",
        "escherichia",
        "brugia",
        "babesia",
        "chlamydia",
        "ehrlichia",
    ]
)
_NOT_MODIFIERS: Final = frozenset(
    [
        "known",
        "history",
        "suspected",
        "probable",
        "possible",
        "stable",
        "unspecified",
        "other",
        "patient",
        "diagnosed",
        "diagnosis",
        "follow",
        "followup",
        "review",
        "presents",
        "presenting",
    ]
)
_PLAIN_CONDITIONS: Final = frozenset(
    [
        "asthma",
        "diabetes",
        "hypertension",
        "hypotension",
        "gout",
        "migraine",
        "cancer",
        "leukemia",
        "leukaemia",
        "lymphoma",
        "melanoma",
        "obesity",
        "depression",
        "psoriasis",
        "eczema",
        "epilepsy",
        "stroke",
        "tuberculosis",
        "hiv",
        "aids",
        "covid",
        "influenza",
        "measles",
        "mumps",
        "rubella",
        "malaria",
        "cholera",
        "sepsis",
        "autism",
        "adhd",
        "copd",
        "dementia",
        "schizophrenia",
        "scoliosis",
        "glaucoma",
        "cataract",
        "cataracts",
        "ulcer",
        "hernia",
    ]
)
_MODIFIER: Final = regex.compile(r"[A-Za-z][A-Za-z']{2,}")
_DESC: Final = regex.compile(r"<desc>([^<]*)</desc>")
_DOSE_SAFE: Final = regex.compile(r"[a-z][a-z\-]{3,}(?:[ ][a-z][a-z\-]{2,}){0,2}")
_MIN_DRUG: Final = 5


def _package_dir(name: str) -> Path:
    """An installed package's folder, found without importing it (both packages do
    heavy work on import)."""
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {name} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _icd_data(suffix: str) -> str:
    folder = _package_dir("simple_icd_10_cm") / "data"
    found = sorted(p for p in folder.iterdir() if p.name.endswith(suffix))
    if not found:
        raise FileNotFoundError(f"simple_icd_10_cm data file *{suffix} is missing")
    return found[-1].read_text(encoding="utf-8")


@functools.cache
def icd10_codes() -> frozenset[str]:
    """Every ICD-10-CM code (categories, subcategories, billable codes), without dots."""
    return frozenset(
        line.strip() for line in _icd_data(".txt").splitlines() if "-" not in line and line
    )


@functools.cache
def _description_words() -> frozenset[str]:
    return frozenset(
        w.lower() for desc in _DESC.findall(_icd_data(".xml")) for w in _MODIFIER.findall(desc)
    )


@functools.cache
def modifier_words() -> frozenset[str]:
    """Lower-case words of ICD-10-CM's descriptions that can qualify a condition
    (``chronic``, ``breast``, ``rheumatoid``; English stop words and the words of
    the notes around a diagnosis excluded)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    skip = STOP_WORDS | _NOT_MODIFIERS
    return frozenset(w for w in _description_words() if w not in skip) | {"type"}


@functools.cache
def condition_terms() -> frozenset[str]:
    """Lower-case single words that name a condition."""
    words = {w for w in _description_words() if len(w) >= 4}
    named = {w for w in words if w.endswith(_CONDITION_ENDINGS) and w not in _NOT_CONDITIONS}
    return frozenset(named | _PLAIN_CONDITIONS)


@functools.cache
def drug_names() -> frozenset[str]:
    """Lower-case drug names (generic and brand) of at least five letters, of one to
    three words (``metformin``, ``insulin glargine``)."""
    path = _package_dir("drug_named_entity_recognition") / "drug_ner_dictionary.pkl.bz2"
    with bz2.open(path, "rb") as f:
        data = pickle.load(f)  # noqa: S301 - the package's own data file
    variants: dict[str, object] = data["drug_variant_to_canonical"]
    return frozenset(
        name for name in variants if len(name) >= _MIN_DRUG and _DOSE_SAFE.fullmatch(name)
    )


@functools.cache
def drug_first_words() -> frozenset[str]:
    """The first word of every drug name: a token outside it starts no name."""
    return frozenset(name.split(" ", 1)[0] for name in drug_names())
