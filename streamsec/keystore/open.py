"""Open the Kafka key registry the settings name (``STREAMSEC_KEY_STORE=kafka``)."""

from __future__ import annotations

import threading

from streamsec.keystore.kafka_store import KafkaKeyStore
from streamsec.settings import Settings

__all__ = ["open_registry"]

_OPEN: dict[tuple[str, str], KafkaKeyStore] = {}
_LOCK = threading.Lock()


def open_registry(settings: Settings) -> KafkaKeyStore:
    """One registry follower per bootstrap and topic in a process: keyrings share it,
    and the last one to close stops it."""
    from streamsec.kafka import connect

    conn = connect(settings)
    key = (conn.bootstrap, settings.key_registry_topic)
    with _LOCK:
        store = _OPEN.get(key)
        if store is None or not store.acquire():
            store = _OPEN[key] = KafkaKeyStore(conn, settings.key_registry_topic)
        return store
