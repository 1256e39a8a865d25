"""``keys forget``, ``keys prove-forgotten`` and ``rekey`` over files (no broker)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from streamsec.cli.main import main
from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyring_setup import create_keyring
from streamsec.crypto.keys import KeyPurpose, KeyState
from streamsec.decryption.decryptor import Decryptor
from streamsec.events.cloudevents import EventType
from streamsec.events.signing import FileSigner
from streamsec.events.trust import TrustStore
from streamsec.events.verify import verify
from streamsec.protection.protector import Protector
from streamsec.testing import FakeDetector
from tests.unit.lifecycle.conftest import CRM, KNOWN, crm_topology, customer

N = 10


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    keyring_path = tmp_path / "keyring.json"
    ring = create_keyring(keyring_path)
    topo_path = tmp_path / "crm.yaml"
    topo_path.write_text(CRM.format(subject_rule="{action: encrypt, deterministic: true}"))
    topology = crm_topology("{action: encrypt, deterministic: true}")
    protector = Protector(topology, detector=FakeDetector(KNOWN),
                          cipher=KeyringCipher(ring, "crm"))
    data = tmp_path / "protected.jsonl"
    data.write_text("".join(json.dumps(protector.protect(customer(i)).record) + "\n"
                            for i in range(N)))
    return keyring_path, topo_path, data


def _ring(path: Path):  # type: ignore[no-untyped-def]
    from streamsec.crypto.keyring_setup import open_keyring
    from streamsec.settings import Settings

    return open_keyring(Settings(keyring=path), refresh_interval=0.0)


def test_forget_then_prove(setup: tuple[Path, Path, Path], tmp_path: Path,
                           capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    keyring, topo, data = setup
    base = ["--keyring", str(keyring), "-t", str(topo)]
    prove = ["keys", "prove-forgotten", *base, "--in", str(data), "--subject", "C-0004", "--json"]
    assert main(prove) == 1  # not forgotten yet
    before = json.loads(capsys.readouterr().out)
    assert before["subject"]["decrypted"] == before["subject"]["encrypted_values"] == 5

    assert main(["keys", "forget", *base, "--subject", "C-0004"]) == 2  # no --yes
    audit = tmp_path / "audit.jsonl"
    monkeypatch.setattr("sys.stdin", io.StringIO("C-0004\n"))
    code = main(["keys", "forget", *base, "--subject", "-", "--yes", "--audit-out", str(audit)])
    out = capsys.readouterr().out
    assert code == 0
    assert "C-0004" not in out
    events = [json.loads(line) for line in audit.read_text().splitlines()]
    op, checkpoint, digest = (EventType.KEY_OPERATION, EventType.AUDIT_CHECKPOINT,
                              EventType.AUDIT_DIGEST)  # fmt: skip
    assert [e["type"] for e in events] == [
        EventType.SUBJECT_ERASED, checkpoint, digest,  # the erasure
        op, checkpoint, op, op, checkpoint, digest,  # the KEK rotation: intent, outcome
    ]
    assert [(e["data"]["operation"], e["data"]["outcome"]) for e in events if e["type"] == op] == [
        ("rotate-kek", "requested"), ("rotate-kek", "ok"), ("destroy-kek-version", "ok"),
    ]
    assert "C-0004" not in audit.read_text()
    signer = FileSigner.open(Path(os.environ["STREAMSEC_AUDIT_SIGNING_KEY"]), create=False)
    assert verify(events, TrustStore.of_signers(signer.public_key())).ok

    assert main(prove) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["holds"] is True
    assert report["subject"] == {"records": 1, "encrypted_values": 5, "decrypted": 0}
    assert report["others"] == {"records": N - 1, "encrypted_values": 5 * (N - 1),
                                "decrypted": 5 * (N - 1)}


def test_forget_refuses_a_topology_without_subject(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    create_keyring(tmp_path / "k.json")
    topo = tmp_path / "t.yaml"
    topo.write_text("name: t\ninput: a\noutput: b\n")
    code = main(["keys", "forget", "--keyring", str(tmp_path / "k.json"), "-t", str(topo),
                 "--subject", "x", "--yes", "--audit-out", str(tmp_path / "a.jsonl")])
    assert code == 2
    assert "no data subject" in capsys.readouterr().err


def test_rotate_rekey_destroy_old_decrypt_all(setup: tuple[Path, Path, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    keyring, topo, data = setup
    ring = _ring(keyring)
    for purpose in (KeyPurpose.ENCRYPT, KeyPurpose.DETERMINISTIC):
        ring.rotate("crm", purpose, "C-0001")
    out = tmp_path / "rekeyed.jsonl"
    assert main(["rekey", "--keyring", str(keyring), "-t", str(topo),
                 "--in", str(data), "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().err)
    assert summary["rekeyed"] == 5  # one subject's id, email, name and 2 note entities
    assert summary["already_current"] == 5 * (N - 1)
    assert summary["failed"] == 0
    retired = [k.id for k in ring.list_keys("crm") if k.state is KeyState.RETIRED]
    assert sorted(summary["releasable_key_ids"]) == sorted(retired)
    for key_id in retired:
        assert main(["keys", "destroy", "--keyring", str(keyring), key_id, "--yes",
                     "--audit-out", str(tmp_path / "audit.jsonl")]) == 0  # fmt: skip
    decryptor = Decryptor(crm_topology(), cipher=KeyringCipher(_ring(keyring), "crm"))
    lines = out.read_text().splitlines()
    assert len(lines) == N
    for i, line in enumerate(lines):
        restored = decryptor.decrypt(json.loads(line))
        assert restored["customer_id"] == f"C-{i:04d}"
        assert restored["note"] == customer(i)["note"]


def test_rekey_reports_bad_records_and_keeps_them(setup: tuple[Path, Path, Path], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    keyring, topo, data = setup
    lines = data.read_text().splitlines()
    tampered = json.loads(lines[0])
    tampered["name"] = tampered["email"]
    data.write_text("\n".join([json.dumps(tampered), *lines[1:], "[1]"]) + "\n")
    _ring(keyring).rotate("crm", KeyPurpose.DETERMINISTIC, "C-0000")
    out = tmp_path / "rekeyed.jsonl"
    code = main(["rekey", "--keyring", str(keyring), "-t", str(topo),
                 "--in", str(data), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert "line 1: not re-keyed" in err
    assert "path=name" in err
    assert "line 11" in err
    assert "do not destroy" in err
    written = out.read_text().splitlines()
    assert json.loads(written[0]) == tampered
    assert len(written) == N + 1


def test_rekey_needs_one_source(setup: tuple[Path, Path, Path]) -> None:
    keyring, topo, data = setup
    assert main(["rekey", "--keyring", str(keyring), "-t", str(topo), "--in", str(data)]) == 2
    assert main(["rekey", "--keyring", str(keyring), "-t", str(topo), "--in", str(data),
                 "--from-topic", "a", "--to-topic", "b"]) == 2
