"""Restore encrypted values: every whole-value envelope gets back its original JSON
value and type, every envelope inside free text its original text. Masked,
redacted and hashed values stay as they are: they cannot be reversed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamsec.crypto.aad import Binding
from streamsec.crypto.base import FieldCipher
from streamsec.decryption.envelopes import (
    Opener,
    ProtectedLeaf,
    open_value,
    protected_leaves,
    restore,
)
from streamsec.protection.applier import copy_json
from streamsec.protection.binding import RecordBinder
from streamsec.protection.protector import KEY_PATH
from streamsec.records.paths import set_at
from streamsec.settings import Settings
from streamsec.topology.loader import load_topology
from streamsec.topology.model import Topology

__all__ = ["Decryptor"]


class Decryptor:
    def __init__(self, topology: Topology, *, cipher: FieldCipher) -> None:
        self.topology = topology
        self.cipher = cipher
        self.binder = RecordBinder(topology)

    @classmethod
    def from_topology(
        cls, topology: Topology | str | Path, *, settings: Settings | None = None,
        cipher: FieldCipher | None = None,
    ) -> Decryptor:
        topo = topology if isinstance(topology, Topology) else load_topology(topology)
        if cipher is None:
            from streamsec.crypto import open_cipher

            cipher = open_cipher(settings or Settings(), topo.name)
        return cls(topo, cipher=cipher)

    def _opener(self, binding: Binding | None) -> Opener:
        return lambda token, path: self.cipher.decrypt(token, path=path, binding=binding)

    def _restore(
        self, leaf: ProtectedLeaf, binding: Binding | None,
        reads: list[tuple[str, str]] | None = None,
    ) -> Any:
        """``leaf`` restored, its envelopes opened with ``binding`` (see
        :mod:`streamsec.protection.binding`; ``None`` for a record key); ``reads``
        gets what was read in clear, for the audit trail."""
        slots = open_value(leaf, self._opener(binding))
        for slot in slots:
            if slot.error is not None:
                raise slot.error
        if reads is not None:  # what was read in clear, for the audit trail
            reads.extend(dict.fromkeys((leaf.path, s.key_id) for s in slots
                                       if s.plaintext is not None))
        return restore(leaf, slots)

    def decrypt(
        self, record: dict[str, Any], reads: list[tuple[str, str]] | None = None
    ) -> dict[str, Any]:
        """A copy of ``record`` with every envelope decrypted; ``reads`` gets one
        ``(path, key id)`` per value read in clear.

        Raises :class:`~streamsec.errors.DecryptionError` (with the path) when a
        ciphertext was tampered with, moved, or its key is missing or destroyed.
        """
        out: dict[str, Any] = copy_json(record)
        bindings = self.binder.of(record)
        for leaf in protected_leaves(record):
            set_at(out, leaf.location, self._restore(leaf, bindings.at(leaf.location), reads))
        return out

    def decrypt_key(self, key: str) -> str:
        """A record key in clear (an envelope in it decrypted)."""
        if "ssec:" not in key:
            return key
        value = self._restore(ProtectedLeaf((), KEY_PATH, key), None)
        return value if isinstance(value, str) else str(value)
