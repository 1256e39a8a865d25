"""Key stores by name: where wrapped data keys live (``STREAMSEC_KEY_STORE``).

The keyring code only knows the :class:`~streamsec.crypto.keyfile.KeyringStore`
protocol and this table; it never names a store that needs more than the core
(the Kafka key registry needs a Kafka client). ``file`` is built in. Any other
store is registered by the package that provides it, in one of two ways:

* the Python entry point group ``streamsec.key_stores`` (``pyproject.toml`` names
  the Kafka key registry's opener as ``kafka``), read the first time an unknown
  name is asked for; or
* :func:`register_key_store`, called when the providing package is imported (the
  key-registry package registers ``kafka`` so; the CLI imports it).

An opener is ``opener(settings, path) -> KeyringStore``. An unknown name is a
settings error naming ``STREAMSEC_KEY_STORE``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

from streamsec.crypto.keyfile import FileStore, KeyringStore
from streamsec.errors import SettingsError
from streamsec.settings import Settings

__all__ = ["ENTRY_POINT_GROUP", "StoreOpener", "open_key_store", "register_key_store"]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "streamsec.key_stores"
StoreOpener = Callable[[Settings, Path], KeyringStore]


def _file_store(settings: Settings, path: Path) -> KeyringStore:
    return FileStore(path)


_STORES: dict[str, StoreOpener] = {"file": _file_store}
_LOCK = threading.Lock()


def register_key_store(name: str, opener: StoreOpener) -> None:
    """Make ``STREAMSEC_KEY_STORE=name`` open stores with ``opener`` (idempotent)."""
    with _LOCK:
        _STORES[name] = opener


def _from_entry_points(name: str) -> StoreOpener | None:
    for point in entry_points(group=ENTRY_POINT_GROUP, name=name):
        try:
            opener: StoreOpener = point.load()
        except ImportError as exc:
            raise SettingsError(
                f"key store {name!r} is installed but cannot be loaded ({exc.name} is missing)",
                key="STREAMSEC_KEY_STORE",
            ) from None
        register_key_store(name, opener)
        return opener
    return None


def open_key_store(settings: Settings, path: Path) -> KeyringStore:
    """The key store ``settings.key_store`` names, for the keyring at ``path``."""
    name = settings.key_store
    with _LOCK:
        opener = _STORES.get(name)
    if opener is None:
        opener = _from_entry_points(name)
    if opener is None:
        raise SettingsError(
            f"no key store named {name!r} is installed (entry point group "
            f"{ENTRY_POINT_GROUP}, or import the package that provides it)",
            key="STREAMSEC_KEY_STORE",
        )
    return opener(settings, path)
