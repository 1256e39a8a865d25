"""Key material never shows in repr/str, pickles, logs or exception messages."""

from __future__ import annotations

import base64
import copy
import logging
import os
import pickle
from pathlib import Path

import pytest
from pydantic import SecretStr

from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyfile import FileStore, MemoryStore
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import create_keyring
from streamsec.crypto.keyring_state import KeyringState
from streamsec.crypto.keys import DataKey, Kek, KeyPurpose
from streamsec.errors import StreamsecError
from streamsec.settings import Settings
from streamsec.testing.keys import InMemoryKeyProvider


def _encodings(material: bytes) -> list[str]:
    return [
        material.hex(),
        material.hex().upper(),
        base64.b64encode(material).decode().rstrip("="),
        base64.urlsafe_b64encode(material).decode().rstrip("="),
        repr(material)[2:-1][:40],
        str(list(material))[1:40],
    ]


def _assert_hidden(text: str, materials: list[bytes]) -> None:
    for material in materials:
        for encoding in _encodings(material):
            assert encoding not in text, f"key material leaked: {text[:80]}"


@pytest.fixture
def world(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> tuple[list[object], list[bytes]]:
    caplog.set_level(logging.DEBUG)
    kek = os.urandom(32)
    path = tmp_path / "keyring.json"
    ring = create_keyring(path, kek=kek)
    stored_ring = create_keyring(tmp_path / "stored.json")
    provider = InMemoryKeyProvider()
    objects: list[object] = [ring, stored_ring, provider, FileStore(path), MemoryStore()]
    objects += [ring._state, stored_ring._state]  # the index key and the unwrapped keys
    materials = [kek]
    for source in (ring, stored_ring, provider):
        for purpose in KeyPurpose:
            key = source.current_key("orders", purpose)
            objects.append(key)
            objects.append(key.info)
            materials.append(key.material)
        subject_key = source.current_key("orders", KeyPurpose.ENCRYPT, "alice")
        objects.append(subject_key)
        materials.append(subject_key.material)
        objects.append(KeyringCipher(source, "orders"))
        source.rotate("orders", KeyPurpose.ENCRYPT)
        source.destroy_subject("orders", "alice")
    objects.append(Kek(kek, kek_id="kaaaaaaaaaa"))
    objects.append(Settings(keyring=path, kek=SecretStr(base64.b64encode(kek).decode())))
    return objects, materials


def test_repr_and_str_of_every_key_holding_object(
    world: tuple[list[object], list[bytes]],
) -> None:
    objects, materials = world
    assert len(objects) > 20
    for obj in objects:
        _assert_hidden(repr(obj), materials)
        _assert_hidden(str(obj), materials)
        _assert_hidden(format(obj), materials)


def test_data_keys_and_keks_refuse_pickling(world: tuple[list[object], list[bytes]]) -> None:
    objects, _ = world
    holders = [o for o in objects if isinstance(o, DataKey | Kek | Keyring | KeyringState)]
    assert holders
    for obj in holders:
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(obj)
        with pytest.raises(TypeError):
            copy.deepcopy(obj)


def test_logs_never_hold_material(
    world: tuple[list[object], list[bytes]], caplog: pytest.LogCaptureFixture
) -> None:
    _, materials = world
    records = caplog.get_records("setup")  # the fixture created, rotated and shredded keys
    assert any("created data key" in r.getMessage() for r in records)
    assert any("crypto-shredded" in r.getMessage() for r in records)
    for record in records:
        _assert_hidden(record.getMessage(), materials)
        assert "alice" not in record.getMessage()


def test_errors_never_hold_material(tmp_path: Path) -> None:
    kek = os.urandom(32)
    path = tmp_path / "keyring.json"
    create_keyring(path, kek=kek)
    wrong = os.urandom(32)
    with pytest.raises(StreamsecError) as info:
        Keyring(FileStore(path), kek=wrong)
    _assert_hidden(str(info.value) + repr(info.value), [kek, wrong])
