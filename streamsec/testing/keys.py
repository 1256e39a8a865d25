"""An in-memory :class:`~streamsec.crypto.provider.KeyProvider` for tests.

It runs the real keyring logic (wrapping, rotation, destruction, per-subject keys,
integrity) over a :class:`~streamsec.crypto.keyfile.MemoryStore` with a random
KEK, so tests exercise the same code paths as production, without a file::

    provider = InMemoryKeyProvider()
    cipher = KeyringCipher(provider, "orders")      # or: in_memory_cipher("orders")
"""

from __future__ import annotations

import os

from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyfile import MemoryStore
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import new_document
from streamsec.crypto.keys import KEK_SIZE, new_key_id
from streamsec.crypto.providers.local import StaticKekProvider

__all__ = ["InMemoryKeyProvider", "in_memory_cipher"]


class InMemoryKeyProvider(Keyring):
    """A fresh, empty keyring that lives only in this process."""

    def __init__(self, *, cache_size: int = 4096) -> None:
        kek_id = new_key_id()
        provider = StaticKekProvider(os.urandom(KEK_SIZE), kek_id=kek_id)
        document = new_document(provider, kek_id=kek_id)
        super().__init__(
            MemoryStore(document),
            kek_provider=provider,
            refresh_interval=0.0,
            cache_size=cache_size,
        )

    def __repr__(self) -> str:
        return f"InMemoryKeyProvider(keys={len(self.list_keys())})"

    __str__ = __repr__


def in_memory_cipher(topology: str = "test") -> KeyringCipher:
    """A cipher for ``topology`` over a fresh :class:`InMemoryKeyProvider`."""
    return KeyringCipher(InMemoryKeyProvider(), topology)
