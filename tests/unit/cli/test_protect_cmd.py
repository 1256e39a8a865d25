"""``streamsec protect``: the worker's pipeline between a file source and a file sink."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from streamsec.cli.main import main
from streamsec.crypto.keyring_setup import create_keyring
from streamsec.events.signing import FileSigner
from streamsec.events.trust import TrustStore
from streamsec.events.verify import verify
from streamsec.testing import FakeDetector

TOPOLOGY = """
name: crm
input: raw.crm
output: protected.crm
subject: customer_id
encryption: {missing_subject: shared}
policy:
  entities:
    EMAIL_ADDRESS: {action: encrypt, deterministic: true}
fields:
  customer_id: keep
  name: {action: encrypt, entity: PERSON}
roles:
  names: {paths: [name]}
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setattr(
        "streamsec.detection.build_detector", lambda *a, **k: FakeDetector(fail_on="BOOM")
    )
    keyring = tmp_path / "keyring.json"
    create_keyring(keyring)
    topology = tmp_path / "crm.yaml"
    topology.write_text(TOPOLOGY)
    return keyring, topology


def run(env: tuple[Path, Path], tmp_path: Path, lines: list[str], *extra: str) -> int:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(f"{line}\n" for line in lines))
    keyring, topology = env
    return main(["protect", "-t", str(topology), "--keyring", str(keyring), "--in", str(source),
                 "--out", str(tmp_path / "out.jsonl"), *extra])


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def record(i: int, **more: Any) -> str:
    return json.dumps({"customer_id": f"C-{i}", "name": "Ann", "mail": f"a{i}@x.io", **more})


def test_bad_lines_without_a_dead_letter_file_are_reported_and_fail_the_run(
    env: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(env, tmp_path, [record(1), "{bad", record(2, note="BOOM")])
    err = capsys.readouterr().err
    assert code == 1
    assert "line 2: dead letter (decode)" in err
    assert "line 3: dead letter (detection)" in err
    assert "--dead-letter" in err and "BOOM" not in err
    assert [r["customer_id"] for r in read(tmp_path / "out.jsonl")] == ["C-1"]


def test_with_a_dead_letter_file_bad_lines_go_there_and_the_run_succeeds(
    env: tuple[Path, Path], tmp_path: Path
) -> None:
    dead = tmp_path / "dead.jsonl"
    assert run(env, tmp_path, [record(1), "{bad", record(2)], "--dead-letter", str(dead)) == 0
    assert read(dead) == [{"line": 2, "reason": "decode", "raw": "{bad"}]
    out = read(tmp_path / "out.jsonl")
    assert [r["customer_id"] for r in out] == ["C-1", "C-2"]
    assert all(r["mail"].startswith("ssec:v2:") and r["name"].startswith("ssec:v2:") for r in out)


def test_the_output_size_check_of_the_pipeline_applies(
    env: tuple[Path, Path], tmp_path: Path
) -> None:
    dead = tmp_path / "dead.jsonl"
    big = json.dumps({"customer_id": "C-1", "name": "A" * 800_000})  # base64 grows it by 4/3
    assert len(big) < 1_000_000
    assert run(env, tmp_path, [big, record(2)], "--dead-letter", str(dead)) == 0
    assert [d["reason"] for d in read(dead)] == ["too_large"]
    assert [r["customer_id"] for r in read(tmp_path / "out.jsonl")] == ["C-2"]


def test_keyed_lines_protect_the_record_key_and_keep_it_for_the_tombstone(
    env: tuple[Path, Path], tmp_path: Path
) -> None:
    lines = [
        json.dumps({"key": "a1@x.io", "value": json.loads(record(1))}),
        json.dumps({"key": "a1@x.io", "value": None}),
        json.dumps({"key": "C-2", "value": json.loads(record(2))}),
    ]
    assert run(env, tmp_path, lines, "--keyed") == 0
    first, tomb, plain = read(tmp_path / "out.jsonl")
    assert first["key"].startswith("ssec:v2:") and "a1@x.io" not in first["key"]
    assert tomb == {"key": first["key"], "value": None}
    assert plain["key"] == "C-2"


def test_audit_and_lineage_files_are_the_pipelines_events(
    env: tuple[Path, Path], tmp_path: Path
) -> None:
    audit, lineage = tmp_path / "audit.jsonl", tmp_path / "lineage.jsonl"
    dead = tmp_path / "dead.jsonl"
    code = run(env, tmp_path, [record(1), "{bad", record(2)], "--dead-letter", str(dead),
               "--audit", str(audit), "--lineage", str(lineage))
    assert code == 0
    events = read(audit)
    kinds = [e["type"].rsplit(".", 1)[-1] for e in events]
    assert kinds[-3:] == ["checkpoint", "checkpoint", "digest"]  # batch, final, digest
    listed = [r for e in events if "records" in e["data"] and "seq" in e
              and e["type"].endswith("records.batch") for r in e["data"]["records"]]
    assert [(r["offset"], r["outcome"]) for r in listed] == [
        (1, "protected"), (2, "dead_lettered"), (3, "protected"),
    ]
    signer = FileSigner.open(Path(os.environ["STREAMSEC_AUDIT_SIGNING_KEY"]), create=False)
    assert verify(events, TrustStore.of_signers(signer.public_key())).ok
    runs = [e["data"]["eventType"] for e in read(lineage)]  # CloudEvents, as on Kafka
    assert runs[0] == "START" and runs[-1] == "COMPLETE"
    text = audit.read_text() + lineage.read_text()
    assert "a1@x.io" not in text and "Ann" not in text


@pytest.mark.parametrize("tty", [True, False])
def test_a_progress_bar_on_stderr_only_on_a_terminal(
    tty: bool, env: tuple[Path, Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("streamsec.cli.progress.is_terminal", lambda: tty)
    assert run(env, tmp_path, [record(i) for i in range(20)]) == 0
    assert ("protecting" in capsys.readouterr().err) is tty
    assert len(read(tmp_path / "out.jsonl")) == 20


def test_every_value_the_decrypt_command_reads_is_audited_first(
    env: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run(env, tmp_path, [record(i) for i in range(3)]) == 0
    keyring, topology = env
    base = ["decrypt", "-t", str(topology), "--keyring", str(keyring),
            "--in", str(tmp_path / "out.jsonl"), "--out", str(tmp_path / "clear.jsonl")]
    monkeypatch.delenv("STREAMSEC_BROKER", raising=False)
    assert main([*base, "--as", "all"]) == 2  # nowhere to audit: nothing decrypted, written
    assert "--audit-out" in capsys.readouterr().err
    assert not (tmp_path / "clear.jsonl").read_text()

    audit = tmp_path / "decrypt-audit.jsonl"
    assert main([*base, "--audit-out", str(audit), "--as", "all"]) == 0
    assert [r["name"] for r in read(tmp_path / "clear.jsonl")] == ["Ann"] * 3
    events = read(audit)
    reads = [e for e in events if e["type"] == "io.streamsec.field.decrypted"]
    assert {(e["data"]["record"]["offset"], e["data"]["path"]) for e in reads} == {
        (line, path) for line in (1, 2, 3) for path in ("name", "mail")
    }
    assert {e["data"]["role"] for e in reads} == {"all"}
    assert "Ann" not in audit.read_text() and "a1@x.io" not in audit.read_text()
    signer = FileSigner.open(Path(os.environ["STREAMSEC_AUDIT_SIGNING_KEY"]), create=False)
    assert verify(events, TrustStore.of_signers(signer.public_key())).ok


def test_decrypt_needs_a_role_and_refuses_an_unknown_one(
    env: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    keyring, topology = env
    base = ["decrypt", "-t", str(topology), "--keyring", str(keyring), "--in", "/dev/null",
            "--audit-out", str(tmp_path / "a.jsonl")]
    assert main(base) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--as ROLE is required" in err
    assert main([*base, "--as", "decrypt-cli"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "'crm'" in err and "'decrypt-cli'" in err and "Traceback" not in err


def test_decrypt_as_a_role_leaves_what_it_is_not_granted_encrypted(
    env: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(env, tmp_path, [record(i) for i in range(3)]) == 0
    keyring, topology = env
    protected = read(tmp_path / "out.jsonl")
    audit = tmp_path / "audit.jsonl"
    clear = tmp_path / "clear.jsonl"
    base = ["decrypt", "-t", str(topology), "--keyring", str(keyring),
            "--in", str(tmp_path / "out.jsonl"), "--out", str(clear), "--audit-out", str(audit)]
    assert main([*base, "--as", "names"]) == 0
    out = read(clear)
    assert [r["name"] for r in out] == ["Ann"] * 3
    assert [r["mail"] for r in out] == [r["mail"] for r in protected]  # not granted
    assert "3 field(s) not granted to the role" in capsys.readouterr().err  # mail, a line each
    reads = [e["data"] for e in read(audit) if e["type"] == "io.streamsec.field.decrypted"]
    assert {(r["path"], r["role"]) for r in reads} == {("name", "names")}

    assert main([*base, "--as", "all"]) == 0  # the file is a trail: events appended
    err = capsys.readouterr().err
    assert "decrypting as 'all'" in err and "6 value(s) read in clear" in err
    assert [r["mail"] for r in read(clear)] == [f"a{i}@x.io" for i in range(3)]
    reads = [e["data"] for e in read(audit) if e["type"] == "io.streamsec.field.decrypted"]
    assert sorted({(r["path"], r["role"]) for r in reads}) == [
        ("mail", "all"), ("name", "all"), ("name", "names")]


def test_decrypt_role_is_a_deprecated_alias_of_as(
    env: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(env, tmp_path, [record(1)]) == 0
    keyring, topology = env
    clear = tmp_path / "clear.jsonl"
    assert main(["decrypt", "-t", str(topology), "--keyring", str(keyring), "--role", "names",
                 "--in", str(tmp_path / "out.jsonl"), "--out", str(clear),
                 "--audit-out", str(tmp_path / "a.jsonl")]) == 0
    assert "--role is deprecated, use --as" in capsys.readouterr().err
    assert read(clear)[0]["name"] == "Ann" and read(clear)[0]["mail"].startswith("ssec:")
