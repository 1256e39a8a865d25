"""``streamsec keys`` (streamsec/cli/keys_cmd.py)."""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from streamsec.cli import keys_cmd
from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyring_setup import open_keyring
from streamsec.crypto.keys import KeyPurpose
from streamsec.errors import KeyAccessError
from streamsec.settings import Settings


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="streamsec")
    keys_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STREAMSEC_KEK", "STREAMSEC_KEYRING", "STREAMSEC_KEK_PROVIDER",
                 "STREAMSEC_KEK_FILE"):
        monkeypatch.delenv(name, raising=False)


def test_init_creates_private_file_and_refuses_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "k.json"
    assert run("keys", "init", "--keyring", str(path)) == 0
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "created keyring" in capsys.readouterr().out
    before = path.read_text()
    with pytest.raises(KeyAccessError, match="--force"):
        run("keys", "init", "--keyring", str(path))
    assert path.read_text() == before
    assert run("keys", "init", "--keyring", str(path), "--force") == 0
    assert path.read_text() != before


def test_init_uses_keyring_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "from-env.json"
    monkeypatch.setenv("STREAMSEC_KEYRING", str(path))
    assert run("keys", "init") == 0
    assert path.exists()


def test_init_with_external_kek(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kek = os.urandom(32)
    monkeypatch.setenv("STREAMSEC_KEK", base64.b64encode(kek).decode())
    path = tmp_path / "k.json"
    assert run("keys", "init", "--keyring", str(path)) == 0
    assert json.loads(path.read_text())["kek"]["material"] is None


def test_list_and_rotate_never_print_material(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "k.json"
    run("keys", "init", "--keyring", str(path))
    ring = open_keyring(Settings(keyring=path))
    key = ring.current_key("orders", KeyPurpose.ENCRYPT)
    capsys.readouterr()
    audit = ("--audit-out", str(tmp_path / "audit.jsonl"))
    assert run("keys", "rotate", "--keyring", str(path), "-t", "orders", *audit) == 0
    assert "version 2" in capsys.readouterr().out
    assert run("keys", "list", "--keyring", str(path), "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["owner"], r["purpose"], r["version"], r["state"]) for r in rows] == [
        ("orders", "encrypt", 1, "retired"),
        ("orders", "encrypt", 2, "active"),
    ]
    assert set(rows[0]) == {"id", "owner", "purpose", "subject", "version", "state", "created"}
    assert run("keys", "list", "--keyring", str(path)) == 0
    table = capsys.readouterr().out
    assert key.id in table
    assert "retired" in table
    for out in (table, json.dumps(rows)):
        assert key.material.hex() not in out
        assert base64.urlsafe_b64encode(key.material).decode().rstrip("=") not in out


def test_rotate_several_purposes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "k.json"
    run("keys", "init", "--keyring", str(path))
    run(
        "keys",
        "rotate",
        "--keyring",
        str(path),
        "-t",
        "s",
        "--purpose",
        "hash",
        "--purpose",
        "deterministic",
        "--audit-out",
        str(tmp_path / "audit.jsonl"),
    )
    purposes = {i.purpose for i in open_keyring(Settings(keyring=path)).list_keys("s")}
    assert purposes == {KeyPurpose.HASH, KeyPurpose.DETERMINISTIC}


def test_destroy_and_shred_need_confirmation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "k.json"
    run("keys", "init", "--keyring", str(path))
    ring = open_keyring(Settings(keyring=path))
    key = ring.current_key("orders", KeyPurpose.ENCRYPT)
    subject_key = ring.current_key("orders", KeyPurpose.ENCRYPT, "alice")
    trail = ("--audit-out", str(tmp_path / "ops.jsonl"))
    assert run("keys", "destroy", "--keyring", str(path), key.id, *trail) == 2
    assert run("keys", "destroy", "--keyring", str(path), key.id, "--yes", *trail) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("alice\n"))
    audit = tmp_path / "audit.jsonl"
    args = ("keys", "shred-subject", "--keyring", str(path), "-t", "orders", "--subject", "-",
            "--audit-out", str(audit))
    assert run(*args) == 2
    assert run(*args, "--yes") == 0
    assert "alice" not in capsys.readouterr().out
    states = {i.id: i.state for i in open_keyring(Settings(keyring=path)).list_keys()}
    assert states[key.id] == "destroyed"
    assert states[subject_key.id] == "destroyed"
    # audited as 'keys forget' is: subject.erased, its signed checkpoint, the signed digest
    events = [json.loads(line) for line in audit.read_text().splitlines()]
    assert events[0]["type"] == "io.streamsec.subject.erased"
    assert subject_key.id in events[0]["data"]["key_ids"]
    assert "alice" not in audit.read_text()
    kinds = [e["type"].rsplit(".", 1)[-1] for e in events]
    assert kinds[:3] == ["erased", "checkpoint", "digest"]
    # then the KEK rotation that follows the erasure, audited: intent, then outcome
    assert kinds[3:] == ["operation", "checkpoint", "operation", "operation", "checkpoint",
                         "digest"]  # fmt: skip


def test_rotate_kek_with_the_local_provider(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "keyring.json"
    assert run("keys", "init", "--keyring", str(path)) == 0
    assert json.loads(path.read_text())["kek"]["material"] is None  # kept apart
    kek_file = tmp_path / "kek.json"
    first = json.loads(kek_file.read_text())["keks"]["default"]["versions"]
    ring = open_keyring(Settings(keyring=path))
    token = KeyringCipher(ring, "t").encrypt(b"x", path="p")
    audit = ("--audit-out", str(tmp_path / "audit.jsonl"))
    assert run("keys", "rotate-kek", "--keyring", str(path), *audit) == 2  # needs --yes
    assert run("keys", "rotate-kek", "--keyring", str(path), "--yes", *audit) == 0
    assert "wrapped 1 data key(s) again under default v2" in capsys.readouterr().out
    after = json.loads(kek_file.read_text())["keks"]["default"]["versions"]
    assert list(after) == ["2"]
    assert first["1"] not in kek_file.read_text()  # version 1 is gone from the file
    fresh = KeyringCipher(open_keyring(Settings(keyring=path)), "t")
    assert fresh.decrypt(token, path="p") == b"x"
