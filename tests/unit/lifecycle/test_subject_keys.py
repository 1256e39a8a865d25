"""Per-subject encryption end to end: Protector with ``subject:`` -> subject keys."""

from __future__ import annotations

import pytest

from streamsec.crypto.envelope import ENVELOPE_RE
from streamsec.crypto.keys import KeyPurpose
from streamsec.decryption.envelopes import key_ids_in
from streamsec.errors import KeyDestroyedError
from streamsec.lifecycle.subjects import SubjectResolver, subject_key_ids
from tests.unit.lifecycle.conftest import MakeEnv, customer


def test_every_envelope_of_a_record_is_under_its_subjects_keys(make_env: MakeEnv) -> None:
    env = make_env()
    records = env.protect([customer(i) for i in range(3)])
    seen: list[set[str]] = []
    for i, record in enumerate(records):
        ids = key_ids_in(record)
        assert len(ENVELOPE_RE.findall(record["note"])) == 2  # name + phone, in place
        mine = subject_key_ids(env.provider, "crm", f"C-{i:04d}")
        assert mine is not None
        assert ids
        assert ids <= mine
        purposes = {env.provider.key_by_id(k).purpose for k in ids}
        assert purposes == {KeyPurpose.ENCRYPT, KeyPurpose.DETERMINISTIC}
        seen.append(ids)
    assert not seen[0] & seen[1]
    assert not seen[1] & seen[2]


def test_record_without_subject_uses_topology_keys(make_env: MakeEnv) -> None:
    env = make_env()
    raw = customer(1)
    del raw["customer_id"]
    (record,) = env.protect([raw])
    infos = [env.provider.key_by_id(k).info for k in key_ids_in(record)]
    assert infos
    assert all(i.subject is None for i in infos)


def test_forgotten_subject_cannot_get_new_records_encrypted(make_env: MakeEnv) -> None:
    env = make_env()
    env.protect([customer(1)])
    env.provider.destroy_subject("crm", "C-0001")
    with pytest.raises(KeyDestroyedError):
        env.protector.protect(customer(1))
    env.protect([customer(2)])  # others are unaffected


@pytest.mark.parametrize("rule", ["keep", "{action: encrypt, deterministic: true}", "encrypt"])
def test_subject_id_is_recovered_from_a_protected_record(make_env: MakeEnv, rule: str) -> None:
    env = make_env(rule)
    (record,) = env.protect([customer(7)])
    assert SubjectResolver(env.topology, env.provider).subject_of(record) == "C-0007"


def test_hashed_subject_id_is_not_recoverable_but_still_matches(make_env: MakeEnv) -> None:
    env = make_env("hash")
    (record,) = env.protect([customer(7)])
    resolver = SubjectResolver(env.topology, env.provider)
    assert record["customer_id"].startswith("hmac:")
    assert resolver.subject_of(record) is None
    assert resolver.belongs(record, "C-0007", key_ids=None)
    assert not resolver.belongs(record, "C-0008", key_ids=None)


def test_record_key_is_sealed_under_its_own_subject_key_and_shredded_with_it(
    make_env: MakeEnv,
) -> None:
    """The key alone decides its protection (a tombstone must get the same key), so an
    encrypted key is sealed under the subject key of its own text."""
    env = make_env()
    token, action = env.protector.protect_key("C-0007@example.com")
    again, _ = env.protector.protect_key("C-0007@example.com")
    assert action is not None and action.action == "encrypt"
    assert token == again  # deterministic: same partition, same compaction key
    info = env.provider.key_by_id(env.cipher.key_id_of(token)).info
    assert info.subject == env.provider.subject_hash("crm", "C-0007@example.com")
    assert env.decryptor.decrypt_key(token) == "C-0007@example.com"
    env.provider.destroy_subject("crm", "C-0007@example.com")
    with pytest.raises(KeyDestroyedError):
        env.decryptor.decrypt_key(token)


def test_prove_forgotten_fails_while_a_personal_record_key_of_another_subject_survives(
    make_env: MakeEnv,
) -> None:
    """The documented limit, as an attack: the record of C-0007 is keyed by an e-mail
    address. Forgetting C-0007 leaves that key readable, and the proof says so."""
    from streamsec.lifecycle.proof import ForgetProver

    env = make_env()
    (record,) = env.protect([customer(7)])
    key, _ = env.protector.protect_key("user7@example.com")
    env.provider.destroy_subject("crm", "C-0007")
    prover = ForgetProver(env.topology, env.provider, "C-0007")
    prover.check(record, key)
    assert not prover.report.holds
    assert prover.report.subject.decrypted == 1  # the record key
    env.provider.destroy_subject("crm", "user7@example.com")  # forget the key's value too
    prover = ForgetProver(env.topology, env.provider, "C-0007")
    prover.check(record, key)
    assert prover.report.holds
