"""Every key operation of a keyring becomes a ``key.operation`` event (metadata only)."""

from __future__ import annotations

import json

from streamsec.crypto.keys import KeyPurpose
from streamsec.events.key_audit import KeyAudit
from streamsec.testing.keys import InMemoryKeyProvider


def test_create_rotate_destroy_and_shred_are_audited() -> None:
    provider = InMemoryKeyProvider()
    audit = KeyAudit("ops")
    provider.listeners.append(audit)
    key = provider.current_key("t", KeyPurpose.ENCRYPT)
    rotated = provider.rotate("t", KeyPurpose.ENCRYPT)
    provider.destroy(key.id)
    provider.destroy_subject("t", "C-1")
    events = audit.take()
    ops = [(e["data"]["operation"], e["data"]["key"]["id"]) for e in events]
    assert ops[:3] == [("create", key.id), ("rotate", rotated.id), ("destroy", key.id)]
    assert {op for op, _ in ops[3:]} == {"destroy"}  # the subject's tombstones
    assert all(e["type"] == "io.streamsec.key.operation" for e in events)
    assert "C-1" not in json.dumps(events)
    assert audit.take() == []
