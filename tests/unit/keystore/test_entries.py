"""Registry entries: the MAC is checked over the very bytes that are parsed."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from streamsec.crypto.integrity import entry_mac
from streamsec.crypto.keyfile import KeyRecord
from streamsec.crypto.keys import KeyPurpose, KeyState
from streamsec.keystore.entries import key_record, open_entry

KEY = os.urandom(32)
RECORD = {
    "id": "kabcdefghij", "purpose": "encrypt", "owner": "orders", "subject": "ab" * 16,
    "version": 2, "state": "active", "created": "2026-01-01T00:00:00Z", "destroyed": None,
    "wrapped": "d3JhcHBlZA", "kek": "pci", "kek_version": "3",
}  # fmt: skip


def _wire(body: dict[str, Any], key: bytes = KEY) -> bytes:
    """As the registry's producer writes it: canonical JSON with the mac."""
    entry = {**body, "mac": entry_mac(key, body)}
    return json.dumps(entry, separators=(",", ":"), sort_keys=True).encode()


def test_a_key_entry_opens_and_matches_the_validated_record() -> None:
    raw = _wire({"record": RECORD, "rev": 1})
    assert raw.startswith(b'{"mac":"')  # the fast path
    entry = open_entry(KEY, raw)
    assert entry == {"record": RECORD, "rev": 1}
    fast = key_record(dict(entry["record"]))
    assert fast == KeyRecord.model_validate(RECORD)
    assert fast.model_dump(mode="json") == KeyRecord.model_validate(RECORD).model_dump(mode="json")
    assert fast.slot == ("orders", KeyPurpose.ENCRYPT, "ab" * 16, "pci")
    assert fast.model_copy(update={"state": KeyState.RETIRED}).state is KeyState.RETIRED
    assert fast.state is KeyState.ACTIVE


def test_the_header_opens_the_general_way() -> None:
    body = {"document": {"kek": {"id": "kx"}}, "erased": 3, "rev": 7}
    raw = _wire(body)
    assert not raw.startswith(b'{"mac":"')
    assert open_entry(KEY, raw) == body


@pytest.mark.parametrize(
    "edit",
    [
        lambda raw: raw.replace(b'"rev":1', b'"rev":9'),  # a later revision, forged
        lambda raw: raw.replace(b'"active"', b'"retired"'),
        lambda raw: raw[:10] + (b"0" if raw[10:11] != b"0" else b"1") + raw[11:],  # the mac
        lambda raw: raw[:8] + b"zz" + raw[10:],  # not hex
        lambda raw: raw + b" ",  # bytes the MAC does not cover
        lambda raw: _wire({"record": RECORD, "rev": 1}, key=os.urandom(32)),  # no KEK
    ],
)
def test_an_edited_or_foreign_entry_is_refused(edit: Any) -> None:
    raw = _wire({"record": RECORD, "rev": 1})
    assert open_entry(KEY, raw) is not None
    assert open_entry(KEY, edit(raw)) is None


def test_a_destroyed_entry_and_a_malformed_one() -> None:
    gone = key_record({**RECORD, "state": "destroyed", "wrapped": None,
                       "destroyed": "2026-01-02T00:00:00Z"})  # fmt: skip
    assert gone.state is KeyState.DESTROYED and gone.destroyed is not None
    with pytest.raises(ValueError):
        key_record({**RECORD, "state": "destroyed"})  # material left in a tombstone
    with pytest.raises(ValueError):
        key_record({**RECORD, "extra": 1})
    with pytest.raises(KeyError):
        key_record({**RECORD, "state": "lost"})
    with pytest.raises(TypeError):
        key_record({**RECORD, "version": "2"})
    with pytest.raises(AttributeError):  # the store refuses it as "not a key entry"
        key_record([])  # type: ignore[arg-type]
