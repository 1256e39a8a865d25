"""A generated mixed corpus with ground truth, for tests, benchmarks and the demo.

Four shapes: nested customer profiles, payments (card numbers, IBANs), support
tickets whose free text embeds names, emails, phones, SSNs and cards, and events
whose field names say nothing (``k1``, ``v``, ``meta.x``). Each record comes with
the values that must be protected and the (location, value) pairs that must
survive untouched. Needs the ``faker`` package (extra ``streamsec[samples]``).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any

from streamsec.records.paths import JsonValue, Location

__all__ = ["KINDS", "CorpusRecord", "generate_corpus"]

KINDS = ("customer", "payment", "ticket", "event")


@dataclass(frozen=True, slots=True)
class CorpusRecord:
    kind: str
    record: dict[str, Any]
    sensitive: tuple[str, ...]
    """Values that must not appear in clear anywhere in the protected record."""
    benign: tuple[tuple[Location, JsonValue], ...]
    """Values that must be left exactly as they are, at their location."""


def _faker(seed: int) -> Any:
    try:
        from faker import Faker
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the sample corpus needs 'faker': pip install 'streamsec[samples]'"
        ) from None
    fake = Faker("en_US")
    fake.seed_instance(seed)
    return fake


class _Gen:
    def __init__(self, seed: int) -> None:
        self.fake = _faker(seed)
        self.rnd = random.Random(seed)  # noqa: S311 - synthetic test data, not secrets

    def digits(self, n: int) -> str:
        return "".join(str(self.rnd.randrange(10)) for _ in range(n))

    def phone(self) -> str:
        area, mid, end = (
            self.rnd.choice("23456789") + self.digits(2),
            self.digits(3),
            self.digits(4),
        )
        return self.rnd.choice(
            [
                f"+1 {area}-{mid}-{end}",
                f"({area}) {mid}-{end}",
                f"{area}.{mid}.{end}",
                f"+44 20 7946 {end}",
                f"{area}-{mid}-{end}",
            ]
        )

    def ts(self) -> str:
        moment = self.fake.date_time_between("-2y", "now")
        return f"{moment:%Y-%m-%dT%H:%M:%S}Z"

    def ident(self, prefix: str) -> str:
        return f"{prefix}{self.digits(6)}"

    def card(self) -> str:
        number: str = self.fake.credit_card_number(
            card_type=self.rnd.choice(["visa16", "mastercard"])
        )
        if self.rnd.random() < 0.3:
            number = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        return str(number)

    def customer(self) -> CorpusRecord:
        name, email, phone = self.fake.name(), self.fake.email(), self.phone()
        dob = self.fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat()
        street, city, zip_code = self.fake.street_address(), self.fake.city(), self.fake.zipcode()
        cid, tier, created = (
            self.ident("C-"),
            self.rnd.choice(["gold", "silver", "bronze"]),
            self.ts(),
        )
        score, opt_in = round(self.rnd.random(), 3), self.rnd.random() < 0.5
        record = {
            "customer_id": cid,
            "full_name": name,
            "email": email,
            "phone": phone,
            "date_of_birth": dob,
            "address": {"street": street, "city": city, "zip": zip_code, "country_code": "US"},
            "tier": tier,
            "created_at": created,
            "marketing_opt_in": opt_in,
            "risk_score": score,
            "tags": ["newsletter", tier],
        }
        benign: list[tuple[Location, JsonValue]] = [
            (("customer_id",), cid),
            (("tier",), tier),
            (("created_at",), created),
            (("marketing_opt_in",), opt_in),
            (("risk_score",), score),
            (("address", "country_code"), "US"),
            (("tags", 0), "newsletter"),
            (("tags", 1), tier),
        ]
        return CorpusRecord(
            "customer", record, (name, email, phone, dob, street, city, zip_code), tuple(benign)
        )

    def payment(self) -> CorpusRecord:
        card, holder, iban = self.card(), self.fake.name(), self.fake.iban()
        pid, amount = (
            f"pay_{uuid.UUID(int=self.rnd.getrandbits(128)).hex[:12]}",
            round(self.rnd.uniform(1, 900), 2),
        )
        currency, status, brand = (
            self.rnd.choice(["EUR", "USD", "GBP"]),
            self.rnd.choice(["authorized", "captured", "refunded"]),
            self.rnd.choice(["visa", "mastercard"]),
        )
        created, amount_str = self.ts(), f"{amount:.2f}"
        record = {
            "payment_id": pid,
            "amount": amount,
            "amount_text": amount_str,
            "currency": currency,
            "status": status,
            "card": {"number": card, "holder": holder, "brand": brand},
            "payout": {"iban": iban},
            "created_at": created,
            "attempt": self.rnd.randint(1, 3),
        }
        benign: list[tuple[Location, JsonValue]] = [
            (("payment_id",), pid),
            (("amount",), amount),
            (("amount_text",), amount_str),
            (("currency",), currency),
            (("status",), status),
            (("card", "brand"), brand),
            (("created_at",), created),
            (("attempt",), record["attempt"]),
        ]
        return CorpusRecord("payment", record, (card, holder, iban), tuple(benign))

    def ticket(self) -> CorpusRecord:
        name, email, phone, ssn, card = (
            self.fake.name(),
            self.fake.email(),
            self.phone(),
            self.fake.ssn(),
            self.card(),
        )
        order = self.ident("ORD-")
        body = self.rnd.choice(
            [
                f"Hi, this is {name}. My card {card} was charged twice for order {order}. "
                f"Please call me at {phone} or write to {email}.",
                f"Hello team, {name} here. For verification my SSN is {ssn} "
                f"and my phone is {phone}. The refund for {order} never arrived.",
                f"Customer {name} ({email}) asked us to update the card on file to {card}. "
                f"Reach them on {phone}. Ticket relates to {order}.",
                f"Escalation: {name} says the package for {order} was not delivered. "
                f"SSN {ssn} given for identity check; contact {email}.",
            ]
        )
        sensitive = tuple(v for v in (name, email, phone, ssn, card) if v in body)
        tid, created = self.ident("T-"), self.ts()
        priority, channel = (
            self.rnd.choice(["low", "normal", "high"]),
            self.rnd.choice(["email", "chat", "phone"]),
        )
        record = {
            "ticket_id": tid,
            "created_at": created,
            "priority": priority,
            "channel": channel,
            "subject": f"Order {order}",
            "body": body,
        }
        benign: list[tuple[Location, JsonValue]] = [
            (("ticket_id",), tid),
            (("created_at",), created),
            (("priority",), priority),
            (("channel",), channel),
            (("subject",), f"Order {order}"),
        ]
        return CorpusRecord("ticket", record, sensitive, tuple(benign))

    def event(self) -> CorpusRecord:
        secret_kind = self.rnd.choice(["email", "ssn", "card", "phone", "iban"])
        secret = {
            "email": self.fake.email,
            "ssn": self.fake.ssn,
            "card": self.card,
            "phone": self.phone,
            "iban": self.fake.iban,
        }[secret_kind]()
        eid = str(uuid.UUID(int=self.rnd.getrandbits(128)))
        ts, code, n = (
            int(self.fake.unix_time()),
            self.rnd.choice(["A1", "B7", "ok", "retry"]),
            self.rnd.randint(0, 999),
        )
        record = {
            "event_id": eid,
            "k1": secret,
            "v": code,
            "meta": {"x": n, "y": self.rnd.choice(["on", "off"])},
            "ts": ts,
        }
        benign: list[tuple[Location, JsonValue]] = [
            (("event_id",), eid),
            (("v",), code),
            (("meta", "x"), n),
            (("meta", "y"), record["meta"]["y"]),
            (("ts",), ts),
        ]
        return CorpusRecord("event", record, (secret,), tuple(benign))


def generate_corpus(n: int, seed: int = 7, kinds: tuple[str, ...] = KINDS) -> list[CorpusRecord]:
    """``n`` records cycling through ``kinds``; the same seed gives the same corpus."""
    gen = _Gen(seed)
    makers = {
        "customer": gen.customer,
        "payment": gen.payment,
        "ticket": gen.ticket,
        "event": gen.event,
    }
    return [makers[kinds[i % len(kinds)]]() for i in range(n)]
