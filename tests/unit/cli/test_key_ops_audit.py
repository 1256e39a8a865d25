"""``keys rotate`` / ``destroy`` / ``rotate-kek`` write signed, chained audit events
(streamsec/cli/audit_out.py): an intent before the change, the outcome after, and
``audit verify`` checks them; deleting one from the trail is caught."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from streamsec.cli import audit_out
from streamsec.cli.main import main
from streamsec.crypto.keyring_setup import create_keyring, open_keyring
from streamsec.crypto.keys import KeyPurpose, KeyState
from streamsec.events.signing import FileSigner, public_key_b64
from streamsec.settings import Settings

OP = "io.streamsec.key.operation"


@pytest.fixture
def keyring(tmp_path: Path) -> Path:
    path = tmp_path / "keyring.json"
    create_keyring(path)  # a local KEK file beside it
    return path


@pytest.fixture
def trust(tmp_path: Path, capsys: Any) -> Path:
    """A trust store certifying this test's audit signing key for the key commands."""
    store, op = tmp_path / "trust.json", tmp_path / "operator.key"
    assert main(["audit", "operator-key", "--out", str(op), "--trust-store", str(store)]) == 0
    signer = FileSigner.open(Path(os.environ["STREAMSEC_AUDIT_SIGNING_KEY"]), create=True)
    assert main(["audit", "certify", "--operator-key", str(op), "--trust-store", str(store),
                 "--public-key", public_key_b64(signer.public_key()),
                 "--writers", "keys-*"]) == 0  # fmt: skip
    capsys.readouterr()
    return store


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _ops(events: list[dict[str, Any]]) -> list[tuple[str, str, str, str | None]]:
    return [(e["data"]["operation"], e["data"]["outcome"], e["data"]["key"]["id"],
             e["data"]["key"]["kek_id"]) for e in events if e["type"] == OP]  # fmt: skip


def _kinds(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"].rsplit(".", 1)[-1] for e in events]


def _verify(path: Path, trust: Path) -> int:
    return main(["audit", "verify", "--in", str(path), "--trust-store", str(trust)])


def test_rotate_writes_intent_and_outcome_and_verifies(
    keyring: Path, tmp_path: Path, trust: Path, capsys: Any
) -> None:
    old = open_keyring(Settings(keyring=keyring)).current_key("orders", KeyPurpose.ENCRYPT)
    audit = tmp_path / "audit.jsonl"
    argv = ["keys", "rotate", "--keyring", str(keyring), "-t", "orders", "--audit-out",
            str(audit)]  # fmt: skip
    assert main(argv) == 0
    new = open_keyring(Settings(keyring=keyring)).current_key("orders", KeyPurpose.ENCRYPT)
    events = _events(audit)
    assert _kinds(events) == ["operation", "checkpoint", "operation", "checkpoint", "digest"]
    assert _ops(events) == [("rotate", "requested", old.info.id, "default"),
                            ("rotate", "ok", new.info.id, "default")]  # fmt: skip
    text = audit.read_text()
    assert old.material.hex() not in text and new.material.hex() not in text
    assert _verify(audit, trust) == 0


def test_destroy_writes_intent_and_outcome_and_deleting_either_fails_verify(
    keyring: Path, tmp_path: Path, trust: Path, capsys: Any
) -> None:
    ring = open_keyring(Settings(keyring=keyring))
    key = ring.current_key("orders", KeyPurpose.ENCRYPT, "alice")
    audit = tmp_path / "audit.jsonl"
    argv = ["keys", "destroy", "--keyring", str(keyring), key.info.id, "--yes",
            "--audit-out", str(audit)]  # fmt: skip
    assert main(argv) == 0
    assert "audit: 1 key operation event(s) written to" in capsys.readouterr().out
    events = _events(audit)
    assert _ops(events) == [("destroy", "requested", key.info.id, "default"),
                            ("destroy", "ok", key.info.id, "default")]  # fmt: skip
    text = audit.read_text()
    assert "alice" not in text and key.material.hex() not in text
    assert key.info.subject is not None and key.info.subject not in text  # not even hashed
    assert _verify(audit, trust) == 0
    # the attack: someone with write access to the trail removes the destruction
    for index in (i for i, e in enumerate(events) if e["type"] == OP):
        tampered = tmp_path / f"tampered-{index}.jsonl"
        tampered.write_text("".join(json.dumps(e) + "\n" for j, e in enumerate(events)
                                    if j != index))  # fmt: skip
        assert _verify(tampered, trust) == 1, f"deleting event {index} went unnoticed"


def test_rotate_kek_names_the_kek_versions_and_verifies(
    keyring: Path, tmp_path: Path, trust: Path
) -> None:
    open_keyring(Settings(keyring=keyring)).current_key("orders", KeyPurpose.ENCRYPT)
    audit = tmp_path / "audit.jsonl"
    argv = ["keys", "rotate-kek", "--keyring", str(keyring), "--yes", "--audit-out", str(audit)]
    assert main(argv) == 0
    events = _events(audit)
    assert _kinds(events) == ["operation", "checkpoint", "operation", "operation",
                              "checkpoint", "digest"]  # fmt: skip
    assert _ops(events) == [
        ("rotate-kek", "requested", "default", "default@1"),
        ("rotate-kek", "ok", "default", "default@2"),
        ("destroy-kek-version", "ok", "default", "default@1"),
    ]
    assert _verify(audit, trust) == 0


def test_an_unwritable_trail_changes_nothing(
    keyring: Path, tmp_path: Path, capsys: Any
) -> None:
    key = open_keyring(Settings(keyring=keyring)).current_key("orders", KeyPurpose.ENCRYPT)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    where = str(blocker / "audit.jsonl")
    argv = ["keys", "destroy", "--keyring", str(keyring), key.info.id, "--yes",
            "--audit-out", where]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "nothing was changed" in err and where in err
    assert open_keyring(Settings(keyring=keyring)).key_info(key.info.id).state is KeyState.ACTIVE


def test_an_undelivered_outcome_exits_1_and_hands_the_events_over(
    keyring: Path, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = open_keyring(Settings(keyring=keyring)).current_key("orders", KeyPurpose.ENCRYPT)
    audit = tmp_path / "audit.jsonl"
    real, calls = audit_out.deliver, []

    def second_fails(sink: Any, events: Any) -> None:
        calls.append(len(events))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(sink, events)

    monkeypatch.setattr(audit_out, "deliver", second_fails)
    argv = ["keys", "destroy", "--keyring", str(keyring), key.info.id, "--yes",
            "--audit-out", str(audit)]  # fmt: skip
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert "not written to" in err and str(audit) in err
    printed = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert _ops(printed) == [("destroy", "ok", key.info.id, "default")]
    assert _ops(_events(audit)) == [("destroy", "requested", key.info.id, "default")]
    assert open_keyring(Settings(keyring=keyring)).key_info(key.info.id).state is (
        KeyState.DESTROYED
    )
