"""Key stores are found by name (``streamsec.crypto.stores``), never imported by crypto."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from streamsec.crypto import stores
from streamsec.crypto.keyfile import FileStore
from streamsec.errors import SettingsError
from streamsec.settings import Settings

REPO = Path(__file__).resolve().parents[3]


def test_file_is_built_in(tmp_path: Path) -> None:
    store = stores.open_key_store(Settings(), tmp_path / "keyring.json")
    assert isinstance(store, FileStore)
    assert store.path == tmp_path / "keyring.json"


def test_an_unknown_store_is_one_settings_error(tmp_path: Path) -> None:
    settings = Settings().model_copy(update={"key_store": "nosuch"})
    with pytest.raises(SettingsError) as caught:
        stores.open_key_store(settings, tmp_path / "keyring.json")
    assert caught.value.context.get("key") == "STREAMSEC_KEY_STORE"
    assert "nosuch" in str(caught.value)


def test_a_registered_store_is_opened_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stores, "_STORES", dict(stores._STORES))
    opened: list[Path] = []

    def opener(settings: Settings, path: Path) -> FileStore:
        opened.append(path)
        return FileStore(path)

    stores.register_key_store("mine", opener)
    settings = Settings().model_copy(update={"key_store": "mine"})
    stores.open_key_store(settings, tmp_path / "k.json")
    assert opened == [tmp_path / "k.json"]


def test_the_kafka_store_is_registered_by_its_package_and_its_entry_point() -> None:
    import streamsec.keystore

    assert stores._STORES["kafka"] is streamsec.keystore.open_kafka_store
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    points = config["project"]["entry-points"][stores.ENTRY_POINT_GROUP]
    module, _, attr = points["kafka"].partition(":")
    assert module == "streamsec.keystore" and attr == "open_kafka_store"


def test_crypto_names_no_key_store_package() -> None:
    """Not even as a string for importlib: the layering holds at run time too."""
    for path in (REPO / "streamsec" / "crypto").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "streamsec.keystore" not in text, path
        assert "import_module" not in text, path
