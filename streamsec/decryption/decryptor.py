"""Restore encrypted values: every whole-value envelope gets back its original JSON
value and type, every envelope inside free text its original text. Masked,
redacted and hashed values stay as they are: they cannot be reversed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamsec.actions.base import ActionContext
from streamsec.actions.encrypt import decrypt_text, decrypt_value, is_envelope
from streamsec.crypto.base import FieldCipher
from streamsec.protection.applier import copy_json
from streamsec.protection.protector import KEY_PATH
from streamsec.records.paths import Location, format_path, iter_leaves, set_at
from streamsec.settings import Settings
from streamsec.topology.loader import load_topology
from streamsec.topology.model import Topology

__all__ = ["Decryptor", "PathFilter"]

PathFilter = Callable[[str], bool]
"""Decides by schema path whether a field may be decrypted (role-based access)."""


class Decryptor:
    def __init__(
        self, topology: Topology, *, cipher: FieldCipher, allow: PathFilter | None = None
    ) -> None:
        self.topology = topology
        self.cipher = cipher
        self.allow = allow

    @classmethod
    def from_topology(
        cls, topology: Topology | str | Path, *, settings: Settings | None = None,
        cipher: FieldCipher | None = None, allow: PathFilter | None = None,
    ) -> Decryptor:
        topo = topology if isinstance(topology, Topology) else load_topology(topology)
        if cipher is None:
            from streamsec.crypto import open_cipher

            cipher = open_cipher(settings or Settings(), topo.name)
        return cls(topo, cipher=cipher, allow=allow)

    def _ctx(self, path: str) -> ActionContext:
        return ActionContext(topology=self.topology.name, path=path, entity_type=None,
                             cipher=self.cipher)

    def encrypted_paths(self, record: dict[str, Any]) -> list[tuple[Location, str]]:
        return [
            (loc, format_path(loc)) for loc, value in iter_leaves(record)
            if isinstance(value, str) and "ssec:" in value
        ]

    def decrypt(self, record: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``record`` with every permitted envelope decrypted.

        Raises :class:`~streamsec.errors.DecryptionError` (with the path) when a
        ciphertext was tampered with, moved, or its key is missing or destroyed.
        """
        out: dict[str, Any] = copy_json(record)
        for location, path in self.encrypted_paths(out):
            if self.allow is not None and not self.allow(path):
                continue
            value = _get(out, location)
            ctx = self._ctx(path)
            restored = decrypt_value(value, ctx) if is_envelope(value) else decrypt_text(value, ctx)
            set_at(out, location, restored)
        return out

    def decrypt_key(self, key: str) -> str:
        if not is_envelope(key):
            return key
        return self.cipher.decrypt(key, path=KEY_PATH).decode()


def _get(record: dict[str, Any], location: Location) -> Any:
    node: Any = record
    for segment in location:
        node = node[segment]
    return node
