"""Key separation by role (``key_separation: role``) with the local KEK provider.

Every test is an insider holding the WHOLE key store and every protected record,
with only some KEKs in its KEK file, running its own client code (no role checks):
what it can read is what the KEK provider releases.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.kek_rotation import rotate_kek
from streamsec.crypto.keyfile import FileStore, KeyringDocument
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import create_keyring
from streamsec.crypto.providers.local import LocalKekProvider
from streamsec.crypto.readers import parse_label, reader_label, role_kek
from streamsec.decryption.roles import ReaderSets, RoleAccess
from streamsec.decryption.view import RoleDecryptor
from streamsec.errors import KeyAccessError, StreamsecError, TopologyError
from streamsec.pipeline.headers import CATEGORIES, ENTITIES
from streamsec.pipeline.model import SourceRecord
from streamsec.pipeline.runtime import make_pipeline
from streamsec.protection.binding import RecordBinder
from streamsec.protection.keks import cipher_for
from streamsec.protection.protector import Protector
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.topology import parse_topology

TOPOLOGY_YAML = """
name: clinic
input: raw.clinic
output: protected.clinic
subject: id
encryption: {missing_subject: shared}
key_separation: role
fields:
  id: keep
  email: {action: encrypt, entity: EMAIL_ADDRESS}
  card: {action: encrypt, entity: CREDIT_CARD}
  diagnosis: encrypt
  notes: {action: encrypt, inline: true}
roles:
  support: {categories: [PII]}
  fraud: {entities: [CREDIT_CARD, EMAIL_ADDRESS]}
  doctor: {paths: [diagnosis]}
"""
TOPOLOGY = parse_topology(TOPOLOGY_YAML)
FIELDS = ("email", "card", "diagnosis")
N = 8


def _raw(i: int) -> dict[str, Any]:
    return {"id": f"p{i}", "email": f"u{i}@example.com", "card": "4111 1111 1111 1111",
            "diagnosis": f"J{i:02d}.9", "notes": f"call u{i}@example.com"}  # fmt: skip


@pytest.fixture
def worker(tmp_path: Path) -> Keyring:
    return create_keyring(tmp_path / "keyring.json", kek_provider=LocalKekProvider(
        tmp_path / "kek" / "kek.json"))  # fmt: skip


def _protect(ring: Keyring) -> list[dict[str, Any]]:
    protector = Protector(TOPOLOGY, detector=FakeDetector(), cipher=cipher_for(ring, TOPOLOGY))
    return [protector.protect(_raw(i)).record for i in range(N)]


def _holder(tmp_path: Path, worker: Keyring, *keks: str, tag: str = "") -> KeyringCipher:
    """A consumer with a copy of the whole key store and only the KEKs ``keks``."""
    whole = json.loads((tmp_path / "kek" / "kek.json").read_text())
    assert set(keks) <= set(whole["keks"])
    mine = tmp_path / f"holder-{'-'.join(keks)}{tag}" / "kek.json"
    mine.parent.mkdir()
    mine.write_text(json.dumps({**whole, "keks": {k: whole["keks"][k] for k in keks}}))
    mine.chmod(0o600)
    stolen = mine.with_name("keyring.json")
    shutil.copy(tmp_path / "keyring.json", stolen)
    return KeyringCipher(Keyring(FileStore(stolen), kek_provider=LocalKekProvider(mine)),
                         "clinic")  # fmt: skip


def _opened(cipher: KeyringCipher, records: list[dict[str, Any]], field: str) -> int:
    binder, opened = RecordBinder(TOPOLOGY), 0
    for record in records:
        try:
            cipher.decrypt(record[field], path=field, binding=binder.of(record).at((field,)))
            opened += 1
        except StreamsecError:
            pass
    return opened


def test_reader_sets_follow_the_grants_by_path_category_and_entity() -> None:
    sets = ReaderSets(TOPOLOGY)
    assert sets.readers("email", "PII", "EMAIL_ADDRESS") == {"support", "fraud"}
    assert sets.readers("card", "PCI", "CREDIT_CARD") == {"fraud"}
    assert sets.readers("diagnosis", None, None) == {"doctor"}  # no entity: path grant only
    assert sets.readers("notes", "PII", "EMAIL_ADDRESS") == {"support", "fraud"}
    assert sets.readers("notes", "PHI", "MEDICAL_LICENSE") == frozenset()
    # a rule that names its entity decides: a wrong category passed in grants nothing
    assert sets.readers("card", "PII", "EMAIL_ADDRESS") == {"fraud"}


def test_each_key_is_wrapped_for_all_and_for_exactly_its_readers(worker: Keyring) -> None:
    records = _protect(worker)
    cipher = KeyringCipher(worker, "clinic")
    for field, readers in (("email", ("fraud", "support")), ("card", ("fraud",)),
                           ("diagnosis", ("doctor",))):  # fmt: skip
        info = worker.key_info(cipher.key_id_of(records[0][field]))
        assert (info.kek, info.readers) == ("all", readers)
        record = worker._state.by_id[info.id]
        assert set(record.copies) == {role_kek(r) for r in readers}
    document = json.loads((worker._state.store.path).read_text())  # type: ignore[attr-defined]
    assert document["format_version"] == 2


def test_support_kek_cannot_unwrap_fraud_only_field(tmp_path: Path, worker: Keyring) -> None:
    records = _protect(worker)
    support = _holder(tmp_path, worker, "role-support")
    assert _opened(support, records, "email") == N  # 100% of what support is granted
    assert _opened(support, records, "card") == 0  # PCI: granted to fraud only
    assert _opened(support, records, "diagnosis") == 0  # no entity: doctor's path only


def test_fraud_kek_reads_cards_and_emails_but_no_diagnosis(
    tmp_path: Path, worker: Keyring
) -> None:
    records = _protect(worker)
    fraud = _holder(tmp_path, worker, "role-fraud")
    assert [_opened(fraud, records, f) for f in FIELDS] == [N, N, 0]


def test_doctor_kek_reads_only_the_diagnosis(tmp_path: Path, worker: Keyring) -> None:
    records = _protect(worker)
    doctor = _holder(tmp_path, worker, "role-doctor")
    assert [_opened(doctor, records, f) for f in FIELDS] == [0, 0, N]


def test_the_all_kek_reads_everything(tmp_path: Path, worker: Keyring) -> None:
    records = _protect(worker)
    everything = _holder(tmp_path, worker, "all")
    assert [_opened(everything, records, f) for f in FIELDS] == [N, N, N]


def test_the_default_kek_alone_releases_no_role_separated_key(
    tmp_path: Path, worker: Keyring
) -> None:
    records = _protect(worker)
    default = _holder(tmp_path, worker, "default")
    assert [_opened(default, records, f) for f in FIELDS] == [0, 0, 0]


def test_forged_header_grants_nothing_with_role_keks(tmp_path: Path, worker: Keyring) -> None:
    """A producer forges ``streamsec.entities: EMAIL_ADDRESS`` (and PII) on its input
    records: the worker decides the readers from its own classification, so the card
    key stays fraud's only, and the support view ignores headers."""
    pipeline = make_pipeline(TOPOLOGY, Settings(forward_headers=f"{ENTITIES},{CATEGORIES}"),
                             worker_id="w", provider=worker, detector=FakeDetector())
    forged = ((ENTITIES, b"EMAIL_ADDRESS"), (CATEGORIES, b"PII"))
    outcomes = pipeline.process([
        SourceRecord("raw.clinic", 0, i, None, json.dumps(_raw(i)).encode(), None, forged)
        for i in range(N)
    ])  # fmt: skip
    records = [json.loads(m.value or b"") for o in outcomes for m in o.messages
               if m.topic == TOPOLOGY.output]  # fmt: skip
    assert len(records) == N
    card_key = worker.key_info(KeyringCipher(worker, "clinic").key_id_of(records[0]["card"]))
    assert card_key.readers == ("fraud",)
    support = _holder(tmp_path, worker, "role-support")
    assert [_opened(support, records, f) for f in FIELDS] == [N, 0, 0]
    view = RoleDecryptor(support, RoleAccess(TOPOLOGY, "support")).view(records[0])
    assert view.record["email"] == "u0@example.com"
    assert view.record["card"] == records[0]["card"]
    assert view.record["diagnosis"] == records[0]["diagnosis"]


def test_a_client_that_skips_role_checks_still_gets_no_fraud_key(
    tmp_path: Path, worker: Keyring
) -> None:
    """The view as 'all' (no client-side check at all) over support's KEK: the provider
    refuses the card and the diagnosis, which stay ciphertext and are reported."""
    records = _protect(worker)
    support = _holder(tmp_path, worker, "role-support")
    view = RoleDecryptor(support, RoleAccess(TOPOLOGY, "all")).view(records[0])
    assert view.record["email"] == "u0@example.com"
    assert view.record["card"] == records[0]["card"]
    assert {p for p, reason in view.failed} == {"card", "diagnosis"}
    assert {reason for _, reason in view.failed} == {"key_access"}


def test_forget_destroys_every_wrapped_copy(tmp_path: Path, worker: Keyring) -> None:
    records = _protect(worker)
    worker.destroy_subject("clinic", "p0")
    support = _holder(tmp_path, worker, "role-support")
    assert _opened(support, records[:1], "email") == 0
    assert _opened(support, records[1:], "email") == N - 1
    raw = json.loads((tmp_path / "keyring.json").read_text())
    hashed = worker.subject_hash("clinic", "p0")
    mine = [k for k in raw["keys"] if k["subject"] == hashed]
    assert mine and all(k["wrapped"] is None and not k.get("copies") for k in mine)


def test_rotate_kek_rewraps_every_copy_and_destroys_the_old_role_kek_versions(
    tmp_path: Path, worker: Keyring
) -> None:
    records = _protect(worker)
    before = tmp_path / "keyring-before-rotation.json"  # a backup of the key store
    shutil.copy(tmp_path / "keyring.json", before)
    result = rotate_kek(worker)
    assert {"all", "role-support", "role-fraud", "role-doctor"} <= set(result.new_versions)
    assert ("role-support", "1") in result.destroyed
    assert result.rewrapped == len(worker.list_keys())  # every live key, each copy too
    after = _holder(tmp_path, worker, "role-support", tag="-after")
    assert [_opened(after, records, f) for f in FIELDS] == [N, 0, 0]
    kek_file = json.loads((tmp_path / "kek" / "kek.json").read_text())
    assert "1" not in kek_file["keks"]["role-support"]["versions"]
    mine = after.provider._state.kek_provider  # type: ignore[attr-defined]
    with pytest.raises(KeyAccessError):  # the backup: its role-support copies are dead
        Keyring(FileStore(before), kek_provider=mine)


def test_the_mac_covers_the_reader_copies(tmp_path: Path, worker: Keyring) -> None:
    """Someone who can write the store but holds no KEK adds support as a reader of a
    card key (copying support's wrap of the email key): the store is refused."""
    records = _protect(worker)
    path = tmp_path / "keyring.json"
    doc = json.loads(path.read_text())
    cipher = KeyringCipher(worker, "clinic")
    card, email = (cipher.key_id_of(records[0][f]) for f in ("card", "email"))
    entries = {k["id"]: k for k in doc["keys"]}
    entries[card]["readers"] = ["fraud", "support"]
    entries[card]["copies"]["role-support"] = entries[email]["copies"]["role-support"]
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyAccessError, match="integrity"):
        Keyring(FileStore(path), kek_provider=LocalKekProvider(tmp_path / "kek" / "kek.json"))


def test_a_format_1_store_still_opens_and_keeps_its_mac(tmp_path: Path) -> None:
    ring = create_keyring(tmp_path / "keyring.json")
    cipher = KeyringCipher(ring, "clinic", separate_by_category=True)
    token = cipher.encrypt(b"x", path="email", category="PII")
    raw = json.loads((tmp_path / "keyring.json").read_text())
    assert raw["format_version"] == 1
    assert all("readers" not in k and "copies" not in k for k in raw["keys"])
    again = KeyringCipher(Keyring(FileStore(tmp_path / "keyring.json")), "clinic")
    assert again.decrypt(token, path="email") == b"x"
    assert KeyringDocument.model_validate(raw).format_version == 1


def test_labels_round_trip() -> None:
    assert reader_label(["support", "fraud", "support"]) == "readers:fraud,support"
    assert parse_label("readers:fraud,support") == ("all", ("fraud", "support"))
    assert parse_label("readers:") == ("all", ())
    assert parse_label("pii") == ("pii", None)


@pytest.mark.parametrize("roles", ["{all: {paths: [x]}}", "{Support: {paths: [x]}}"])
def test_role_names_that_cannot_name_a_kek_are_refused(roles: str) -> None:
    with pytest.raises(TopologyError):
        parse_topology(f"name: t\ninput: a\noutput: b\nkey_separation: role\nroles: {roles}\n")


def test_decrypt_as_all_with_the_support_kek_reads_only_what_support_may(
    tmp_path: Path, worker: Keyring, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``streamsec decrypt --as all`` is no way around role KEKs: it decrypts what the
    caller's KEKs release, leaves the rest encrypted and says how many."""
    from streamsec.cli.main import main

    records = _protect(worker)
    support = _holder(tmp_path, worker, "role-support")
    kek_file = support.provider._state.kek_provider.path  # type: ignore[attr-defined]
    monkeypatch.setenv("STREAMSEC_KEK_FILE", str(kek_file))
    topology = tmp_path / "clinic.yaml"
    topology.write_text(TOPOLOGY_YAML)
    source, clear = tmp_path / "protected.jsonl", tmp_path / "clear.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    base = ["decrypt", "-t", str(topology), "--keyring", str(kek_file.with_name("keyring.json")),
            "--in", str(source), "--out", str(clear), "--audit-out", str(tmp_path / "a.jsonl")]
    assert main([*base, "--as", "all"]) == 0
    err = capsys.readouterr().err
    assert "decrypting as 'all'" in err
    out = [json.loads(line) for line in clear.read_text().splitlines()]
    assert [r["email"] for r in out] == [f"u{i}@example.com" for i in range(N)]
    assert [r["card"] for r in out] == [r["card"] for r in records]
    assert [r["diagnosis"] for r in out] == [r["diagnosis"] for r in records]
    assert f"{2 * N} whose key was not released" in err  # card and diagnosis, each line
    assert main([*base, "--as", "fraud"]) == 0  # granted the card, but holds no fraud KEK
    out = [json.loads(line) for line in clear.read_text().splitlines()]
    assert [r["card"] for r in out] == [r["card"] for r in records]
    assert "0 value(s) read in clear" not in capsys.readouterr().err  # emails: granted too


def test_rekey_keeps_a_value_under_its_readers_keks(tmp_path: Path, worker: Keyring) -> None:
    """Re-keying a card after its key rotates seals it under the new version of the
    same reader set (fraud), never under a key more roles (or 'default') unwrap."""
    from streamsec.crypto.keys import KeyPurpose
    from streamsec.lifecycle.rekey import Rekeyer

    records = _protect(worker)
    worker.rotate("clinic", KeyPurpose.ENCRYPT, "p0", kek=reader_label(["fraud"]))
    after = Rekeyer(TOPOLOGY, worker).rekey(records[0]).record
    cipher = KeyringCipher(worker, "clinic")
    old, new = (worker.key_info(cipher.key_id_of(r["card"])) for r in (records[0], after))
    assert new.id != old.id and (new.version, new.readers) == (2, ("fraud",))
    support = _holder(tmp_path, worker, "role-support")
    fraud = _holder(tmp_path, worker, "role-fraud")
    assert (_opened(support, [after], "card"), _opened(fraud, [after], "card")) == (0, 1)


def test_keys_rotate_rotates_every_kek_and_reader_set_of_the_topology(
    tmp_path: Path, worker: Keyring, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Under key separation a purpose has one shared key per category KEK or reader set:
    ``keys rotate -t`` rotates each of them, not only the ``default`` one (which, with
    separation, protects nothing), and audits each."""
    from streamsec.cli.main import main
    from streamsec.crypto.keys import KeyPurpose, KeyState

    labels = [reader_label(["fraud"]), reader_label(["doctor", "support"]), "pci"]
    old = {label: worker.current_key("clinic", KeyPurpose.ENCRYPT, kek=label).id
           for label in labels}  # fmt: skip
    other = worker.current_key("billing", KeyPurpose.ENCRYPT, kek="pci").id
    monkeypatch.setenv("STREAMSEC_KEK_FILE", str(tmp_path / "kek" / "kek.json"))
    audit = tmp_path / "audit.jsonl"
    assert main(["keys", "rotate", "--keyring", str(tmp_path / "keyring.json"), "-t", "clinic",
                 "--audit-out", str(audit)]) == 0  # fmt: skip
    assert capsys.readouterr().out.count("version 2") == len(labels)
    ring = Keyring(FileStore(tmp_path / "keyring.json"),
                   kek_provider=LocalKekProvider(tmp_path / "kek" / "kek.json"))  # fmt: skip
    for label in labels:
        new = ring.current_key("clinic", KeyPurpose.ENCRYPT, kek=label)
        assert new.id != old[label] and ring.key_info(new.id).version == 2
        assert ring.key_info(old[label]).state is KeyState.RETIRED
    assert ring.current_key("billing", KeyPurpose.ENCRYPT, kek="pci").id == other
    ops = [(e["data"]["outcome"], e["data"]["key"]["id"])
           for e in map(json.loads, audit.read_text().splitlines())
           if e.get("data", {}).get("operation") == "rotate"]  # fmt: skip
    assert sorted(i for o, i in ops if o == "requested") == sorted(old.values())
    assert len([i for o, i in ops if o == "ok"]) == len(labels)
