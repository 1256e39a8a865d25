"""The labelled breadth corpus: deterministic, five shapes, every string leaf labelled,
and identifiers that their own checksum validators accept."""

from __future__ import annotations

from collections import Counter
from typing import Any

import phonenumbers
import pytest
from presidio_analyzer.predefined_recognizers import (
    DeTaxIdRecognizer,
    EsNieRecognizer,
    EsNifRecognizer,
    ItFiscalCodeRecognizer,
    NhsRecognizer,
)

from streamsec.detection.recognizers.fr_insee import FrInseeRecognizer
from streamsec.records.paths import iter_leaves
from streamsec.testing.breadth_corpus import (
    CREDENTIAL_KINDS,
    PHI_KINDS,
    SHAPES,
    BreadthRecord,
    generate_breadth,
)

pytest.importorskip("faker")


@pytest.fixture(scope="module")
def corpus() -> list[BreadthRecord]:
    return generate_breadth(300, seed=5)


def test_same_seed_same_corpus(corpus: list[BreadthRecord]) -> None:
    assert generate_breadth(300, seed=5) == corpus
    assert generate_breadth(300, seed=6) != corpus


def test_five_shapes_and_every_phi_and_credential_kind(corpus: list[BreadthRecord]) -> None:
    assert Counter(r.shape for r in corpus) == {shape: 60 for shape in SHAPES}
    kinds = {kind for r in corpus for _, _, kind in r.personal}
    assert kinds >= PHI_KINDS | CREDENTIAL_KINDS
    assert {"phone_de", "phone_fr", "phone_gb", "phone_es", "phone_it", "phone_nl",
            "phone_e164", "uk_nino", "es_dni", "es_nie", "it_codice_fiscale", "fr_insee",
            "de_tax_id", "eu_postcode", "dob_ddmmyyyy", "chat_name", "ssn_nodash"} <= kinds
    assert not any(r.personal for r in corpus if r.shape == "catalogue")


def _leaf(record: Any, location: tuple[Any, ...]) -> Any:
    for step in location:
        record = record[step]
    return record


def test_every_string_leaf_is_labelled(corpus: list[BreadthRecord]) -> None:
    for item in corpus:
        personal = {loc for loc, _, _ in item.personal}
        keep = {loc for loc, _ in item.keep}
        assert not personal & keep
        for location, value in iter_leaves(item.record):
            if isinstance(value, str):
                assert location in personal | keep, (item.shape, location)
        for location, value, _ in item.personal:
            assert value in _leaf(item.record, location)
        for location, value in item.keep:
            assert _leaf(item.record, location) == value


_VALIDATORS = {
    "nhs": NhsRecognizer(supported_language="en"),
    "es_dni": EsNifRecognizer(supported_language="en"),
    "es_nie": EsNieRecognizer(supported_language="en"),
    "it_codice_fiscale": ItFiscalCodeRecognizer(supported_language="en"),
    "de_tax_id": DeTaxIdRecognizer(supported_language="en"),
    "fr_insee": FrInseeRecognizer(),
}


def test_identifiers_carry_valid_check_digits(corpus: list[BreadthRecord]) -> None:
    checked: Counter[str] = Counter()
    for item in corpus:
        for _, value, kind in item.personal:
            if kind in _VALIDATORS:
                assert _VALIDATORS[kind].validate_result(value) is True, (kind, value)
                checked[kind] += 1
            elif kind.startswith("phone_"):
                region = None if value.startswith("+") else kind[-2:].upper()
                assert phonenumbers.is_valid_number(phonenumbers.parse(value, region)), value
                checked["phone"] += 1
    assert set(checked) == {*_VALIDATORS, "phone"}
