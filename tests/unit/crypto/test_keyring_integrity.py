"""Integrity of the keyring file: edits, dropped tombstones and rollbacks are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from streamsec.crypto.keyring_setup import create_keyring, open_keyring
from streamsec.crypto.keys import KeyPurpose
from streamsec.errors import KeyAccessError, KeyDestroyedError
from streamsec.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(keyring=tmp_path / "ring" / "keyring.json", home=tmp_path / "home")


def test_dropping_an_erasure_tombstone_without_the_kek_is_refused(settings: Settings) -> None:
    ring = create_keyring(settings.keyring)
    ring.current_key("crm", KeyPurpose.ENCRYPT, "C-1")
    ring.destroy_subject("crm", "C-1")
    doc = json.loads(settings.keyring.read_text())
    doc["keys"] = [k for k in doc["keys"] if k["state"] != "destroyed"]  # forget the erasure
    settings.keyring.write_text(json.dumps(doc))
    with pytest.raises(KeyAccessError, match="integrity"):
        open_keyring(settings)


def test_a_retired_key_made_current_again_is_refused(settings: Settings) -> None:
    ring = create_keyring(settings.keyring)
    ring.current_key("crm", KeyPurpose.ENCRYPT)
    ring.rotate("crm", KeyPurpose.ENCRYPT)
    doc = json.loads(settings.keyring.read_text())
    doc["keys"] = [k for k in doc["keys"] if k["version"] == 1]
    doc["keys"][0]["state"] = "active"
    settings.keyring.write_text(json.dumps(doc))
    with pytest.raises(KeyAccessError, match="integrity"):
        open_keyring(settings)


def test_a_restored_older_copy_is_refused_running_and_after_a_restart(
    settings: Settings, tmp_path: Path
) -> None:
    create_keyring(settings.keyring)
    worker = open_keyring(settings, refresh_interval=0.0)
    worker.current_key("crm", KeyPurpose.ENCRYPT, "C-1")
    backup = tmp_path / "backup.json"
    shutil.copy(settings.keyring, backup)  # a valid, authenticated, older copy
    worker.destroy_subject("crm", "C-1")
    shutil.copy(backup, settings.keyring)  # rolled back: the subject's key is back
    with pytest.raises(KeyAccessError, match="rolled back"):
        worker.list_keys()  # the running process notices
    with pytest.raises(KeyAccessError, match="rolled back"):
        open_keyring(settings)  # so does a new one on this host (generation watermark)
    elsewhere = Settings(keyring=settings.keyring, home=tmp_path / "new-host")
    reopened = open_keyring(elsewhere)  # a host that never saw the newer copy cannot tell
    assert reopened.current_key("crm", KeyPurpose.ENCRYPT, "C-1")


def test_the_erasure_holds_when_nothing_was_rolled_back(settings: Settings) -> None:
    ring = create_keyring(settings.keyring)
    ring.current_key("crm", KeyPurpose.ENCRYPT, "C-1")
    ring.destroy_subject("crm", "C-1")
    with pytest.raises(KeyDestroyedError):
        open_keyring(settings).current_key("crm", KeyPurpose.ENCRYPT, "C-1")
