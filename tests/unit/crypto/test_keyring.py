from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from streamsec.crypto.keyfile import FileStore
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import create_keyring, init_keyring, open_keyring
from streamsec.crypto.keys import KEY_SIZES, KeyPurpose, KeyState
from streamsec.crypto.providers.local import LocalKekProvider
from streamsec.errors import (
    KeyAccessError,
    KeyDestroyedError,
    KeyNotFoundError,
    SettingsError,
)
from streamsec.settings import Settings


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _open(path: Path, **options: Any) -> Keyring:
    """Another process opening the keyring with the default local KEK file."""
    return Keyring(
        FileStore(path), kek_provider=LocalKekProvider(path.with_name("kek.json")), **options
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_created_file_is_private_and_refuses_overwrite(keyring_path: Path) -> None:
    create_keyring(keyring_path)
    assert _mode(keyring_path) == 0o600
    with pytest.raises(KeyAccessError, match="already exists") as info:
        create_keyring(keyring_path)
    assert info.value.context["file"] == str(keyring_path)
    create_keyring(keyring_path, force=True)
    assert _mode(keyring_path) == 0o600


def test_file_stays_private_after_changes(keyring: Keyring, keyring_path: Path) -> None:
    keyring.current_key("orders", KeyPurpose.ENCRYPT)
    keyring.rotate("orders", KeyPurpose.ENCRYPT)
    assert _mode(keyring_path) == 0o600
    assert _mode(keyring_path.with_name("keyring.json.lock")) == 0o600
    assert _mode(keyring_path.with_name("kek.json")) == 0o600
    assert sorted(p.name for p in keyring_path.parent.iterdir()) == [
        "kek.json",
        "kek.json.lock",
        "keyring.json",
        "keyring.json.lock",
    ]
    assert json.loads(keyring_path.read_text())["kek"]["material"] is None  # KEK kept apart


def test_get_or_create_is_stable_and_persistent(keyring: Keyring, keyring_path: Path) -> None:
    key = keyring.current_key("orders", KeyPurpose.ENCRYPT)
    assert keyring.current_key("orders", KeyPurpose.ENCRYPT) is key  # cached
    assert len(key.material) == KEY_SIZES[KeyPurpose.ENCRYPT]
    siv = keyring.current_key("orders", KeyPurpose.DETERMINISTIC)
    assert len(siv.material) == 64
    assert siv.id != key.id
    other = _open(keyring_path)
    again = other.current_key("orders", KeyPurpose.ENCRYPT)
    assert (again.id, again.material) == (key.id, key.material)
    assert other.key_by_id(siv.id).material == siv.material


def test_file_never_holds_data_keys_in_clear(keyring: Keyring, keyring_path: Path) -> None:
    key = keyring.current_key("orders", KeyPurpose.ENCRYPT)
    text = keyring_path.read_text()
    for encoding in (
        key.material.hex(),
        base64.b64encode(key.material).decode().rstrip("="),
        base64.urlsafe_b64encode(key.material).decode().rstrip("="),
    ):
        assert encoding not in text


def test_rotation_keeps_old_versions_decryptable(keyring: Keyring) -> None:
    v1 = keyring.current_key("orders", KeyPurpose.ENCRYPT)
    info = keyring.rotate("orders", KeyPurpose.ENCRYPT)
    assert info.version == 2
    assert info.state is KeyState.ACTIVE
    v2 = keyring.current_key("orders", KeyPurpose.ENCRYPT)
    assert v2.id == info.id != v1.id
    assert keyring.key_by_id(v1.id).material == v1.material
    states = {i.id: (i.version, i.state) for i in keyring.list_keys("orders")}
    assert states == {v1.id: (1, KeyState.RETIRED), v2.id: (2, KeyState.ACTIVE)}


def test_rotation_by_another_process_is_picked_up_without_restart(
    keyring: Keyring, keyring_path: Path
) -> None:
    clock = FakeClock()
    worker = _open(keyring_path, clock=clock, refresh_interval=1.0)
    v1 = worker.current_key("orders", KeyPurpose.ENCRYPT)
    admin = _open(keyring_path)
    v2 = admin.rotate("orders", KeyPurpose.ENCRYPT)
    clock.now += 0.5
    assert worker.current_key("orders", KeyPurpose.ENCRYPT).id == v1.id  # throttled
    clock.now += 0.6
    assert worker.current_key("orders", KeyPurpose.ENCRYPT).id == v2.id


def test_unknown_id_forces_a_reload(keyring: Keyring, keyring_path: Path) -> None:
    clock = FakeClock()
    reader = _open(keyring_path, clock=clock)
    created = keyring.current_key("shop", KeyPurpose.HASH)
    assert reader.key_by_id(created.id).material == created.material  # no clock advance
    with pytest.raises(KeyNotFoundError) as info:
        reader.key_by_id("kzzzzzzzzzz")
    assert info.value.context["key_id"] == "kzzzzzzzzzz"


def test_destroy_erases_material_everywhere(keyring: Keyring, keyring_path: Path) -> None:
    clock = FakeClock()
    worker = _open(keyring_path, clock=clock)
    key = keyring.current_key("orders", KeyPurpose.ENCRYPT)
    assert worker.key_by_id(key.id).material == key.material  # now cached in the worker
    info = keyring.destroy(key.id)
    assert info.state is KeyState.DESTROYED
    assert info.destroyed is not None
    assert keyring.destroy(key.id).state is KeyState.DESTROYED  # idempotent
    doc = json.loads(keyring_path.read_text())
    (entry,) = [k for k in doc["keys"] if k["id"] == key.id]
    assert entry["wrapped"] is None
    with pytest.raises(KeyDestroyedError):
        keyring.key_by_id(key.id)
    with pytest.raises(KeyDestroyedError):
        keyring.current_key("orders", KeyPurpose.ENCRYPT)
    clock.now += 1.5
    with pytest.raises(KeyDestroyedError) as caught:
        worker.key_by_id(key.id)  # the cached copy was evicted
    assert caught.value.context["key_id"] == key.id
    keyring.rotate("orders", KeyPurpose.ENCRYPT)  # explicit rotation revives the slot
    assert keyring.current_key("orders", KeyPurpose.ENCRYPT).info.version == 2
    with pytest.raises(KeyNotFoundError):
        keyring.destroy("kzzzzzzzzzz")


def test_subject_keys(keyring: Keyring, keyring_path: Path) -> None:
    alice = keyring.current_key("orders", KeyPurpose.ENCRYPT, "alice@example.com")
    bob = keyring.current_key("orders", KeyPurpose.ENCRYPT, "bob@example.com")
    topo = keyring.current_key("orders", KeyPurpose.ENCRYPT)
    assert len({alice.id, bob.id, topo.id}) == 3
    assert keyring.current_key("orders", KeyPurpose.ENCRYPT, "alice@example.com").id == alice.id
    assert "alice" not in keyring_path.read_text()
    hashed = keyring.subject_hash("orders", "alice@example.com")
    assert alice.info.subject == hashed
    assert keyring.subject_hash("shop", "alice@example.com") != hashed

    destroyed = keyring.destroy_subject("orders", "alice@example.com")
    by_purpose = {i.purpose: i for i in destroyed}
    assert set(by_purpose) == {KeyPurpose.ENCRYPT, KeyPurpose.DETERMINISTIC}  # + tombstone
    assert all(i.state is KeyState.DESTROYED for i in destroyed)
    for purpose in (KeyPurpose.ENCRYPT, KeyPurpose.DETERMINISTIC):
        with pytest.raises(KeyDestroyedError):
            keyring.current_key("orders", purpose, "alice@example.com")
    assert keyring.current_key("orders", KeyPurpose.ENCRYPT, "bob@example.com").id == bob.id
    assert keyring.current_key("orders", KeyPurpose.ENCRYPT).id == topo.id


class _CountingStore(FileStore):
    writes = 0

    def write(self, document: Any) -> Any:
        self.writes += 1
        return super().write(document)


def test_ensure_keys_creates_a_batch_of_subject_keys_in_one_write(
    keyring: Keyring, keyring_path: Path
) -> None:
    keyring.destroy_subject("orders", "carol")
    store = _CountingStore(keyring_path)
    fresh = Keyring(store, kek_provider=LocalKekProvider(keyring_path.with_name("kek.json")))
    slots = [(KeyPurpose.ENCRYPT, f"subject-{i:04d}") for i in range(50)]
    slots += [(KeyPurpose.DETERMINISTIC, "subject-0001"), (KeyPurpose.ENCRYPT, "carol")]
    fresh.ensure_keys("orders", slots)
    assert store.writes == 1
    ids = {fresh.current_key("orders", p, s).id for p, s in slots if s != "carol"}
    assert len(ids) == 51 and store.writes == 1  # all there: no further writes
    fresh.ensure_keys("orders", slots)
    assert store.writes == 1
    with pytest.raises(KeyDestroyedError):  # a shredded subject stays shredded
        fresh.current_key("orders", KeyPurpose.ENCRYPT, "carol")
    other = _open(keyring_path)  # and another process sees them all
    assert {other.current_key("orders", p, s).id for p, s in slots if s != "carol"} == ids
    assert "subject-" not in keyring_path.read_text()


def test_shredding_an_unseen_subject_blocks_future_keys(keyring: Keyring) -> None:
    keyring.destroy_subject("orders", "carol")
    with pytest.raises(KeyDestroyedError):
        keyring.current_key("orders", KeyPurpose.ENCRYPT, "carol")


def test_external_kek(keyring_path: Path) -> None:
    kek = os.urandom(32)
    ring = create_keyring(keyring_path, kek=kek)
    key = ring.current_key("orders", KeyPurpose.ENCRYPT)
    doc = json.loads(keyring_path.read_text())
    assert doc["kek"]["material"] is None
    with pytest.raises(KeyAccessError, match="does not unlock"):
        _open(keyring_path)
    with pytest.raises(KeyAccessError, match="does not unlock"):
        Keyring(FileStore(keyring_path), kek=os.urandom(32))
    reopened = Keyring(FileStore(keyring_path), kek=kek)
    assert reopened.key_by_id(key.id).material == key.material


def test_settings_kek_and_path(keyring_path: Path) -> None:
    kek = os.urandom(32)
    settings = Settings(keyring=keyring_path, kek=SecretStr(base64.b64encode(kek).decode()))
    ring = init_keyring(settings=settings)
    key = ring.current_key("orders", KeyPurpose.HASH)
    assert json.loads(keyring_path.read_text())["kek"]["material"] is None
    assert open_keyring(settings).key_by_id(key.id).material == key.material
    bad = Settings(keyring=keyring_path, kek=SecretStr("too-short"))
    with pytest.raises(SettingsError) as info:
        open_keyring(bad)
    assert info.value.context["key"] == "STREAMSEC_KEK"
    assert "too-short" not in str(info.value)


def test_tampered_wrapped_key_is_refused(keyring: Keyring, keyring_path: Path) -> None:
    a = keyring.current_key("orders", KeyPurpose.ENCRYPT)
    b = keyring.current_key("orders", KeyPurpose.HASH)
    doc = json.loads(keyring_path.read_text())
    wrapped = {k["id"]: k["wrapped"] for k in doc["keys"]}
    for entry in doc["keys"]:  # swap the wrapped material of two entries
        entry["wrapped"] = wrapped[b.id] if entry["id"] == a.id else wrapped[a.id]
    keyring_path.write_text(json.dumps(doc))
    with pytest.raises(KeyAccessError, match="integrity"):
        _open(keyring_path)


def test_missing_unreadable_or_invalid_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(KeyAccessError, match="keys init") as info:
        Keyring(FileStore(missing))
    assert info.value.context["file"] == str(missing)
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "streamsec.keyring"}')
    os.chmod(broken, 0o600)
    with pytest.raises(KeyAccessError, match="invalid"):
        Keyring(FileStore(broken))


def test_world_readable_file_with_kek_is_refused(keyring: Keyring, keyring_path: Path) -> None:
    keyring.current_key("orders", KeyPurpose.ENCRYPT)
    os.chmod(keyring_path.with_name("kek.json"), 0o644)
    with pytest.raises(KeyAccessError, match="chmod 600"):
        _open(keyring_path)


def test_cache_is_bounded(keyring_path: Path) -> None:
    ring = create_keyring(keyring_path)
    small = _open(keyring_path, cache_size=3)
    ids = [ring.current_key(f"t{i}", KeyPurpose.ENCRYPT).id for i in range(6)]
    for key_id in ids:
        small.key_by_id(key_id)
    assert len(small._state.cache) == 3
    assert list(small._state.cache) == ids[-3:]


def test_list_keys_filters_by_owner(keyring: Keyring) -> None:
    keyring.current_key("a", KeyPurpose.ENCRYPT)
    keyring.current_key("b", KeyPurpose.HASH)
    assert [i.owner for i in keyring.list_keys("a")] == ["a"]
    assert {i.owner for i in keyring.list_keys()} == {"a", "b"}


def test_decode_kek_accepts_standard_and_urlsafe_base64() -> None:
    from streamsec.crypto.keys import decode_kek

    material = bytes(range(250, 256)) * 5 + b"\xfb\xff"
    assert decode_kek(base64.b64encode(material).decode()) == material
    assert decode_kek(base64.urlsafe_b64encode(material).decode().rstrip("=")) == material
    with pytest.raises(ValueError, match="32 bytes"):
        decode_kek(base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="base64") as info:
        decode_kek("not base64 at all!")
    assert "not base64 at all" not in str(info.value)


def test_destroyed_state_and_material_must_agree(keyring: Keyring, keyring_path: Path) -> None:
    keyring.current_key("orders", KeyPurpose.ENCRYPT)
    doc = json.loads(keyring_path.read_text())
    doc["keys"][0]["state"] = "destroyed"  # but the wrapped material is still there
    keyring_path.write_text(json.dumps(doc))
    with pytest.raises(KeyAccessError, match="invalid") as info:
        _open(keyring_path)
    assert info.value.context["key"] == "keys.0"


def test_close_releases_the_store_and_the_kek_provider_once(
    keyring: Keyring, keyring_path: Path
) -> None:
    closed: list[str] = []

    class Store(FileStore):
        def close(self) -> None:
            closed.append("store")

    class Provider(LocalKekProvider):
        def close(self) -> None:
            closed.append("kek provider")
            super().close()

    with Keyring(Store(keyring_path),
                 kek_provider=Provider(keyring_path.with_name("kek.json"))) as ring:
        ring.current_key("crm", KeyPurpose.ENCRYPT)
        assert closed == []
    assert closed == ["store", "kek provider"]
    ring.close()  # idempotent
    assert closed == ["store", "kek provider"]
