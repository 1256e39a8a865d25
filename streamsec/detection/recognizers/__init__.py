"""The recognizers streamsec runs, registered explicitly by name.

Each entry pairs a factory with a *gate*: a cheap test on the text's features
(digits, ``@``, capitals, ...) that must hold for the recognizer to have any
chance of matching, so short structured values skip most regexes. Recognizers
with ``ner=True`` only read spaCy's entities from the NLP artifacts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from presidio_analyzer import EntityRecognizer, Pattern
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    CryptoRecognizer,
    DateRecognizer,
    DeTaxIdRecognizer,
    EmailRecognizer,
    EsNieRecognizer,
    EsNifRecognizer,
    IpRecognizer,
    ItFiscalCodeRecognizer,
    MedicalLicenseRecognizer,
    NhsRecognizer,
    SpacyRecognizer,
    UkNinoRecognizer,
    UsBankRecognizer,
    UsItinRecognizer,
    UsLicenseRecognizer,
    UsPassportRecognizer,
    UsSsnRecognizer,
)

from streamsec.detection.entities import NER_TYPES
from streamsec.detection.features import TextFeatures
from streamsec.detection.recognizers._base import attribute
from streamsec.detection.recognizers.age import AgeRecognizer
from streamsec.detection.recognizers.api_key import ApiKeyRecognizer
from streamsec.detection.recognizers.card_number import CardNumberRecognizer
from streamsec.detection.recognizers.clinical_terms import (
    HealthConditionRecognizer,
    MedicationRecognizer,
)
from streamsec.detection.recognizers.contact_block import ContactBlockRecognizer
from streamsec.detection.recognizers.date_of_birth import DateOfBirthRecognizer
from streamsec.detection.recognizers.fr_insee import FrInseeRecognizer
from streamsec.detection.recognizers.iban import FastIbanRecognizer
from streamsec.detection.recognizers.informal_name import InformalNameRecognizer
from streamsec.detection.recognizers.location import LocationRecognizer
from streamsec.detection.recognizers.medical import (
    HealthPlanIdRecognizer,
    Icd10Recognizer,
    MedicalRecordNumberRecognizer,
)
from streamsec.detection.recognizers.organization import OrganizationRecognizer
from streamsec.detection.recognizers.password import PasswordRecognizer
from streamsec.detection.recognizers.person_cue import PersonCueRecognizer
from streamsec.detection.recognizers.phone import PhoneRecognizer
from streamsec.detection.recognizers.ssn_cue import SsnCueRecognizer
from streamsec.detection.recognizers.street_address import StreetAddressRecognizer
from streamsec.detection.recognizers.title import TitleRecognizer
from streamsec.detection.recognizers.url_credentials import UrlCredentialRecognizer
from streamsec.detection.recognizers.web_url import WebUrlRecognizer
from streamsec.detection.recognizers.zip_code import ZipCodeRecognizer

__all__ = ["RECOGNIZERS", "RecognizerSpec", "build_recognizers", "register"]

Gate = Callable[[TextFeatures], bool]


def _digits(f: TextFeatures) -> bool:
    return f.digits > 0


def _always(f: TextFeatures) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class RecognizerSpec:
    factory: Callable[[], EntityRecognizer]
    gate: Gate = _always
    ner: bool = False


RECOGNIZERS: dict[str, RecognizerSpec] = {}


def register(name: str, spec: RecognizerSpec) -> None:
    """Add (or replace) a recognizer under ``name``; the factory must set that name."""
    RECOGNIZERS[name] = spec


def build_recognizers(names: list[str] | None = None) -> list[EntityRecognizer]:
    """Instances of the registered recognizers (all, or the ones named)."""
    chosen = names if names is not None else list(RECOGNIZERS)
    return [RECOGNIZERS[name].factory() for name in chosen]


def _english(recognizer: Callable[..., EntityRecognizer]) -> Callable[[], EntityRecognizer]:
    """Presidio's country-specific recognizers, run on the English pipeline."""

    def build() -> EntityRecognizer:
        return recognizer(supported_language="en")

    return build


def _medical_license() -> EntityRecognizer:
    """Presidio's medical licence (DEA) recognizer, its patterns bounded by word
    edges: without them it matches inside hashes and image digests."""
    base: list[Pattern] = attribute(MedicalLicenseRecognizer(), "patterns")
    patterns = [Pattern(p.name, rf"(?<![\w-])(?:{p.regex})(?![\w-])", p.score) for p in base]
    return MedicalLicenseRecognizer(patterns=patterns)


def _spacy() -> EntityRecognizer:
    return SpacyRecognizer(supported_entities=sorted(NER_TYPES), name="SpacyRecognizer")


for _name, _spec in {
    "SpacyRecognizer": RecognizerSpec(_spacy, ner=True),
    "EmailRecognizer": RecognizerSpec(EmailRecognizer, lambda f: f.at),
    "WebUrlRecognizer": RecognizerSpec(WebUrlRecognizer, lambda f: f.dot and f.letters > 1),
    "UrlCredentialRecognizer": RecognizerSpec(UrlCredentialRecognizer, lambda f: f.at and f.colon),
    "CreditCardRecognizer": RecognizerSpec(CreditCardRecognizer, lambda f: f.digits >= 12),
    "CardNumberRecognizer": RecognizerSpec(CardNumberRecognizer, lambda f: f.digits >= 12),
    "IbanRecognizer": RecognizerSpec(FastIbanRecognizer, lambda f: f.digits >= 6 and f.upper > 0),
    "UsSsnRecognizer": RecognizerSpec(UsSsnRecognizer, lambda f: f.digits >= 9),
    "UsItinRecognizer": RecognizerSpec(UsItinRecognizer, lambda f: f.digits >= 9),
    "UsBankRecognizer": RecognizerSpec(UsBankRecognizer, lambda f: f.digits >= 8),
    "UsLicenseRecognizer": RecognizerSpec(UsLicenseRecognizer, _digits),
    "UsPassportRecognizer": RecognizerSpec(UsPassportRecognizer, lambda f: f.digits >= 8),
    "MedicalLicenseRecognizer": RecognizerSpec(_medical_license, lambda f: f.digits >= 7),
    "CryptoRecognizer": RecognizerSpec(CryptoRecognizer, lambda f: f.length >= 26 and f.digits > 0),
    "IpRecognizer": RecognizerSpec(IpRecognizer, lambda f: f.digits > 0 and (f.dot or f.colon)),
    # Every date pattern has a "/", "-" or "." between its numbers.
    "DateRecognizer": RecognizerSpec(
        DateRecognizer, lambda f: f.digits > 0 and (f.slash or f.dash or f.dot)
    ),
    "PhoneRecognizer": RecognizerSpec(PhoneRecognizer, lambda f: f.digits >= 7),
    # Every street pattern has a letter, but the "unit" one's "#" (as in "#5"); the
    # letter count is exact for ASCII text (\p{L} may know letters Python does not).
    "StreetAddressRecognizer": RecognizerSpec(
        StreetAddressRecognizer,
        lambda f: f.digits > 0 and (f.letters > 0 or f.hash or not f.ascii),
    ),
    "ZipCodeRecognizer": RecognizerSpec(ZipCodeRecognizer, lambda f: f.digits >= 3),
    "AgeRecognizer": RecognizerSpec(AgeRecognizer, lambda f: f.digits > 0 and f.words > 1),
    "DateOfBirthRecognizer": RecognizerSpec(
        DateOfBirthRecognizer, lambda f: f.digits >= 4 and f.words > 1
    ),
    "LocationRecognizer": RecognizerSpec(LocationRecognizer, lambda f: f.upper > 0),
    "PersonCueRecognizer": RecognizerSpec(
        PersonCueRecognizer, lambda f: f.letters > 3 and f.words > 1
    ),
    "OrganizationRecognizer": RecognizerSpec(
        OrganizationRecognizer, lambda f: f.upper > 1 and f.words > 1
    ),
    "ContactBlockRecognizer": RecognizerSpec(ContactBlockRecognizer, lambda f: f.lines > 2),
    "TitleRecognizer": RecognizerSpec(TitleRecognizer, lambda f: f.upper > 1 and f.words > 1),
    "PasswordRecognizer": RecognizerSpec(PasswordRecognizer, lambda f: f.password_cue),
    "ApiKeyRecognizer": RecognizerSpec(ApiKeyRecognizer, lambda f: f.length >= 16),
    "InformalNameRecognizer": RecognizerSpec(
        InformalNameRecognizer, lambda f: f.words > 2 and f.letters > f.upper + 6
    ),
    "SsnCueRecognizer": RecognizerSpec(SsnCueRecognizer, lambda f: f.digits >= 9 and f.words > 1),
    "NhsRecognizer": RecognizerSpec(_english(NhsRecognizer), lambda f: f.digits >= 10),
    "UkNinoRecognizer": RecognizerSpec(
        _english(UkNinoRecognizer), lambda f: f.digits >= 6 and f.upper >= 2
    ),
    "EsNifRecognizer": RecognizerSpec(
        _english(EsNifRecognizer), lambda f: f.digits >= 7 and f.letters >= 1
    ),
    "EsNieRecognizer": RecognizerSpec(
        _english(EsNieRecognizer), lambda f: f.digits >= 7 and f.letters >= 1
    ),
    "ItFiscalCodeRecognizer": RecognizerSpec(
        _english(ItFiscalCodeRecognizer), lambda f: f.digits >= 7 and f.letters >= 9
    ),
    "DeTaxIdRecognizer": RecognizerSpec(_english(DeTaxIdRecognizer), lambda f: f.digits >= 11),
    "FrInseeRecognizer": RecognizerSpec(FrInseeRecognizer, lambda f: f.digits >= 13),
    "MedicalRecordNumberRecognizer": RecognizerSpec(
        MedicalRecordNumberRecognizer, lambda f: f.digits >= 5 and f.letters >= 2
    ),
    "HealthPlanIdRecognizer": RecognizerSpec(
        HealthPlanIdRecognizer, lambda f: f.digits >= 1 and f.words > 1
    ),
    "Icd10Recognizer": RecognizerSpec(Icd10Recognizer, lambda f: f.digits >= 1 and f.upper >= 1),
    "HealthConditionRecognizer": RecognizerSpec(
        HealthConditionRecognizer, lambda f: f.letters >= 4 and f.digits <= f.letters
    ),
    "MedicationRecognizer": RecognizerSpec(
        MedicationRecognizer, lambda f: f.letters >= 5 and f.digits <= f.letters
    ),
}.items():
    register(_name, _spec)
