"""Audit events for the key operations a keyring makes: created, rotated, destroyed.

:class:`KeyAudit` listens to a :class:`~streamsec.crypto.keyring.Keyring`
(``keyring.listeners``) and turns each committed change into
``io.streamsec.key.operation`` events built by
:func:`streamsec.events.audit.key_operation` (one per key version), so the audit
trail signs them like any other event. The worker seals them into its audit
chain with the next record event (:class:`~streamsec.pipeline.events.RecordEvents`).
Events carry key metadata only: id, owner, purpose, the KEK name and version.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from streamsec.crypto.keys import KeyInfo
from streamsec.events.audit import key_operation

__all__ = ["KeyAudit"]

Event = dict[str, Any]

_OPERATIONS = {"created": "create", "rotated": "rotate", "destroyed": "destroy"}


class KeyAudit:
    """Collects unsealed key-operation events until :meth:`take` (not thread-safe:
    the keyring's owner thread both changes keys and takes the events)."""

    def __init__(self, actor: str, provider: str = "keyring") -> None:
        self.actor = actor
        self.provider = provider
        self._pending: list[Event] = []

    def __call__(self, kind: str, infos: Sequence[KeyInfo]) -> None:
        operation = _OPERATIONS.get(kind, kind)
        for info in infos:
            self._pending.append(key_operation(
                worker_id=self.actor, operation=operation, key_id=info.id,
                provider=self.provider, purpose=str(info.purpose), owner=info.owner,
                kek_id=info.kek,
            ))  # fmt: skip

    def take(self) -> list[Event]:
        taken, self._pending = self._pending, []
        return taken
