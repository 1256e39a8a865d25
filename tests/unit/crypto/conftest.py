from __future__ import annotations

from pathlib import Path

import pytest

from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import create_keyring
from streamsec.testing.keys import InMemoryKeyProvider


@pytest.fixture
def provider() -> InMemoryKeyProvider:
    return InMemoryKeyProvider()


@pytest.fixture
def cipher(provider: InMemoryKeyProvider) -> KeyringCipher:
    return KeyringCipher(provider, "orders")


@pytest.fixture
def keyring_path(tmp_path: Path) -> Path:
    return tmp_path / "ring" / "keyring.json"


@pytest.fixture
def keyring(keyring_path: Path) -> Keyring:
    return create_keyring(keyring_path)
