"""The key registry on Kafka (``STREAMSEC_KEY_STORE=kafka``): a compacted topic of
wrapped data keys, shared by every process on every host.

* One record per key version (Kafka key = key id) and one header record
  (``__header__``: KEK id, the wrapped index keys). Values are JSON; material is
  only ever *wrapped* (by the KEK provider). The topic has one partition, so the
  log order is the one order every process sees.
* Every process reads the topic to its end at start, then follows it in a
  background thread. A writer waits until its own records are acknowledged
  (``acks=all``) and read back, so a key it created is in the registry before it
  is used; another process finds it at once when asked for an unknown key id.
* **Concurrent creation**: two workers creating the first key of the same new
  subject both write; both versions decrypt (by id), and the *first in offset
  order* is the current one for everybody (first writer wins), so every record
  encrypted under either stays decryptable.
* **Authenticated entries**: each value carries ``mac``, HMAC-SHA256 under a key
  derived (HKDF) from the KEK-wrapped index key (:mod:`streamsec.crypto.integrity`),
  and a per-key revision. An entry that fails its MAC, goes back in state
  (destroyed -> active: a replayed old entry) or in revision, or a Kafka null
  (a dropped tombstone) is refused and counted (:attr:`refused`); destroyed keys
  are kept as ``destroyed`` entries, never deleted, so erasure survives compaction.

Not mocked anywhere: tests run it against the real broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Hashable, Iterator
from concurrent.futures import Future
from typing import Any

import orjson

from streamsec.crypto.bulk import bulk_load
from streamsec.crypto.integrity import entry_mac
from streamsec.crypto.keyfile import KeyRecord, KeyringDocument
from streamsec.crypto.keys import KeyState
from streamsec.errors import KeyAccessError
from streamsec.keystore.entries import key_record, open_entry
from streamsec.keystore.kafka_io import Producer, end_offset, ensure_topic, follow

__all__ = ["THREAD_PREFIX", "KafkaKeyStore"]

log = logging.getLogger(__name__)

HEADER = "__header__"
THREAD_PREFIX = "key-registry:"
"""Every store's follower thread is named so (then the topic): a test can tell one left open."""
_RANK = {KeyState.ACTIVE: 0, KeyState.RETIRED: 1, KeyState.DESTROYED: 2}
_DONE = ("", b"")


class KafkaKeyStore:
    """A :class:`~streamsec.crypto.keyfile.KeyringStore` over a compacted topic."""

    entry_authenticated = True
    """The keyring checks entries here (per-entry MACs), not a whole-document MAC."""

    def __init__(self, conn: Any, topic: str, *, start_timeout: float = 60.0) -> None:
        self.conn, self.topic = conn, topic
        self._cond = threading.Condition()
        self._header: dict[str, Any] | None = None
        self._records: dict[str, KeyRecord] = {}  # key id -> verified record, log order
        self._revs: dict[str, int] = {}  # key id -> its entry's revision, when not 1
        self._erased = 0  # destroyed entries held: the header says how many there must be
        self._unverified: list[tuple[str, bytes]] = []  # raw, until the MAC key is known
        self._raw_header: bytes | None = None
        self._mac_key: bytes | None = None
        self._applied = 0
        self._offset = -1
        self._write_lock = threading.Lock()
        self.refused = 0
        self._users = 1  # keyrings of one process share a store (keystore.open)
        self.closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name=THREAD_PREFIX + topic)  # fmt: skip
        self._thread.start()
        self._stop = asyncio.Event()
        self._producer = Producer(conn)
        self._probe: list[Any] = []
        self._forgotten: set[tuple[str, str]] = set()
        self._run(ensure_topic(conn, topic)).result(timeout=start_timeout)
        ready: Future[None] = Future()
        with bulk_load():  # a million small objects: no generational GC passes meanwhile
            self._follower = self._run(follow(conn, topic, self._apply, ready, self._stopped()))
            ready.result(timeout=start_timeout)  # read to the end before first use

    def __repr__(self) -> str:
        return f"KafkaKeyStore(topic={self.topic!r}, keys={len(self._records)})"

    def _run(self, coro: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def _stopped(self) -> None:
        await self._stop.wait()

    def acquire(self) -> bool:
        """One more user of this store (``False`` once closed): :meth:`close` stops it
        after the last user's."""
        with self._write_lock:
            if self.closed:
                return False
            self._users += 1
            return True

    def close(self) -> None:
        with self._write_lock:
            self._users -= 1
            if self._users > 0 or self.closed:
                return
            self.closed = True
        self._loop.call_soon_threadsafe(self._stop.set)
        with contextlib.suppress(Exception):
            self._follower.result(timeout=10)
        with contextlib.suppress(Exception):
            self._run(self._producer.stop()).result(timeout=10)
        for probe in self._probe:
            with contextlib.suppress(Exception):
                self._run(probe.stop()).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    # --- following the log (the background thread) -----------------------------------

    def _apply(self, batch: list[tuple[int, bytes | None, bytes | None]]) -> None:
        """A fetched batch of ``(offset, key, value)``, in log order, under one lock."""
        with self._cond:
            for offset, key, value in batch:
                self._offset = offset
                name = (key or b"").decode("utf-8", "replace")
                if value is None:
                    self._refuse(name, "a deleted entry (Kafka null): tombstones are never dropped")
                elif self._mac_key is None:
                    self._unverified.append((name, value))
                    if name == HEADER:
                        self._raw_header = value
                else:
                    self._accept(name, value)
            self._applied += 1
            self._cond.notify_all()

    def _refuse(self, name: str, why: str) -> None:
        self.refused += 1
        log.warning("key registry: refused entry %s at offset %d: %s", name[:16], self._offset,
                    why)  # fmt: skip

    def _accept(self, name: str, raw: bytes) -> None:
        assert self._mac_key is not None
        entry = open_entry(self._mac_key, raw)
        if entry is None:
            self._refuse(name, "fails authentication (forged, edited or not an entry)")
            return
        if name == HEADER:
            old = self._header
            if old is not None and int(entry.get("rev", 0)) <= int(old.get("rev", 0)):
                self._refuse(name, "an older header (rollback)")
            else:
                self._header = entry
            return
        try:
            record = key_record(entry["record"])
            rev = int(entry["rev"])
        except (AttributeError, KeyError, TypeError, ValueError):
            self._refuse(name, "not a key entry")
            return
        had = self._records.get(name)
        if had is not None and (
            _RANK[record.state] < _RANK[had.state] or rev <= self._revs.get(name, 1)
        ):
            self._refuse(name, "older than what the registry holds (rollback)")
            return
        if (
            had is None and record.subject is not None and record.version == 1
            and record.state is not KeyState.DESTROYED
            and (record.owner, record.subject) in self._forgotten
        ):  # fmt: skip
            self._refuse(name, "a first key for a subject erased before it in the log")
            return
        if record.state is KeyState.DESTROYED:
            if record.subject is not None:
                self._forgotten.add((record.owner, record.subject))
            if had is None or had.state is not KeyState.DESTROYED:
                self._erased += 1
        self._records[name] = record
        if rev != 1 or had is not None:  # most keys never change: 1 is not stored
            self._revs[name] = rev

    def use_mac_key(self, key: bytes) -> None:
        """Called by the keyring once it has unwrapped the index key."""
        with self._cond:
            if self._mac_key == key:
                return
            self._mac_key, pending, self._unverified = key, self._unverified, []
            self._raw_header = None
            with bulk_load():
                for i, (name, raw) in enumerate(pending):  # in log order
                    pending[i] = _DONE  # each raw entry is freed once parsed
                    self._accept(name, raw)
            self._applied += 1

    # --- KeyringStore --------------------------------------------------------------------

    def exists(self) -> bool:
        with self._cond:
            return self._header is not None or self._raw_header is not None

    def signature(self) -> Hashable:
        return self._applied

    def read(self) -> tuple[KeyringDocument, Hashable]:
        with self._cond:
            header = self._header
            if header is None and self._raw_header is not None:  # to find the index key
                header = _unchecked(self._raw_header)
            if header is None:
                raise KeyAccessError(
                    "the key registry is empty; create it with `streamsec keys init`",
                    topic=self.topic,
                )
            lost = int(header.get("erased", 0)) - self._erased
            if header is self._header and lost > 0:  # checked once entries are verified
                raise KeyAccessError(
                    f"the key registry lost {lost} erasure tombstone(s): refusing it",
                    topic=self.topic,
                )
            document = KeyringDocument.model_validate(header["document"])
            keys = tuple(self._records.values())  # authenticated, parsed once each
            return document.model_copy(update={"keys": keys}), self._applied

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """This process only: other processes race, and the log order decides. Taking it
        first reads the registry up to its current end, so a change (a subject's
        erasure, say) is made on everything written before it."""
        with self._write_lock:
            self.sync()
            yield

    def sync(self, timeout: float = 30.0) -> None:
        """Wait until everything written to the registry so far has been applied here."""
        end = self._run(end_offset(self._probe, self.conn, self.topic)).result(timeout=timeout)
        with self._cond:
            if not self._cond.wait_for(lambda: self._offset >= end - 1, timeout=timeout):
                raise KeyAccessError("the key registry did not catch up", topic=self.topic)

    def write(self, document: KeyringDocument) -> Hashable:
        if self._mac_key is None:
            raise KeyAccessError("the key registry is written only after it is unlocked")
        body = document.model_dump(mode="json", exclude={"keys", "mac", "generation"})
        out: list[tuple[str, dict[str, Any]]] = []
        erased = sum(1 for k in document.keys if k.state is KeyState.DESTROYED)
        with self._cond:
            for record in document.keys:
                had = self._records.get(record.id)
                if had is record:  # unchanged: the very object this store made
                    continue
                data = record.model_dump(mode="json")
                if had is None or had.model_dump(mode="json") != data:
                    rev = None if had is None else self._revs.get(record.id, 1)
                    out.append((record.id, self._entry({"record": data}, rev)))
            header = self._header
            if header is None or header["document"] != body or header.get("erased", 0) < erased:
                # last: a reader never sees a header promising tombstones not yet written
                rev = None if header is None else int(header.get("rev", 0))
                out.append((HEADER, self._entry({"document": body, "erased": erased}, rev)))
        if out:
            last = self._run(self._producer.send(self.topic, out)).result(timeout=60)
            with self._cond:
                if not self._cond.wait_for(lambda: self._offset >= last, timeout=60):
                    raise KeyAccessError("the key registry did not read back its write",
                                         topic=self.topic)  # fmt: skip
        return self._applied

    def _entry(self, body: dict[str, Any], rev: int | None) -> dict[str, Any]:
        assert self._mac_key is not None
        entry = {**body, "rev": 1 if rev is None else rev + 1}
        return {**entry, "mac": entry_mac(self._mac_key, entry)}


def _unchecked(raw: bytes) -> dict[str, Any] | None:
    """The header as written, before its MAC can be checked (only its wrapped index
    key is used, to derive the MAC key that then checks it)."""
    try:
        entry = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return entry if isinstance(entry, dict) and isinstance(entry.get("document"), dict) else None
