"""Where wrapped data keys live besides the keyring file: the Kafka key registry.

Importing this package registers the ``kafka`` key store
(``STREAMSEC_KEY_STORE=kafka``) with :mod:`streamsec.crypto.stores`; an installed
package also names it in the ``streamsec.key_stores`` entry point group. The Kafka
client itself loads only when a registry is opened.
"""

from __future__ import annotations

from pathlib import Path

from streamsec.crypto.keyfile import KeyringStore
from streamsec.crypto.stores import register_key_store
from streamsec.settings import Settings

__all__ = ["open_kafka_store"]


def open_kafka_store(settings: Settings, path: Path) -> KeyringStore:
    """The registry of ``settings`` (``path``, the keyring file, is not used)."""
    from streamsec.keystore.open import open_registry

    return open_registry(settings)


register_key_store("kafka", open_kafka_store)
