"""Re-keying history: rotate, re-key, destroy the old versions, decrypt everything."""

from __future__ import annotations

import pytest

from streamsec.crypto.envelope import ENVELOPE_RE, parse_envelope
from streamsec.crypto.keys import KeyPurpose, KeyState
from streamsec.decryption.envelopes import key_ids_in
from streamsec.errors import DecryptionError, KeyDestroyedError, ProtectionError
from streamsec.lifecycle.rekey import Rekeyer, RekeySummary, rekey_key_ids
from streamsec.protection.protector import KEY_PATH
from tests.unit.lifecycle.conftest import Env, MakeEnv, customer

N = 8


def _rotate_everything(env: Env, subjects: list[str]) -> None:
    for purpose in (KeyPurpose.ENCRYPT, KeyPurpose.DETERMINISTIC):
        env.provider.rotate("crm", purpose)
        for subject in subjects:
            env.provider.rotate("crm", purpose, subject)


def _destroy_retired(env: Env) -> list[str]:
    retired = [k.id for k in env.provider.list_keys("crm") if k.state is KeyState.RETIRED]
    for key_id in retired:
        env.provider.destroy(key_id)
    return retired


@pytest.mark.parametrize("rule", ["keep", "encrypt", "{action: encrypt, deterministic: true}"])
def test_rotate_rekey_destroy_old_then_decrypt_all(make_env: MakeEnv, rule: str) -> None:
    env = make_env(rule)
    raw = [customer(i) for i in range(N)]
    raw[0] = {k: v for k, v in raw[0].items() if k != "customer_id"}  # topology keys
    protected = env.protect(raw)
    _rotate_everything(env, [f"C-{i:04d}" for i in range(N)])

    rekeyer = Rekeyer(env.topology, env.provider)
    summary = RekeySummary()
    rekeyed = []
    for record in protected:
        result = rekeyer.rekey(record)
        summary.add(result)
        rekeyed.append(result.record)
    destroyed = _destroy_retired(env)

    assert summary.rekeyed == sum(len(ENVELOPE_RE.findall(str(r))) for r in protected)
    assert summary.current == 0
    assert sorted(summary.releasable) == sorted(destroyed)
    for before, after, original in zip(protected, rekeyed, raw, strict=True):
        assert env.decryptor.decrypt(after) == dict(original, card=before["card"])  # masked
        with pytest.raises(KeyDestroyedError):
            env.decryptor.decrypt(before)  # the old copy is gone for good
        for path in ("email", "name"):
            old, new = parse_envelope(before[path]), parse_envelope(after[path])
            assert old.alg == new.alg  # siv stays siv, gcm stays gcm
            info = {k.id: k for k in env.provider.list_keys("crm")}
            assert info[new.key_id].subject == info[old.key_id].subject  # same subject's keys
            assert info[new.key_id].purpose == info[old.key_id].purpose
            assert info[new.key_id].version == info[old.key_id].version + 1


def test_equal_values_stay_equal_under_the_new_deterministic_key(make_env: MakeEnv) -> None:
    env = make_env()
    first, second = env.protect([customer(1), customer(1)])
    assert first["email"] == second["email"]
    env.provider.rotate("crm", KeyPurpose.DETERMINISTIC, "C-0001")
    rekeyer = Rekeyer(env.topology, env.provider)
    a, b = rekeyer.rekey(first).record, rekeyer.rekey(second).record
    assert a["email"] == b["email"] != first["email"]


def test_current_envelopes_are_left_byte_for_byte(make_env: MakeEnv) -> None:
    env = make_env()
    (record,) = env.protect([customer(2)])
    env.provider.rotate("crm", KeyPurpose.ENCRYPT, "C-0002")  # gcm only
    result = Rekeyer(env.topology, env.provider).rekey(record)
    assert result.record["email"] == record["email"]  # siv key not rotated
    assert result.record["name"] != record["name"]
    assert result.rekeyed == 3  # name + 2 entities in the note
    assert result.current == 1
    assert len(result.replaced) == 1
    again = Rekeyer(env.topology, env.provider).rekey(result.record)
    assert again.record == result.record
    assert again.rekeyed == 0


def test_inline_text_around_envelopes_is_kept(make_env: MakeEnv) -> None:
    env = make_env()
    (record,) = env.protect([customer(3)])
    env.provider.rotate("crm", KeyPurpose.ENCRYPT, "C-0003")
    after = Rekeyer(env.topology, env.provider).rekey(record).record
    strip = ENVELOPE_RE.sub("X", after["note"])
    assert strip == ENVELOPE_RE.sub("X", record["note"]) == "call X at X today"


def test_shredded_envelopes_are_left_unreadable(make_env: MakeEnv) -> None:
    env = make_env()
    gone, kept = env.protect([customer(4), customer(5)])
    env.provider.destroy_subject("crm", "C-0004")
    env.provider.rotate("crm", KeyPurpose.ENCRYPT, "C-0005")
    rekeyer = Rekeyer(env.topology, env.provider)
    result = rekeyer.rekey(gone)
    assert result.record == gone
    assert result.shredded == 4
    assert rekeyer.rekey(kept).rekeyed == 3


def test_tampered_envelope_fails_the_record(make_env: MakeEnv) -> None:
    env = make_env()
    (record,) = env.protect([customer(6)])
    env.provider.rotate("crm", KeyPurpose.DETERMINISTIC, "C-0006")
    moved = dict(record, name=record["email"])  # a ciphertext moved to another field
    with pytest.raises(DecryptionError) as info:
        Rekeyer(env.topology, env.provider).rekey(moved)
    assert info.value.path == "name"


def test_hashed_subject_cannot_be_rekeyed_under_its_subject(make_env: MakeEnv) -> None:
    env = make_env("hash")
    (record,) = env.protect([customer(7)])
    env.provider.rotate("crm", KeyPurpose.ENCRYPT, "C-0007")
    with pytest.raises(ProtectionError, match="not recoverable") as info:
        Rekeyer(env.topology, env.provider).rekey(record)
    assert "C-0007" not in str(info.value)


def test_subject_mismatch_is_refused(make_env: MakeEnv) -> None:
    env = make_env()
    (record,) = env.protect([customer(8)])
    env.provider.rotate("crm", KeyPurpose.ENCRYPT, "C-0008")
    forged = dict(record, customer_id="C-0009")
    # the ciphertexts are bound to their subject: the forged record does not even open
    with pytest.raises(ProtectionError, match="failed authentication"):
        Rekeyer(env.topology, env.provider).rekey(forged)


def test_record_key_and_header(make_env: MakeEnv) -> None:
    env = make_env()
    token, _ = env.protector.protect_key("user1@example.com")
    old_id = env.cipher.key_id_of(token)
    # the key is sealed under its own text's subject key, and re-keyed under it again
    new = env.provider.rotate("crm", KeyPurpose.DETERMINISTIC, "user1@example.com")
    result = Rekeyer(env.topology, env.provider).rekey({"x": 1}, token)
    assert result.key is not None
    assert env.cipher.key_id_of(result.key) == new.id
    assert env.decryptor.decrypt_key(result.key) == "user1@example.com"
    assert env.cipher.decrypt(result.key, path=KEY_PATH) == b"suser1@example.com"
    assert result.replaced == {old_id: new.id}
    header = f"kaaaaaaaaaa,{old_id}".encode()
    assert rekey_key_ids(header, result.replaced) == ",".join(
        sorted(["kaaaaaaaaaa", new.id])
    ).encode()
    assert key_ids_in(result.key) == {new.id}


def test_summary_keeps_failed_records_keys() -> None:
    summary = RekeySummary()
    summary.moves[("kold0000000", "knew0000000")] = 2
    summary.add_failure({"kold0000000"})
    assert summary.releasable == []
    assert "do not destroy" in summary.render()
    assert summary.as_dict()["failed"] == 1


def _v1_envelope(key: object, value: object, path: str) -> str:
    """A version-1 envelope as streamsec wrote them before version 2 (no binding,
    no padding, 12-byte nonce under the data key itself)."""
    import os

    from streamsec.crypto.aad import ciphertext_aad
    from streamsec.crypto.envelope import Envelope, format_envelope
    from streamsec.crypto.plaintext import encode_value

    nonce = os.urandom(12)
    aad = ciphertext_aad(version=1, key_id=key.id, alg="gcm", topology="crm", path=path)  # type: ignore[attr-defined]
    payload = nonce + key.gcm().encrypt(nonce, encode_value(value), aad)  # type: ignore[attr-defined]
    return format_envelope(Envelope(key.id, "gcm", payload, version=1))  # type: ignore[attr-defined]


def test_old_v1_records_still_decrypt_and_rekeying_rewrites_them_as_v2(make_env: MakeEnv) -> None:
    env = make_env("keep")
    key = env.provider.current_key("crm", KeyPurpose.ENCRYPT, "C-0001")
    old = {"customer_id": "C-0001", "name": _v1_envelope(key, "Jane Roe", "name"), "n": 1}
    assert env.decryptor.decrypt(old) == {"customer_id": "C-0001", "name": "Jane Roe", "n": 1}
    rekeyer = Rekeyer(env.topology, env.provider)
    assert rekeyer.rekey(old).current == 1  # under a current key: left as it is
    env.provider.rotate("crm", KeyPurpose.ENCRYPT, "C-0001")
    result = rekeyer.rekey(old)
    assert result.rekeyed == 1 and result.record["name"].startswith("ssec:v2:")
    assert env.decryptor.decrypt(result.record)["name"] == "Jane Roe"
    # now bound to its record: moved into another subject's record it fails
    other = env.protect([customer(2)])[0]
    with pytest.raises(DecryptionError):
        env.decryptor.decrypt(dict(other, name=result.record["name"]))
