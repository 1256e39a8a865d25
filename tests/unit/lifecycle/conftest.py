from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from streamsec.crypto.cipher import KeyringCipher
from streamsec.decryption.decryptor import Decryptor
from streamsec.protection.protector import Protector
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology
from streamsec.topology.model import Topology

KNOWN = {"Jane Roe": "PERSON", "John Doe": "PERSON", "Ann Lee": "PERSON"}

CRM = """
name: crm
input: raw.crm
output: protected.crm
subject: customer_id
encryption: {{missing_subject: shared}}
fields:
  customer_id: {subject_rule}
  email: {{action: encrypt, deterministic: true, entity: EMAIL_ADDRESS}}
  name: {{action: encrypt, entity: PERSON}}
  card: {{action: mask, keep_last: 4, entity: CREDIT_CARD}}
  note: {{action: encrypt, inline: true}}
"""


def crm_topology(subject_rule: str = "keep") -> Topology:
    return parse_topology(CRM.format(subject_rule=subject_rule))


def customer(i: int) -> dict[str, Any]:
    name = list(KNOWN)[i % len(KNOWN)]
    return {
        "customer_id": f"C-{i:04d}",
        "email": f"user{i}@example.com",
        "name": name,
        "card": "4111 1111 1111 1111",
        "note": f"call {name} at +1 555-123-{i:04d} today",
        "tier": "gold",
        "visits": i,
    }


class Env:
    """A provider, a topology and a protector with the fake detector."""

    def __init__(self, topology: Topology, provider: InMemoryKeyProvider) -> None:
        self.topology = topology
        self.provider = provider
        self.cipher = KeyringCipher(provider, topology.name)
        self.protector = Protector(topology, detector=FakeDetector(KNOWN), cipher=self.cipher)
        self.decryptor = Decryptor(topology, cipher=self.cipher)

    def protect(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self.protector.protect(r).record for r in records]


MakeEnv = Callable[..., Env]


@pytest.fixture
def provider() -> InMemoryKeyProvider:
    return InMemoryKeyProvider()


@pytest.fixture
def make_env(provider: InMemoryKeyProvider) -> MakeEnv:
    def make(subject_rule: str = "keep") -> Env:
        return Env(crm_topology(subject_rule), provider)

    return make
