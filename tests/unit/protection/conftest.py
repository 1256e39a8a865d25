from __future__ import annotations

from collections.abc import Callable

import pytest

from streamsec.decryption.decryptor import Decryptor
from streamsec.protection.protector import Protector
from streamsec.testing import FakeDetector
from streamsec.topology import parse_topology

Build = Callable[..., tuple[Protector, Decryptor]]

KNOWN = {"Jane Roe": "PERSON", "Springfield": "LOCATION", "12 Main Street": "STREET_ADDRESS",
         "2024-01-02": "DATE_TIME"}


@pytest.fixture
def build() -> Build:
    from streamsec.crypto.cipher import KeyringCipher
    from streamsec.testing.keys import InMemoryKeyProvider

    provider = InMemoryKeyProvider()

    def _build(yaml_body: str = "", *, detector: FakeDetector | None = None,
               name: str = "t") -> tuple[Protector, Decryptor]:
        topo = parse_topology(f"name: {name}\ninput: raw.{name}\noutput: protected.{name}\n"
                              + yaml_body)
        cipher = KeyringCipher(provider, topo.name)
        protector = Protector(topo, detector=detector or FakeDetector(KNOWN), cipher=cipher)
        return protector, Decryptor(topo, cipher=cipher)

    return _build
