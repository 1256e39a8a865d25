"""The recognizers streamsec runs, registered explicitly by name.

Each entry pairs a factory with a *gate*: a cheap test on the text's features
(digits, ``@``, capitals, ...) that must hold for the recognizer to have any
chance of matching, so short structured values skip most regexes. Recognizers
with ``ner=True`` only read spaCy's entities from the NLP artifacts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from presidio_analyzer import EntityRecognizer
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    CryptoRecognizer,
    DateRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    MedicalLicenseRecognizer,
    SpacyRecognizer,
    UrlRecognizer,
    UsBankRecognizer,
    UsItinRecognizer,
    UsLicenseRecognizer,
    UsPassportRecognizer,
    UsSsnRecognizer,
)

from streamsec.detection.entities import NER_TYPES
from streamsec.detection.features import TextFeatures
from streamsec.detection.recognizers.age import AgeRecognizer
from streamsec.detection.recognizers.api_key import ApiKeyRecognizer
from streamsec.detection.recognizers.card_number import CardNumberRecognizer
from streamsec.detection.recognizers.contact_block import ContactBlockRecognizer
from streamsec.detection.recognizers.date_of_birth import DateOfBirthRecognizer
from streamsec.detection.recognizers.location import LocationRecognizer
from streamsec.detection.recognizers.organization import OrganizationRecognizer
from streamsec.detection.recognizers.password import PasswordRecognizer
from streamsec.detection.recognizers.person_cue import PersonCueRecognizer
from streamsec.detection.recognizers.phone import PhoneRecognizer
from streamsec.detection.recognizers.street_address import StreetAddressRecognizer
from streamsec.detection.recognizers.title import TitleRecognizer
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


def _spacy() -> EntityRecognizer:
    return SpacyRecognizer(supported_entities=sorted(NER_TYPES), name="SpacyRecognizer")


for _name, _spec in {
    "SpacyRecognizer": RecognizerSpec(_spacy, ner=True),
    "EmailRecognizer": RecognizerSpec(EmailRecognizer, lambda f: f.at),
    "UrlRecognizer": RecognizerSpec(UrlRecognizer, lambda f: f.dot and f.letters > 1),
    "CreditCardRecognizer": RecognizerSpec(CreditCardRecognizer, lambda f: f.digits >= 12),
    "CardNumberRecognizer": RecognizerSpec(CardNumberRecognizer, lambda f: f.digits >= 12),
    "IbanRecognizer": RecognizerSpec(IbanRecognizer, lambda f: f.digits >= 6 and f.upper > 0),
    "UsSsnRecognizer": RecognizerSpec(UsSsnRecognizer, lambda f: f.digits >= 9),
    "UsItinRecognizer": RecognizerSpec(UsItinRecognizer, lambda f: f.digits >= 9),
    "UsBankRecognizer": RecognizerSpec(UsBankRecognizer, lambda f: f.digits >= 8),
    "UsLicenseRecognizer": RecognizerSpec(UsLicenseRecognizer, _digits),
    "UsPassportRecognizer": RecognizerSpec(UsPassportRecognizer, lambda f: f.digits >= 8),
    "MedicalLicenseRecognizer": RecognizerSpec(MedicalLicenseRecognizer, lambda f: f.digits >= 7),
    "CryptoRecognizer": RecognizerSpec(CryptoRecognizer, lambda f: f.length >= 26 and f.digits > 0),
    "IpRecognizer": RecognizerSpec(IpRecognizer, lambda f: f.digits > 0 and (f.dot or f.colon)),
    "DateRecognizer": RecognizerSpec(DateRecognizer, _digits),
    "PhoneRecognizer": RecognizerSpec(PhoneRecognizer, lambda f: f.digits >= 7),
    "StreetAddressRecognizer": RecognizerSpec(StreetAddressRecognizer, _digits),
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
}.items():
    register(_name, _spec)
