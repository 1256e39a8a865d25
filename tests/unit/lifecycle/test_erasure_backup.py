"""Erasure that survives backups, with the local KEK provider: ``keys forget`` rotates
the KEK (or records that it is due), and ``prove-forgotten --keystore-copy`` checks a
copy of the key store taken before the erasure. (The same with SoftHSM2 on the real
broker: tests/integration/keys/test_erasure_backup.py.)"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from streamsec.cli.main import main
from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyring_setup import create_keyring
from streamsec.lifecycle import kek_due
from streamsec.protection.protector import Protector
from streamsec.testing import FakeDetector
from tests.unit.lifecycle.conftest import CRM, KNOWN, crm_topology, customer

N = 10
SUBJECT = "C-0004"


@pytest.fixture
def setup(tmp_path: Path) -> tuple[list[str], Path, Path]:
    keyring = tmp_path / "keyring.json"
    ring = create_keyring(keyring)
    assert (tmp_path / "kek.json").exists()  # the local provider keeps the KEK apart
    topo = tmp_path / "crm.yaml"
    topo.write_text(CRM.format(subject_rule="keep"))
    protector = Protector(crm_topology("keep"), detector=FakeDetector(KNOWN),
                          cipher=KeyringCipher(ring, "crm"))  # fmt: skip
    data = tmp_path / "protected.jsonl"
    data.write_text("".join(json.dumps(protector.protect(customer(i)).record) + "\n"
                            for i in range(N)))  # fmt: skip
    backup = tmp_path / "backup" / "keyring.json"
    backup.parent.mkdir()
    shutil.copy2(keyring, backup)  # a backup of the key store, taken before the erasure
    return ["--keyring", str(keyring), "-t", str(topo)], data, backup


def _forget(base: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{SUBJECT}\n"))
    audit = tmp_path / "audit.jsonl"
    return main(["keys", "forget", *base, "--subject", "-", "--yes", "--audit-out", str(audit),
                 *extra])  # fmt: skip


def _prove(base: list[str], data: Path, backup: Path, capsys: pytest.CaptureFixture[str]
           ) -> tuple[int, dict[str, object]]:  # fmt: skip
    code = main(["keys", "prove-forgotten", *base, "--in", str(data), "--subject", SUBJECT,
                 "--keystore-copy", str(backup), "--json"])  # fmt: skip
    return code, json.loads(capsys.readouterr().out)


def test_forget_rotates_the_kek_so_a_backup_decrypts_nothing_of_the_subject(
    setup: tuple[list[str], Path, Path], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, data, backup = setup
    code, before = _prove(base, data, backup, capsys)
    assert code == 1 and before["keystore_copy"]["decrypted"] == 4  # type: ignore[index]
    assert _forget(base, tmp_path, monkeypatch) == 0
    assert "rotated the KEK" in capsys.readouterr().out
    code, report = _prove(base, data, backup, capsys)
    assert code == 0 and report["holds"] is True
    copy = report["keystore_copy"]
    assert copy == {"records": 0, "encrypted_values": 4, "decrypted": 0, "unlocks": False}
    others = report["others"]
    assert others["decrypted"] == others["encrypted_values"] == 4 * (N - 1)  # type: ignore[index]


def test_a_deferred_rotation_fails_the_proof_until_it_is_done(
    setup: tuple[list[str], Path, Path], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, data, backup = setup
    keyring = Path(base[1])
    assert _forget(base, tmp_path, monkeypatch, "--rotate-kek-within", "3600") == 0
    assert "KEK rotation due by" in capsys.readouterr().out
    assert kek_due.due(keyring) is not None
    code, report = _prove(base, data, backup, capsys)
    # what the review found: the subject's keys are destroyed, yet the backup reads them
    assert report["subject"]["decrypted"] == 0  # type: ignore[index]
    assert report["keystore_copy"]["decrypted"] == 4  # type: ignore[index]
    assert code == 1 and report["holds"] is False
    assert main(["keys", "rotate-kek", "--keyring", str(keyring), "--yes", "--if-due",
                 "--audit-out", str(tmp_path / "audit.jsonl")]) == 0
    assert kek_due.due(keyring) is None
    capsys.readouterr()
    code, report = _prove(base, data, backup, capsys)
    assert code == 0 and report["keystore_copy"]["decrypted"] == 0  # type: ignore[index]
    assert main(["keys", "rotate-kek", "--keyring", str(keyring), "--yes", "--if-due",
                 "--audit-out", str(tmp_path / "audit.jsonl")]) == 0
    assert "no KEK rotation is due" in capsys.readouterr().out


def test_a_fixed_kek_cannot_rotate_and_forget_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    import base64
    import os

    kek = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("STREAMSEC_KEK", kek)
    keyring = tmp_path / "keyring.json"
    assert main(["keys", "init", "--keyring", str(keyring)]) == 0
    topo = tmp_path / "crm.yaml"
    topo.write_text(CRM.format(subject_rule="keep"))
    base = ["--keyring", str(keyring), "-t", str(topo)]
    assert _forget(base, tmp_path, monkeypatch) == 1
    assert "could not be rotated" in capsys.readouterr().err
    assert kek_due.due(keyring) is not None  # still owed


def test_schedule_keeps_the_earliest_deadline(tmp_path: Path) -> None:
    keyring = tmp_path / "keyring.json"
    first = kek_due.schedule(keyring, 60)
    assert kek_due.schedule(keyring, 3600) == first
    assert kek_due.schedule(keyring, 1) < first
    assert oct(kek_due.due_file(keyring).stat().st_mode & 0o777) == "0o600"
    kek_due.clear(keyring)
    assert kek_due.due(keyring) is None


def test_a_rotation_is_scheduled_where_no_keyring_file_exists_yet(tmp_path: Path) -> None:
    """With the Kafka key store there is no keyring file, so no folder for its note."""
    keyring = tmp_path / "operator" / "keyring.json"
    deadline = kek_due.schedule(keyring, 3600)
    assert kek_due.due(keyring) == deadline
