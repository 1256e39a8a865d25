"""A labelled corpus over record shapes streamsec was not built on (issue 13).

Five shapes: European customers, clinical encounters, service configs and logs,
chat messages, and catalogue records with no personal data at all. Every string
leaf is labelled: each personal value (a whole leaf, or a piece of a free-text
leaf) with its kind, and every non-personal leaf as such. Deterministic for a
seed; all values are synthetic (``faker`` locales and
:mod:`streamsec.testing.breadth_values`). Needs ``streamsec[samples]``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Final

from streamsec.records.paths import Location
from streamsec.testing.breadth_values import (
    CONDITIONS as _CONDITIONS,
)
from streamsec.testing.breadth_values import (
    DOC_URLS as _DOC_URLS,
)
from streamsec.testing.breadth_values import (
    DOSES as _DOSES,
)
from streamsec.testing.breadth_values import (
    DRUGS as _DRUGS,
)
from streamsec.testing.breadth_values import (
    ICD10 as _ICD10,
)
from streamsec.testing.breadth_values import (
    PRODUCT_A as _PRODUCT_A,
)
from streamsec.testing.breadth_values import (
    PRODUCT_B as _PRODUCT_B,
)
from streamsec.testing.breadth_values import (
    PRODUCT_C as _PRODUCT_C,
)
from streamsec.testing.breadth_values import (
    SCHEMES as _SCHEMES,
)
from streamsec.testing.breadth_values import (
    Values,
)

__all__ = ["CREDENTIAL_KINDS", "PHI_KINDS", "SHAPES", "BreadthRecord", "generate_breadth"]

SHAPES: Final = ("eu_customer", "clinical", "service", "chat", "catalogue")
PHI_KINDS: Final = frozenset({"diagnosis", "icd10", "medication", "mrn", "health_plan_id", "nhs"})
CREDENTIAL_KINDS: Final = frozenset(
    {"url_password", "password", "private_key", "cloud_token", "jwt"}
)
_LOCALES: Final = {
    "DE": "de_DE",
    "FR": "fr_FR",
    "GB": "en_GB",
    "ES": "es_ES",
    "IT": "it_IT",
    "NL": "nl_NL",
}
@dataclass(frozen=True, slots=True)
class BreadthRecord:
    shape: str
    record: dict[str, Any]
    personal: tuple[tuple[Location, str, str], ...]
    """(leaf location, personal value inside that leaf, kind)."""
    keep: tuple[tuple[Location, str], ...]
    """(leaf location, value) of non-personal string leaves that must stay unchanged."""


@dataclass(slots=True)
class _Builder:
    personal: list[tuple[Location, str, str]] = field(default_factory=list)
    keep: list[tuple[Location, str]] = field(default_factory=list)

    def p(self, location: Location, value: str, kind: str) -> str:
        self.personal.append((location, value, kind))
        return value

    def k(self, location: Location, value: str) -> str:
        self.keep.append((location, value))
        return value


class _Gen:
    def __init__(self, seed: int) -> None:
        from faker import Faker

        self.rnd = random.Random(seed)  # noqa: S311 - synthetic test data
        self.v = Values(self.rnd)
        self.fakers = {}
        for i, (country, locale) in enumerate(_LOCALES.items()):
            fake = Faker(locale)
            fake.seed_instance(seed * 31 + i)
            self.fakers[country] = fake

    def country(self) -> str:
        return self.rnd.choice(list(_LOCALES))

    def ts(self) -> str:
        return (
            f"2026-{self.rnd.randint(1, 12):02d}-{self.rnd.randint(1, 28):02d}T"
            f"{self.rnd.randint(0, 23):02d}:{self.rnd.randint(0, 59):02d}:00Z"
        )

    def phone(self, b: _Builder, loc: Location, country: str) -> str:
        number, e164 = self.v.phone(country)
        b.p(loc, number, "phone_e164" if e164 else f"phone_{country.lower()}")
        return number

    def national_id(self, country: str) -> tuple[str, str, str]:
        """(field name, value, kind) of a national identifier of ``country``."""
        fake = self.fakers["IT"]
        choices = {
            "DE": [
                ("steuer_id", self.v.de_tax_id(), "de_tax_id"),
                ("tax_id", self.v.de_tax_id(), "de_tax_id"),
            ],
            "FR": [
                ("insee", self.v.fr_insee(), "fr_insee"),
                ("numero_securite_sociale", self.v.fr_insee(), "fr_insee"),
            ],
            "GB": [
                ("nino", self.v.uk_nino(), "uk_nino"),
                ("national_insurance_number", self.v.uk_nino(), "uk_nino"),
                ("nhs_number", self.v.nhs_number(), "nhs"),
            ],
            "ES": [("dni", self.v.es_dni(), "es_dni"), ("nie", self.v.es_nie(), "es_nie")],
            "IT": [("codice_fiscale", str(fake.ssn()), "it_codice_fiscale")],
        }
        if country == "NL":  # a resident's foreign id
            return self.national_id(self.rnd.choice(["DE", "FR", "GB", "ES", "IT"]))
        return self.rnd.choice(choices[country])

    def product(self) -> str:
        r = self.rnd
        return f"{r.choice(_PRODUCT_A)} {r.choice(_PRODUCT_B)} {r.choice(_PRODUCT_C)}"

    # -- shapes -------------------------------------------------------------------------

    def eu_customer(self) -> BreadthRecord:
        b, country = _Builder(), self.country()
        fake = self.fakers[country]
        field_name, ident, kind = self.national_id(country)
        street, postcode, city = fake.street_address(), fake.postcode(), fake.city()
        if self.rnd.random() < 0.5:
            address: Any = {
                "street": b.p(("address", "street"), street, "street"),
                "postcode": b.p(("address", "postcode"), postcode, "eu_postcode"),
                "city": b.p(("address", "city"), city, "city"),
                "country": b.k(("address", "country"), country),
            }
        else:
            line = f"{street}, {postcode} {city}"
            b.p(("address",), street, "street")
            b.p(("address",), postcode, "eu_postcode")
            address = line
        record = {
            "customer_ref": b.k(("customer_ref",), self.v.uuid()),
            "name": b.p(("name",), fake.name(), "name"),
            "contact": {
                "email": b.p(("contact", "email"), fake.email(), "email"),
                "phone": self.phone(b, ("contact", "phone"), country),
            },
            "birth_date": b.p(("birth_date",), self.v.dob(), "dob_ddmmyyyy"),
            "address": address,
            field_name: b.p((field_name,), ident, kind),
            "country": b.k(("country",), country),
            "preferred_currency": b.k(("preferred_currency",), self.rnd.choice(["EUR", "GBP"])),
            "locale": b.k(("locale",), _LOCALES[country]),
            "loyalty_tier": b.k(("loyalty_tier",), self.rnd.choice(["gold", "silver", "basic"])),
            "updated_at": b.k(("updated_at",), self.ts()),
        }
        return BreadthRecord("eu_customer", record, tuple(b.personal), tuple(b.keep))

    def clinical(self) -> BreadthRecord:
        b, country = _Builder(), self.country()
        fake, r = self.fakers[country], self.rnd
        i = r.randrange(len(_CONDITIONS))
        condition, code = _CONDITIONS[i], _ICD10[i % len(_ICD10)]
        drugs = [f"{d} {r.choice(_DOSES)}" for d in r.sample(_DRUGS, r.randint(1, 3))]
        mrn, plan_id = self.v.mrn(), self.v.health_plan_id()
        first, last = fake.first_name(), fake.last_name()
        drug = drugs[0]
        cited = f"MRN {mrn}" if mrn.isdigit() else mrn
        note = r.choice(
            [
                f"Pt {first.lower()} {last.lower()} ({cited}) seen for follow-up of {condition} "
                f"({code}); continue {drug} daily.",
                f"{first} {last}, MRN {mrn}, diagnosed with {condition}. Started {drug}. "
                f"Member ID {plan_id}.",
                f"Follow-up: {condition} stable on {drug}. ICD-10 {code}. Next visit in 3 months.",
            ]
        )
        record = {
            "encounter_id": b.k(("encounter_id",), self.v.uuid()),
            "status": b.k(("status",), r.choice(["finished", "in-progress", "planned"])),
            "patient": {
                "mrn": b.p(("patient", "mrn"), mrn, "mrn"),
                "name": b.p(("patient", "name"), f"{first} {last}", "name"),
                "dob": b.p(("patient", "dob"), self.v.dob(), "dob_ddmmyyyy"),
            },
            "coverage": {
                r.choice(["member_id", "health_plan_id", "insurance_id"]): plan_id,
                "plan_type": b.k(("coverage", "plan_type"), r.choice(["PPO", "HMO", "statutory"])),
            },
            "diagnosis": {
                "code": b.p(("diagnosis", "code"), code, "icd10"),
                "description": b.p(("diagnosis", "description"), condition, "diagnosis"),
            },
            **(
                {"nhs_number": b.p(("nhs_number",), self.v.nhs_number(), "nhs")}
                if country == "GB"
                else {}
            ),
            "medications": [b.p(("medications", j), d, "medication") for j, d in enumerate(drugs)],
            "note": note,
            "facility_country": b.k(("facility_country",), country),
            "recorded_at": b.k(("recorded_at",), self.ts()),
        }
        plan_key = next(k for k in record["coverage"] if k != "plan_type")
        b.p(("coverage", plan_key), plan_id, "health_plan_id")
        for value, kind in (
            (mrn, "mrn"),
            (condition, "diagnosis"),
            (code, "icd10"),
            (drug, "medication"),
            (plan_id, "health_plan_id"),
            (f"{first} {last}", "name"),
            (f"{first.lower()} {last.lower()}", "chat_name"),
        ):
            if value in note:
                b.p(("note",), value, kind)
        return BreadthRecord("clinical", record, tuple(b.personal), tuple(b.keep))

    def service(self) -> BreadthRecord:
        b, r, v = _Builder(), self.rnd, self.v
        scheme, host, port, db = r.choice(_SCHEMES)
        user, secret = r.choice(["app", "svc", "admin", "orders"]), v.url_password()
        dsn = f"{scheme}://{user}:{secret}@{host}.internal:{port}/{db}"
        log_pw, url_pw, token = v.password(), v.url_password(), v.cloud_token()
        log = r.choice(
            [
                f"2026-03-01T10:00:00Z WARN auth failed for svc-batch password={log_pw} retry=3",
                f"INFO connecting to {scheme}://{user}:{url_pw}@{host}.internal:{port}/{db} (2)",
                f"DEBUG export API_TOKEN={token} region=eu-west-1",
            ]
        )
        name = f"{r.choice(['orders', 'billing', 'search', 'gateway'])}-api"
        record = {
            "service": b.k(("service",), name),
            "version": b.k(("version",), f"{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 9)}"),
            "region": b.k(("region",), r.choice(["eu-west-1", "eu-central-1", "us-east-1"])),
            "image": b.k(("image",), f"registry.example.com/{name}@sha256:{v.hexdigest()}"),
            "commit": b.k(("commit",), v.hexdigest(40)),
            "database_url": dsn,
            "settings": {
                "admin_password": b.p(("settings", "admin_password"), v.password(), "password"),
                r.choice(["api_token", "access_token", "cloud_key"]): token,
                "session": b.p(("settings", "session"), v.jwt(), "jwt"),
                "timeout": b.k(("settings", "timeout"), f"{r.randint(1, 60)}s"),
            },
            "tls": {"private_key": b.p(("tls", "private_key"), v.private_key(), "private_key")},
            "docs": b.k(("docs",), r.choice(_DOC_URLS)),
            "log": log,
            "deployed_at": b.k(("deployed_at",), self.ts()),
        }
        b.p(("database_url",), secret, "url_password")
        token_key = next(k for k in record["settings"] if k.endswith(("token", "key")))
        b.p(("settings", token_key), token, "cloud_token")
        for value, kind in ((log_pw, "password"), (url_pw, "url_password"), (token, "cloud_token")):
            if value in log:
                b.p(("log",), value, kind)
        return BreadthRecord("service", record, tuple(b.personal), tuple(b.keep))

    def chat(self) -> BreadthRecord:
        b, country = _Builder(), self.country()
        fake, r = self.fakers[country], self.rnd
        name = f"{fake.first_name()} {fake.last_name()}".lower()
        number, e164 = self.v.phone(country)
        phone_kind = "phone_e164" if e164 else f"phone_{country.lower()}"
        ssn, dob, email = self.v.ssn_digits(), self.v.dob(), fake.email()
        text, parts = r.choice(
            [
                (f"hi this is {name}, locked out again", [(name, "chat_name")]),
                (
                    f"hey its {name} here, my number is {number} pls call back",
                    [(name, "chat_name"), (number, phone_kind)],
                ),
                (
                    f"hello, {name} speaking. SSN: {ssn} for the verification",
                    [(name, "chat_name"), (ssn, "ssn_nodash")],
                ),
                (
                    f"name's {name}, born {dob}, still no refund",
                    [(name, "chat_name"), (dob, "dob_ddmmyyyy")],
                ),
                (
                    f"this is {name} ({email}), can you reset my account? call {number}",
                    [(name, "chat_name"), (email, "email"), (number, phone_kind)],
                ),
            ]
        )
        for value, kind in parts:
            b.p(("messages", 0, "text"), value, kind)
        reply = r.choice(
            [
                "Thanks, I have reset the account. See https://help.example.com/docs/reset-password",
                "Sorry about that! Your ticket is now with the billing team.",
                "Got it, the order ships with the Nimbus Router X200 firmware 3.2.1.",
            ]
        )
        record = {
            "conversation_id": b.k(("conversation_id",), self.v.uuid()),
            "channel": b.k(("channel",), r.choice(["whatsapp", "web", "sms"])),
            "messages": [
                {
                    "role": b.k(("messages", 0, "role"), "customer"),
                    "text": text,
                    "at": b.k(("messages", 0, "at"), self.ts()),
                },
                {
                    "role": b.k(("messages", 1, "role"), "agent"),
                    "text": b.k(("messages", 1, "text"), reply),
                    "at": b.k(("messages", 1, "at"), self.ts()),
                },
            ],
        }
        return BreadthRecord("chat", record, tuple(b.personal), tuple(b.keep))

    def catalogue(self) -> BreadthRecord:
        b, r, v = _Builder(), self.rnd, self.v
        product, version = self.product(), f"{r.randint(1, 5)}.{r.randint(0, 9)}.{r.randint(0, 9)}"
        record = {
            "id": b.k(("id",), v.uuid()),
            "sku": b.k(("sku",), f"SKU-{v.digits(5)}-{r.choice(['BLK', 'WHT', 'RED'])}"),
            "product": b.k(("product",), product),
            "category": b.k(("category",), r.choice(["networking", "storage", "lighting"])),
            "price": b.k(("price",), f"{r.randint(5, 900)}.{r.choice(['00', '49', '99'])}"),
            "currency": b.k(("currency",), r.choice(["EUR", "GBP", "USD", "CHF"])),
            "country": b.k(("country",), self.country()),
            "available_in": [
                b.k(("available_in", j), c) for j, c in enumerate(r.sample(list(_LOCALES), 3))
            ],
            "checksum": b.k(("checksum",), v.hexdigest()),
            "firmware_version": b.k(("firmware_version",), version),
            "released_at": b.k(("released_at",), self.ts()),
            "docs_url": b.k(("docs_url",), r.choice(_DOC_URLS)),
            "summary": b.k(
                ("summary",),
                f"{product} ships with firmware {version} and works "
                f"with {r.choice(['Wi-Fi 6', 'Kafka 4.1', 'USB-C'])}.",
            ),
        }
        return BreadthRecord("catalogue", record, tuple(b.personal), tuple(b.keep))


def generate_breadth(
    n: int, seed: int = 13, shapes: tuple[str, ...] = SHAPES
) -> list[BreadthRecord]:
    """``n`` records cycling through ``shapes``; the same seed gives the same corpus."""
    gen = _Gen(seed)
    return [getattr(gen, shapes[i % len(shapes)])() for i in range(n)]
