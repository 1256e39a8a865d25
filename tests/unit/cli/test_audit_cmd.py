from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path
from typing import Any

import pytest

from streamsec.cli.audit_cmd import register
from streamsec.errors import ConfigError, SettingsError, StreamsecError
from streamsec.events.chain import AuditChain
from streamsec.events.cloudevents import EventType, new_event
from tests.unit.events.conftest import AUDIT_KEY, make_stream_events


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="streamsec")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def _write(tmp_path: Path, events: list[Any]) -> Path:
    path = tmp_path / "audit.jsonl"
    lines = [e if isinstance(e, str) else json.dumps(e) for e in events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "audit.key"
    path.write_text(base64.b64encode(AUDIT_KEY).decode() + "\n", encoding="ascii")
    return path


def test_intact_file_exits_zero(tmp_path: Path, key_file: Path, capsys: Any) -> None:
    path = _write(tmp_path, make_stream_events())
    assert run(["audit", "verify", "--in", str(path), "--audit-key-file", str(key_file)]) == 0
    out = capsys.readouterr().out
    assert "audit verify: intact: 3 chains ok, 0 broken" in out
    assert "chain w1/0/run0: ok (15 events, closed)" in out


def test_tampered_file_names_the_first_broken_event(
    tmp_path: Path, key_file: Path, capsys: Any
) -> None:
    events: list[Any] = make_stream_events()
    target = events[7]
    target["data"]["record"]["offset"] += 1
    del events[20]
    events.insert(3, "{not json")
    path = _write(tmp_path, events)
    assert run(["audit", "verify", "--in", str(path), "--audit-key-file", str(key_file)]) == 1
    out = capsys.readouterr().out
    assert "line 4: not a JSON object" in out
    assert f"chain {target['chain']}: BROKEN at seq {target['seq']} at line 9: modified" in out
    assert "TAMPERED" in out


def test_json_report(tmp_path: Path, key_file: Path, capsys: Any) -> None:
    events = make_stream_events()
    dropped = events.pop(-1)
    path = _write(tmp_path, events)
    argv = ["audit", "verify", "--in", str(path), "--audit-key-file", str(key_file), "--json"]
    assert run(argv) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    broken = [c for c in report["chains"] if not c["ok"]]
    assert [c["chain"] for c in broken] == [dropped["chain"]]
    assert broken[0]["problems"][0]["reason"] == "truncated"
    assert run([*argv, "--allow-open"]) == 0


def test_keys_come_from_the_keyring(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    from streamsec.crypto.keyring_setup import create_keyring
    from streamsec.crypto.keys import KeyPurpose

    monkeypatch.delenv("STREAMSEC_KEK", raising=False)
    keyring_path = tmp_path / "keyring.json"
    keyring = create_keyring(keyring_path)
    key = keyring.current_key("payments", KeyPurpose.AUDIT)
    chain = AuditChain(key.material, key_id=key.id, worker_id="w", partition=0)
    events = [
        *chain.append(new_event(EventType.RECORD_PROTECTED, source="/s", data={})),
        chain.close(),
    ]
    path = _write(tmp_path, events)
    assert run(["audit", "verify", "--in", str(path), "--keyring", str(keyring_path)]) == 0
    # an encryption key is no audit key: events sealed with one do not verify
    other = keyring.current_key("payments", KeyPurpose.ENCRYPT)
    chain = AuditChain(other.material, key_id=other.id, worker_id="w", partition=0)
    path = _write(tmp_path, [chain.close()])
    assert run(["audit", "verify", "--in", str(path), "--keyring", str(keyring_path)]) == 1
    assert "no audit key" in capsys.readouterr().out


@pytest.mark.parametrize("content", ["not base64!!", base64.b64encode(b"short").decode()])
def test_bad_key_file_is_a_config_error(tmp_path: Path, content: str) -> None:
    key_file = tmp_path / "k"
    key_file.write_text(content, encoding="ascii")
    path = _write(tmp_path, make_stream_events())
    with pytest.raises(ConfigError) as info:
        run(["audit", "verify", "--in", str(path), "--audit-key-file", str(key_file)])
    assert content not in str(info.value)


def test_topic_without_a_broker_is_a_settings_error(key_file: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("STREAMSEC_BROKER", raising=False)
    with pytest.raises(SettingsError, match="broker"):
        run(["audit", "verify", "--topic", "streamsec.audit", "--audit-key-file", str(key_file)])


def test_unreachable_broker_is_a_streamsec_error(key_file: Path) -> None:
    argv = [
        "audit",
        "verify",
        "--topic",
        "streamsec.audit",
        "--bootstrap",
        "127.0.0.1:1",
        "--audit-key-file",
        str(key_file),
        "--timeout",
        "1",
    ]
    with pytest.raises(StreamsecError):
        run(argv)


def test_a_source_is_required(key_file: Path) -> None:
    with pytest.raises(SystemExit):
        run(["audit", "verify", "--audit-key-file", str(key_file)])
