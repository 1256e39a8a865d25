from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from streamsec.cli.audit_cmd import register
from streamsec.errors import ConfigError, SettingsError, StreamsecError
from streamsec.events.canonical import wire
from streamsec.events.signing import FileSigner, public_key_b64
from tests.unit.events.conftest import SIGNER, make_stream_events


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="streamsec")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def _write(tmp_path: Path, events: list[Any]) -> Path:
    path = tmp_path / "audit.jsonl"
    lines = [e if isinstance(e, str) else wire(e).decode() for e in events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def trust(tmp_path: Path, capsys: Any) -> Path:
    """An operator key, a trust store, and the test writers' key certified for w*."""
    store = tmp_path / "trust.json"
    op = tmp_path / "operator.key"
    assert run(["audit", "operator-key", "--out", str(op), "--trust-store", str(store)]) == 0
    assert op.stat().st_mode & 0o777 == 0o600
    pub = public_key_b64(SIGNER.public_key())
    argv = ["audit", "certify", "--operator-key", str(op), "--trust-store", str(store),
            "--public-key", pub, "--writers", "w*"]
    assert run(argv) == 0
    assert "PRIVATE" not in store.read_text()
    capsys.readouterr()
    return store


def test_keygen_creates_a_private_key_once_and_prints_its_public_half(
    tmp_path: Path, capsys: Any
) -> None:
    key = tmp_path / "home" / "signing.key"
    assert run(["audit", "keygen", "--key", str(key)]) == 0
    first = capsys.readouterr().out.split()
    assert key.stat().st_mode & 0o777 == 0o600
    assert run(["audit", "keygen", "--key", str(key)]) == 0
    assert capsys.readouterr().out.split() == first  # the same key, not a new one
    signer = FileSigner.open(key, create=False)
    assert first == [signer.key_id, public_key_b64(signer.public_key())]
    key.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        FileSigner.open(key)


def test_intact_file_exits_zero(tmp_path: Path, trust: Path, capsys: Any) -> None:
    path = _write(tmp_path, make_stream_events())
    assert run(["audit", "verify", "--in", str(path), "--trust-store", str(trust)]) == 0
    out = capsys.readouterr().out
    assert "audit verify: intact: 3 chains ok, 0 broken, 0 abandoned" in out
    assert "chain w1/payments/0/run0: ok (15 events, closed)" in out


def test_tampered_file_names_the_first_broken_event(
    tmp_path: Path, trust: Path, capsys: Any
) -> None:
    events: list[Any] = make_stream_events()
    target = events[7]
    target["data"]["record"]["offset"] += 1
    events.insert(3, "{not json")
    path = _write(tmp_path, events)
    assert run(["audit", "verify", "--in", str(path), "--trust-store", str(trust)]) == 1
    out = capsys.readouterr().out
    assert "line 4: not a JSON object" in out
    assert f"chain {target['chain']}: BROKEN at seq {target['seq']} at line 9: modified" in out
    assert "TAMPERED" in out


def test_json_report(tmp_path: Path, trust: Path, capsys: Any) -> None:
    events = make_stream_events(close=False)
    path = _write(tmp_path, events)
    argv = ["audit", "verify", "--in", str(path), "--trust-store", str(trust), "--json"]
    assert run(argv) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["digests"] == 2
    assert {c["problems"][0]["reason"] for c in report["chains"]} == {"truncated"}
    assert run([*argv, "--allow-open"]) == 0


def test_the_operator_key_can_be_pinned(tmp_path: Path, trust: Path) -> None:
    path = _write(tmp_path, make_stream_events())
    operator = json.loads(trust.read_text())["operator"]["key_id"]
    base = ["audit", "verify", "--in", str(path), "--trust-store", str(trust)]
    assert run([*base, "--operator-key-id", operator]) == 0
    with pytest.raises(ConfigError, match="pinned"):
        run([*base, "--operator-key-id", "ed25519:0000000000000000"])


def test_a_certificate_not_signed_by_the_operator_is_refused(tmp_path: Path, trust: Path) -> None:
    doc = json.loads(trust.read_text())
    doc["certificates"][0]["writers"] = "*"  # widened by someone without the operator key
    trust.write_text(json.dumps(doc))
    path = _write(tmp_path, make_stream_events())
    with pytest.raises(ConfigError, match="not signed by the operator"):
        run(["audit", "verify", "--in", str(path), "--trust-store", str(trust)])


def test_operator_key_never_overwrites(tmp_path: Path, trust: Path) -> None:
    with pytest.raises(ConfigError, match="overwrite"):
        run(["audit", "operator-key", "--out", str(tmp_path / "x.key"),
             "--trust-store", str(trust)])


def test_no_trust_store_is_a_settings_error(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("STREAMSEC_AUDIT_TRUST_STORE", raising=False)
    path = _write(tmp_path, make_stream_events())
    with pytest.raises(SettingsError, match="trust store"):
        run(["audit", "verify", "--in", str(path)])


def test_topic_without_a_broker_is_a_settings_error(trust: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("STREAMSEC_BROKER", raising=False)
    with pytest.raises(SettingsError, match="broker"):
        run(["audit", "verify", "--topic", "streamsec.audit", "--trust-store", str(trust)])


def test_unreachable_broker_is_a_streamsec_error(trust: Path) -> None:
    argv = ["audit", "verify", "--topic", "streamsec.audit", "--bootstrap", "127.0.0.1:1",
            "--trust-store", str(trust), "--timeout", "1"]
    with pytest.raises(StreamsecError):
        run(argv)


def test_a_source_is_required(trust: Path) -> None:
    with pytest.raises(SystemExit):
        run(["audit", "verify", "--trust-store", str(trust)])
