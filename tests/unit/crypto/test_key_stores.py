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


class _Counted(FileStore):
    """A file store that counts its closes (a Kafka registry's reader stops on close)."""

    closes = 0

    def close(self) -> None:
        self.closes += 1


@pytest.fixture
def counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, list[_Counted]]:
    monkeypatch.setattr(stores, "_STORES", dict(stores._STORES))
    opened: list[_Counted] = []

    def opener(settings: Settings, path: Path) -> FileStore:
        opened.append(_Counted(path))
        return opened[-1]

    stores.register_key_store("counted", opener)
    settings = Settings(keyring=tmp_path / "keyring.json", home=tmp_path / "home",
                        kek_file=tmp_path / "kek.json")  # fmt: skip
    settings = settings.model_copy(update={"key_store": "counted"})
    return settings, opened


def test_a_keyring_releases_its_store_when_it_closes_and_only_then(
    counted: tuple[Settings, list[_Counted]],
) -> None:
    from streamsec.crypto.keyring_setup import init_keyring, open_keyring

    settings, opened = counted
    init_keyring(settings=settings).close()
    with open_keyring(settings) as ring:
        ring.list_keys()
        assert [s.closes for s in opened] == [1, 0]
    assert [s.closes for s in opened] == [1, 1]


def test_a_keyring_that_does_not_open_releases_its_store(
    counted: tuple[Settings, list[_Counted]],
) -> None:
    from streamsec.crypto.keyring_setup import init_keyring, open_keyring
    from streamsec.errors import KeyAccessError

    settings, opened = counted
    with pytest.raises(KeyAccessError, match="not found"):  # nothing created yet
        open_keyring(settings)
    init_keyring(settings=settings).close()
    with pytest.raises(KeyAccessError, match="already exists"):  # init refused
        init_keyring(settings=settings)
    assert [s.closes for s in opened] == [1, 1, 1]
