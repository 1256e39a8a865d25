"""Cheap checks on a value's shape.

``plausible(entity, text)`` says whether a value could be the entity its field name
implies (a ``holder`` holding ``"Jane Roe"`` yes, holding ``"n/a"`` or an e-mail
no). ``could_be_named_entity`` says whether NER could find anything in a short
value: ids, enums, codes, numbers and timestamps are skipped.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Final

import regex

from streamsec.detection.features import TextFeatures

__all__ = [
    "could_be_named_entity",
    "followed_by_model",
    "is_benign_token",
    "is_machine_date",
    "plausible",
]

_NAME: Final = regex.compile(
    r"[\p{L}\p{M}][\p{L}\p{M}'\u2019.\-]*(?:[ ,]+[\p{L}\p{M}][\p{L}\p{M}'\u2019.\-]*){0,5}"
)
_PLACE: Final = regex.compile(r"[\p{L}\p{M}][\p{L}\p{M}'\u2019.\- ]{1,80}")
_PHONE: Final = regex.compile(
    r"\+?[\d\s().\-/]{7,24}(?:\s?(?:x|ext\.?)\s?\d{1,5})?", regex.IGNORECASE
)
_SSN: Final = regex.compile(r"\d{3}[- .]?\d{2}[- .]?\d{4}")
_CARD: Final = regex.compile(r"(?:\d[ -]?){11,18}\d")
_CVV: Final = regex.compile(r"\d{3,4}")
_IBAN: Final = regex.compile(r"[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){10,30}")
_ZIP: Final = regex.compile(r"(?=[A-Za-z0-9 \-]*\d)[A-Za-z0-9][A-Za-z0-9 \-]{1,9}")
_EMAIL: Final = regex.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_URL: Final = regex.compile(r"(?:[a-z][a-z0-9+.\-]*://)?[^\s/]+\.[^\s/]+\S*", regex.IGNORECASE)
_ALNUM_ID: Final = regex.compile(r"(?=.*\d)[A-Za-z0-9\- ]{5,24}")
_ICD10: Final = regex.compile(r"[A-TV-Z]\d[0-9AB](?:\.?[0-9A-KXZ]{1,4})?", regex.IGNORECASE)
_NATIONAL_ID: Final = regex.compile(r"(?=(?:.*\d){5})[A-Za-z0-9][A-Za-z0-9\-./ ]{4,24}")
_RECORD_ID: Final = regex.compile(r"(?=.*\d)[A-Za-z0-9#][A-Za-z0-9\-#/ ]{3,30}")
_COUNTRY_CODE: Final = regex.compile(r"\p{Lu}{2,3}")
_CRYPTO: Final = regex.compile(r"[A-Za-z0-9]{25,100}")
_DATE: Final = regex.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{8}"
    r"|(?:\d{1,2}[ ])?[A-Za-z]{3,9}\.?[ ]\d{1,2}(?:st|nd|rd|th)?,?[ ]\d{4}|\d{1,2}[ ][A-Za-z]"
    r"{3,9}[ ]\d{4}",
)
_MACHINE_DATE: Final = regex.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?|\d"
    r"{10}(?:\d{3})?"
)
_NOT_A_NAME: Final = frozenset(
    [
        "n/a",
        "na",
        "none",
        "null",
        "nil",
        "unknown",
        "test",
        "anonymous",
        "redacted",
        "undefined",
        "-",
        "tbd",
    ]
)
_ENUM: Final = regex.compile(r"[\p{Ll}\d_\-.:/]+|[\p{Lu}\d_\-.:/]{1,4}")


def _ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _person(text: str) -> bool:
    return (
        len(text) <= 100
        and text.casefold() not in _NOT_A_NAME
        and _NAME.fullmatch(text) is not None
        and any(ch.isalpha() for ch in text)
    )


def _clinical_text(text: str) -> bool:
    return (
        len(text) <= 300 and sum(c.isalpha() for c in text) >= 2
        and text.casefold() not in _NOT_A_NAME
    )


_CHECKS: Final[dict[str, Callable[[str], bool]]] = {
    "PERSON": _person,
    "ORGANIZATION": lambda t: len(t) <= 200 and any(c.isalpha() for c in t),
    "EMAIL_ADDRESS": lambda t: _EMAIL.fullmatch(t) is not None,
    "PHONE_NUMBER": lambda t: (
        _PHONE.fullmatch(t) is not None and 7 <= sum(c.isdigit() for c in t) <= 15
    ),
    "US_SSN": lambda t: _SSN.fullmatch(t) is not None,
    "US_ITIN": lambda t: _SSN.fullmatch(t) is not None,
    "DATE_OF_BIRTH": lambda t: _DATE.fullmatch(t) is not None,
    "AGE": lambda t: t.isdigit() and int(t) <= 130,
    "CREDIT_CARD": lambda t: _CARD.fullmatch(t) is not None or _CVV.fullmatch(t) is not None,
    "IBAN_CODE": lambda t: _IBAN.fullmatch(t) is not None,
    "US_BANK_NUMBER": lambda t: t.replace("-", "").replace(" ", "").isdigit() and 6 <= len(t) <= 20,
    "US_DRIVER_LICENSE": lambda t: _ALNUM_ID.fullmatch(t) is not None,
    "US_PASSPORT": lambda t: _ALNUM_ID.fullmatch(t) is not None,
    "MEDICAL_LICENSE": lambda t: _ALNUM_ID.fullmatch(t) is not None,
    "IP_ADDRESS": _ip,
    "URL": lambda t: _URL.fullmatch(t) is not None,
    "CRYPTO": lambda t: _CRYPTO.fullmatch(t) is not None,
    "STREET_ADDRESS": lambda t: 2 <= len(t) <= 300 and any(c.isalpha() for c in t),
    "ZIP_CODE": lambda t: _ZIP.fullmatch(t) is not None,
    "LOCATION": lambda t: (
        _PLACE.fullmatch(t) is not None
        and t.casefold() not in _NOT_A_NAME
        and _COUNTRY_CODE.fullmatch(t) is None  # ISO 3166 codes are not personal
    ),
    "NRP": lambda t: _PLACE.fullmatch(t) is not None and t.casefold() not in _NOT_A_NAME,
    "TITLE": lambda t: 2 <= len(t) <= 60 and _PLACE.fullmatch(t) is not None,
    "PASSWORD": lambda t: len(t) >= 1,
    "API_KEY": lambda t: len(t) >= 6,
    "MEDICAL_RECORD_NUMBER": lambda t: _RECORD_ID.fullmatch(t) is not None,
    "HEALTH_PLAN_ID": lambda t: _RECORD_ID.fullmatch(t) is not None,
    "ICD10_CODE": lambda t: _ICD10.fullmatch(t) is not None,
    "HEALTH_CONDITION": _clinical_text,
    "MEDICATION": _clinical_text,
    **dict.fromkeys(
        ("UK_NHS", "UK_NINO", "ES_NIF", "ES_NIE", "IT_FISCAL_CODE", "FR_INSEE", "DE_TAX_ID"),
        lambda t: _NATIONAL_ID.fullmatch(t) is not None,
    ),
}


def plausible(entity: str, text: str) -> bool:
    """Whether ``text`` (stripped) could be a value of ``entity``."""
    check = _CHECKS.get(entity)
    return check is not None and check(text)


def is_machine_date(text: str) -> bool:
    """An ISO date/timestamp or an epoch number: a record's own time, not a person's."""
    return _MACHINE_DATE.fullmatch(text) is not None


_MACHINE_TOKEN: Final = regex.compile(
    # ISO date/time
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    # UUID
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_SHORT_TOKEN: Final = regex.compile(
    r"-?\d{1,6}(?:\.\d{1,6})?|-?\d{1,3}(?:,\d{3})+(?:\.\d+)?"  # number, amount
    r"|\d+(?:\.\d+){1,2}(?:[-+][\w.]+)?|v\d+(?:\.\d+)*"  # version (not an IPv4)
    r"|[\p{Ll}_]+|[\p{Lu}_]{1,4}"  # enum, code
    r"|(?=[A-Za-z]*[-_])[A-Za-z]{1,8}[-_][A-Za-z0-9]{1,40}",  # C-10023, ord_8f3a
)
_MAX_DIGITS: Final = 6


def is_benign_token(text: str) -> bool:
    """A machine token no sensitive entity can be: an ISO timestamp or a UUID; or a
    number, amount, version, lower-case enum, short code or prefixed id with at most
    six digits in all (seven or more could be a phone, card or account number)."""
    if _MACHINE_TOKEN.fullmatch(text) is not None:
        return True
    digits = sum(ch.isdigit() for ch in text)
    return digits <= _MAX_DIGITS and _SHORT_TOKEN.fullmatch(text) is not None


def could_be_named_entity(text: str, features: TextFeatures) -> bool:
    """Whether NER could find a name, place or organisation in a short value."""
    if features.letters < 2 or features.upper == 0:
        return False
    if features.words == 1 and (
        features.digits > 0 or "_" in text or _ENUM.fullmatch(text) is not None
    ):
        return False
    return not (features.words == 1 and "@" in text)


_MODEL = r"(?:v?\d+(?:\.\d+)+|\p{Lu}{1,3}-?\d{2,}\p{Lu}?|Pro|Max|Mini|Lite|Plus|Ultra)\b"
_MODEL_AFTER: Final = regex.compile(rf"(?:[ ]+\p{{Lu}}[\p{{L}}\-]*){{0,2}}[ ]+{_MODEL}")
_MODEL_LAST: Final = regex.compile(rf"(?<=[ ]){_MODEL}$")


def followed_by_model(text: str, start: int, end: int) -> bool:
    """A name that ends with or is followed by a version or model designator ("Kafka
    4.1", "Nimbus Router X200", "Vertex Hub Pro"): a product, not a person, place or
    organisation."""
    return (
        _MODEL_AFTER.match(text, end) is not None
        or _MODEL_LAST.search(text, start, end) is not None
    )
