"""``ProtectedConsumer``: read a protected topic as one role, decrypting what it may.

::

    async with ProtectedConsumer.open("topologies/customers.yaml", "support",
                                      from_beginning=True) as consumer:
        async for item in consumer:
            print(item.value)          # permitted fields decrypted, others ciphertext

Every decryption is audited *before* the clear record is handed out: one
``io.streamsec.field.decrypted`` event per field and key, sealed in the
consumer's own audit chain, delivered to the topology's audit topic (or any
:class:`~streamsec.events.sinks.AuditSink`, e.g. a file offline). If the audit
events cannot be delivered, iteration raises and nothing in clear is returned.
Keys come from the keyring, which is re-read at most once a second: a rotation or
an erasure is seen without restarting.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

import streamsec.keystore  # noqa: F401 (registers the kafka key store)
from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.provider import KeyProvider
from streamsec.decryption.roles import RoleAccess
from streamsec.decryption.strict import StrictChecker
from streamsec.decryption.view import RoleDecryptor, decrypt_events
from streamsec.errors import ConfigError, RecordError, StreamsecError
from streamsec.events.audit import RecordRef
from streamsec.events.signing import AuditIdentity
from streamsec.events.sinks import AuditSink, FileAuditSink, actor_id
from streamsec.events.trail import AuditTrail
from streamsec.kafka import (
    KafkaAuditSink,
    KafkaConnection,
    connect,
    diagnosed,
    new_consumer,
    translate,
)
from streamsec.records.decoding import decode_record
from streamsec.settings import Settings, load_settings
from streamsec.topology.loader import load_topology
from streamsec.topology.model import Topology

__all__ = ["ConsumedRecord", "ProtectedConsumer"]


@dataclass(frozen=True, slots=True)
class ConsumedRecord:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: dict[str, Any] | None
    """The record, permitted fields decrypted; ``None`` when it could not be read."""
    headers: dict[str, str] = field(default_factory=dict)
    decrypted: tuple[str, ...] = ()
    denied: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    error: str | None = None
    """Reason code when the record is not a readable protected record."""
    violations: tuple[tuple[str, str], ...] = ()
    """Strict mode: ``(path, reason)`` of why the record was withheld."""
    legacy_envelopes: int = 0
    """Strict mode: version-1 envelopes in the record (readable, not bound to it)."""

    def as_json(self, *, meta: bool = False) -> dict[str, Any] | None:
        if not meta:
            return self.value
        return {
            "topic": self.topic, "partition": self.partition, "offset": self.offset,
            "key": self.key, "value": self.value, "decrypted": list(self.decrypted),
            "denied": list(self.denied), "failed": [list(f) for f in self.failed],
            "error": self.error, "violations": [list(v) for v in self.violations],
        }


class ProtectedConsumer:
    def __init__(
        self,
        topology: Topology,
        role: str | None,
        *,
        provider: KeyProvider,
        bootstrap: str,
        decrypt: bool = True,
        topic: str | None = None,
        group_id: str | None = None,
        from_beginning: bool = False,
        audit: AuditSink | None = None,
        identity: AuditIdentity | None = None,
        actor: str | None = None,
        idle_timeout: float | None = None,
        max_bytes: int = 1_048_576,
        max_depth: int = 32,
        options: Mapping[str, Any] | None = None,
        connection: KafkaConnection | None = None,
        strict: bool = False,
    ) -> None:
        if decrypt and role is None:
            raise ConfigError("decrypting needs a role (--as ROLE, or --as all)", key="role")
        self.topology = topology
        self.role = role
        self.topic = topic or topology.output
        self.decrypt = decrypt
        self.idle_timeout = idle_timeout
        self._limits = (max_bytes, max_depth)
        self._actor = actor or actor_id(None, "consumer")
        self._decryptor = (
            RoleDecryptor(KeyringCipher(provider, topology.name), RoleAccess(topology, role))
            if decrypt and role is not None else None
        )
        self._strict = StrictChecker(topology) if strict else None
        self._provider = provider
        self._identity = identity
        self._trail: AuditTrail | None = None
        self._audited = False
        self._own_sink = audit is None
        self._conn = connection or KafkaConnection(bootstrap, dict(options or {}))
        self._group = group_id
        self._audit: AuditSink = audit or KafkaAuditSink(self._conn, topology.audit)
        self._consumer_options: dict[str, Any] = {
            "group_id": group_id, "enable_auto_commit": group_id is not None,
            "auto_offset_reset": "earliest" if from_beginning else "latest",
        }
        self._consumer: AIOKafkaConsumer | None = None
        self._owned: Any = None
        """A keyring :meth:`open` opened for this consumer (closed by :meth:`stop`)."""

    @classmethod
    def open(
        cls, topology: Topology | str | Path, role: str | None, *,
        settings: Settings | None = None, bootstrap: str | None = None,
        audit_file: Path | str | None = None, **kwargs: Any,
    ) -> ProtectedConsumer:
        """A consumer over the configured keyring and broker (``audit_file``: audit offline)."""
        from streamsec.crypto.keyring_setup import open_keyring

        settings = settings or load_settings()
        topo = topology if isinstance(topology, Topology) else load_topology(topology)
        conn = connect(settings, bootstrap)
        keyring = open_keyring(settings)
        consumer = cls(
            topo, role, provider=keyring, bootstrap=conn.bootstrap,
            connection=conn, audit=FileAuditSink(audit_file) if audit_file else None,
            identity=AuditIdentity.from_settings(settings) if kwargs.get("decrypt", True)
            else None,
            actor=actor_id(settings, "consumer"),
            max_bytes=settings.max_record_bytes, max_depth=settings.max_depth, **kwargs,
        )
        consumer._owned = keyring  # closed by stop(): a key registry's reader thread
        return consumer

    def __repr__(self) -> str:
        return f"ProtectedConsumer(topic={self.topic!r}, role={self.role!r})"

    async def start(self) -> None:
        if self._decryptor is not None:
            if self._identity is None:  # fail closed: no decryption without a signed audit
                raise ConfigError("decrypting needs an audit signing identity", key="identity")
            self._trail = AuditTrail(self._identity, actor=self._actor, topology=self.topology.name)
        consumer = new_consumer(self._conn, self.topic, **self._consumer_options)
        with diagnosed():
            try:
                await consumer.start()
            except (KafkaError, OSError) as exc:
                await consumer.stop()
                raise translate(
                    exc, self._conn, topic=self.topic, group=self._group, doing="reading"
                ) from None
        self._consumer = consumer

    async def stop(self) -> None:
        try:
            if self._trail is not None and self._audited:
                await self._audit.send(self._trail.close())
        finally:
            if self._consumer is not None:
                await self._consumer.stop()
                self._consumer = None
            if self._own_sink and isinstance(self._audit, KafkaAuditSink):
                await self._audit.stop()
            if self._owned is not None:
                owned, self._owned = self._owned, None
                owned.close()

    async def __aenter__(self) -> ProtectedConsumer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def __aiter__(self) -> AsyncIterator[ConsumedRecord]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ConsumedRecord]:
        if self._consumer is None:
            raise RuntimeError("start the consumer first (or use 'async with')")
        idle_since = time.monotonic()
        while True:
            with diagnosed():
                try:
                    batch = await self._consumer.getmany(timeout_ms=200)
                except (KafkaError, OSError) as exc:
                    raise translate(
                        exc, self._conn, topic=self.topic, group=self._group, doing="reading"
                    ) from None
            if not batch:
                if self.idle_timeout is not None and (
                    time.monotonic() - idle_since >= self.idle_timeout
                ):
                    return
                continue
            idle_since = time.monotonic()
            for _, messages in sorted(batch.items(), key=lambda kv: kv[0].partition):
                for message in messages:
                    yield await self._handle(message)

    async def _handle(self, m: Any) -> ConsumedRecord:
        headers = tuple((k, bytes(v)) for k, v in (m.headers or ()))
        shown = {k: v.decode("utf-8", "replace") for k, v in headers}
        base = {"topic": m.topic, "partition": m.partition, "offset": m.offset, "headers": shown}
        try:
            key = None if m.key is None else m.key.decode("utf-8")
        except UnicodeDecodeError:
            return ConsumedRecord(key=None, value=None, error="key_decode", **base)
        if m.value is None:
            return ConsumedRecord(key=key, value=None, error="tombstone", **base)
        try:
            record = decode_record(m.value, max_bytes=self._limits[0], max_depth=self._limits[1])
        except RecordError as exc:
            return ConsumedRecord(key=key, value=None, error=exc.reason, **base)
        if self._decryptor is None or self._trail is None:
            withheld = self._withheld(record, key, (), base)
            return withheld or ConsumedRecord(key=key, value=record, **base)
        try:
            view = self._decryptor.view(record, key=key)  # headers grant nothing
        except StreamsecError as exc:
            return ConsumedRecord(key=key, value=None, error=exc.reason, **base)
        withheld = self._withheld(record, key, view.failed, base)
        if withheld is not None:
            return withheld  # nothing disclosed: no decryption event
        ref = RecordRef.of(m.topic, m.partition, m.offset, m.key, self._trail.pseudonyms)
        events = decrypt_events(
            view, role=str(self.role), actor=self._actor, topology=self.topology.name,
            record=ref,
        )
        if events:
            await self._audit.send(self._trail.sign(events))  # audited before disclosed
            self._audited = True
        return ConsumedRecord(
            key=view.key, value=view.record, decrypted=tuple(r.path for r in view.reads),
            denied=view.denied, failed=view.failed, **base,
        )

    def _withheld(
        self, record: dict[str, Any], key: str | None, failed: tuple[tuple[str, str], ...],
        base: dict[str, Any],
    ) -> ConsumedRecord | None:
        """Strict mode: the withheld record and why, or ``None`` when it may be shown."""
        if self._strict is None:
            return None
        report = self._strict.check(record, key=key, failed=failed)
        if report.ok:
            return None
        return ConsumedRecord(
            key=None, value=None, error="strict", failed=failed,
            violations=tuple((v.path, v.reason) for v in report.violations),
            legacy_envelopes=report.legacy, **base,
        )
