"""Synthetic values for the breadth corpus (:mod:`streamsec.testing.breadth_corpus`).

Every identifier is generated with its real check digit or letter (so checksum
validators accept it) from a seeded ``random.Random``; phone numbers are built
from ``phonenumbers``' example numbers with random subscriber digits and kept only
when ``phonenumbers`` says they are valid. Nothing here is a real person's data.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import uuid
from typing import Final

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

__all__ = [
    "CONDITIONS",
    "DOC_URLS",
    "DOSES",
    "DRUGS",
    "ICD10",
    "PRODUCT_A",
    "PRODUCT_B",
    "PRODUCT_C",
    "SCHEMES",
    "Values",
]

# Lay names of conditions as clinicians and patients write them (not ICD titles).
CONDITIONS: Final = (
    "breast cancer",
    "type 2 diabetes",
    "hypertension",
    "asthma",
    "major depressive disorder",
    "rheumatoid arthritis",
    "migraine",
    "epilepsy",
    "hypothyroidism",
    "chronic kidney disease",
    "atrial fibrillation",
    "pneumonia",
    "hepatitis C",
    "Crohn's disease",
    "multiple sclerosis",
    "schizophrenia",
    "bipolar disorder",
    "generalized anxiety disorder",
    "osteoporosis",
    "psoriasis",
    "lung cancer",
    "prostate cancer",
    "heart failure",
    "Parkinson's disease",
    "Alzheimer's disease",
    "celiac disease",
    "sleep apnea",
    "gout",
    "bronchitis",
    "anemia",
)
ICD10: Final = (
    "C50.911",
    "E11.9",
    "I10",
    "J45.909",
    "F32.9",
    "M06.9",
    "G43.909",
    "G40.909",
    "E03.9",
    "N18.3",
    "I48.91",
    "J18.9",
    "B18.2",
    "K50.90",
    "G35",
    "F20.9",
    "F31.9",
    "F41.1",
    "M81.0",
    "L40.0",
    "C34.90",
    "C61",
    "I50.9",
    "G20",
    "G30.9",
    "K90.0",
    "G47.33",
    "M10.9",
    "J20.9",
)
DRUGS: Final = (
    "metformin",
    "lisinopril",
    "atorvastatin",
    "amlodipine",
    "levothyroxine",
    "omeprazole",
    "sertraline",
    "salbutamol",
    "apixaban",
    "warfarin",
    "prednisolone",
    "citalopram",
    "insulin glargine",
    "tamoxifen",
    "methotrexate",
    "ibuprofen",
    "amoxicillin",
    "gabapentin",
)
DOSES: Final = ("5 mg", "10 mg", "20 mg", "40 mg", "100 mg", "250 mg", "500 mg", "1 g", "2 puffs")
PRODUCT_A: Final = ("Nimbus", "Vertex", "Quasar", "Helix", "Zephyr", "Pulse", "Cobalt", "Lumen")
PRODUCT_B: Final = ("Router", "Hub", "Sensor", "Backup", "Stream", "Desk Lamp", "Drive", "Switch")
PRODUCT_C: Final = ("X200", "Pro", "Mini", "2", "Max", "S", "Lite", "500")
DOC_URLS: Final = (
    "https://docs.python.org/3/library/json.html",
    "https://kafka.apache.org/documentation/#producerconfigs",
    "https://docs.aws.amazon.com/kms/latest/developerguide/overview.html",
    "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/404",
    "https://learn.microsoft.com/en-us/azure/storage/blobs/",
    "https://www.postgresql.org/docs/16/libpq-connect.html",
)
SCHEMES: Final = (
    ("postgresql", "db", 5432, "orders"),
    ("mysql", "mysql", 3306, "billing"),
    ("redis", "cache", 6379, "0"),
    ("amqp", "mq", 5672, "vhost"),
    ("mongodb", "mongo", 27017, "app"),
)


_NHS_WEIGHTS: Final = range(10, 1, -1)
_DNI_LETTERS: Final = "TRWAGMYFPDXBNJZSQVHLCKE"
_NINO_FIRST: Final = "ABCEGHJKLMNOPRSTWXYZ"
_NINO_SECOND: Final = "ABCEGHJKLMNPRSTWXYZ"
_NINO_BAD: Final = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_PHONE_FORMATS: Final = (PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL)
_B64URL: Final = string.ascii_letters + string.digits + "-_"


class Values:
    """Seeded generators of synthetic personal and non-personal values."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd

    def digits(self, n: int) -> str:
        return "".join(str(self.rnd.randrange(10)) for _ in range(n))

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rnd.choice(alphabet) for _ in range(n))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rnd.getrandbits(128), version=4))

    def hexdigest(self, n: int = 64) -> str:
        return self.chars("0123456789abcdef", n)

    # -- national identifiers ---------------------------------------------------------

    def nhs_number(self) -> str:
        while True:
            body = [self.rnd.randrange(10) for _ in range(9)]
            check = 11 - sum(d * w for d, w in zip(body, _NHS_WEIGHTS, strict=True)) % 11
            check = 0 if check == 11 else check
            if check != 10:
                raw = "".join(map(str, body)) + str(check)
                return self.rnd.choice([raw, f"{raw[:3]} {raw[3:6]} {raw[6:]}"])

    def uk_nino(self) -> str:
        while True:
            prefix = self.rnd.choice(_NINO_FIRST) + self.rnd.choice(_NINO_SECOND)
            if prefix not in _NINO_BAD:
                break
        number, suffix = self.digits(6), self.rnd.choice("ABCD")
        if self.rnd.random() < 0.5:
            return f"{prefix}{number}{suffix}"
        return f"{prefix} {number[:2]} {number[2:4]} {number[4:]} {suffix}"

    def es_dni(self) -> str:
        number = self.rnd.randrange(10_000_000, 99_999_999)
        return f"{number}{_DNI_LETTERS[number % 23]}"

    def es_nie(self) -> str:
        first = self.rnd.randrange(3)
        number = self.rnd.randrange(1_000_000, 9_999_999)
        letter = _DNI_LETTERS[int(f"{first}{number:07d}") % 23]
        return f"{'XYZ'[first]}{number:07d}{letter}"

    def fr_insee(self) -> str:
        sex, year, month = self.rnd.choice("12"), self.digits(2), f"{self.rnd.randint(1, 12):02d}"
        dept, commune, order = f"{self.rnd.randint(1, 95):02d}", self.digits(3), self.digits(3)
        body = f"{sex}{year}{month}{dept}{commune}{order}"
        key = 97 - int(body) % 97
        if self.rnd.random() < 0.5:
            return f"{body}{key:02d}"
        return f"{sex} {year} {month} {dept} {commune} {order} {key:02d}"

    def de_tax_id(self) -> str:
        while True:
            digits = [self.rnd.randrange(1, 10)] + [self.rnd.randrange(10) for _ in range(9)]
            counts = sorted((digits.count(d) for d in set(digits)), reverse=True)
            if (
                counts[0] in (2, 3)
                and counts.count(counts[0]) == 1
                and counts[1:] == [1] * (len(counts) - 1)
            ):
                break
        product = 10
        for digit in digits:
            total = (digit + product) % 10 or 10
            product = (total * 2) % 11
        check = (11 - product) % 10
        return "".join(map(str, digits)) + str(check)

    # -- contact ------------------------------------------------------------------------

    def phone(self, region: str) -> tuple[str, bool]:
        """A valid number of ``region``: (text, whether it is in E.164 form)."""
        kind = self.rnd.choice([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE])
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:  # pragma: no cover - every region used has examples
            raise ValueError(f"no example phone number for {region}")
        national = str(example.national_number)
        for _ in range(50):
            tail = self.digits(4)
            number = phonenumbers.parse(f"+{example.country_code}{national[:-4]}{tail}")
            if phonenumbers.is_valid_number(number):
                break
        else:  # pragma: no cover - the example itself is always valid
            number = example
        if self.rnd.random() < 0.2:
            return phonenumbers.format_number(number, PhoneNumberFormat.E164), True
        return phonenumbers.format_number(number, self.rnd.choice(_PHONE_FORMATS)), False

    def dob(self) -> str:
        day, month, year = (
            self.rnd.randint(1, 28),
            self.rnd.randint(1, 12),
            self.rnd.randint(1940, 2005),
        )
        return f"{day:02d}/{month:02d}/{year}"

    def ssn_digits(self) -> str:
        return (
            f"{self.rnd.randint(100, 665)}{self.rnd.randint(10, 99)}{self.rnd.randint(1000, 9999)}"
        )

    # -- health -------------------------------------------------------------------------

    def mrn(self) -> str:
        number = self.digits(7)
        return self.rnd.choice([f"MRN{number}", f"MRN-{number}", f"MR{number}", f"{number}"])

    def health_plan_id(self) -> str:
        return self.rnd.choice(
            [
                f"{self.chars(string.ascii_uppercase, 3)}{self.digits(9)}",
                f"W{self.digits(9)}",
                f"HP-{self.digits(4)}-{self.digits(4)}",
                f"{self.digits(3)}{self.chars(string.ascii_uppercase, 2)}{self.digits(5)}",
            ]
        )

    # -- secrets -------------------------------------------------------------------------

    def password(self) -> str:
        alphabet = string.ascii_letters + string.digits + "!#%*+-_"
        return self.chars(string.ascii_letters, 2) + self.chars(alphabet, self.rnd.randint(8, 18))

    def url_password(self) -> str:
        """A password usable in a URL's userinfo without percent-encoding."""
        return self.chars(string.ascii_letters, 2) + self.chars(
            string.ascii_letters + string.digits + "-_.~", self.rnd.randint(8, 20)
        )

    def cloud_token(self) -> str:
        alnum = string.ascii_letters + string.digits
        return self.rnd.choice(
            [
                "AKIA" + self.chars(string.ascii_uppercase + string.digits, 16),
                "ghp_" + self.chars(alnum, 36),
                "glpat-" + self.chars(alnum + "-_", 20),
                "xoxb-" + self.digits(12) + "-" + self.digits(12) + "-" + self.chars(alnum, 24),
                "sk_live_" + self.chars(alnum, 24),
                "AIza" + self.chars(alnum + "-_", 35),
                "sk-proj-" + self.chars(alnum + "-_", 40),
            ]
        )

    def jwt(self) -> str:
        def part(obj: dict[str, object]) -> str:
            raw = json.dumps(obj, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        header = part({"alg": "HS256", "typ": "JWT"})
        payload = part({"sub": self.digits(8), "iat": 1_700_000_000 + self.rnd.randrange(10**7)})
        return f"{header}.{payload}.{self.chars(_B64URL, 43)}"

    def private_key(self) -> str:
        seed = self.rnd.getrandbits(256).to_bytes(32, "big")
        blob = b"".join(hashlib.sha512(seed + bytes([i])).digest() for i in range(4))
        body = base64.b64encode(blob).decode()
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        kind = self.rnd.choice(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"])
        return f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----"
