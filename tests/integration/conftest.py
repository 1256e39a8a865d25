"""Integration fixtures: the real Kafka broker, unique topics and groups, produce/consume.

* ``kafka_bootstrap`` (session): ``STREAMSEC_BROKER`` if set, else the project's local
  broker under ``STREAMSEC_HOME`` (started if needed; stopped when the last test
  session holding it ends, unless a person ran ``streamsec broker up``).
* ``topic_factory`` (async): ``await topic_factory(partitions=3)`` -> a new topic name,
  created with the admin client and deleted after the test.
* ``group_factory``: ``group_factory()`` -> a consumer group id unique to the test.
* ``kafka_produce``: ``await kafka_produce(topic, [(key, value, headers), ...])``.
* ``kafka_consume``: ``await kafka_consume(topic, expected=10, timeout=30)`` -> records
  of all partitions from the beginning (read_committed), sorted by partition and offset;
  without ``expected``: everything the topic holds at the call.
* ``private_broker``: a broker of its own (same download, other ports and data) that a
  test may stop, kill and restart; removed after the test.
* ``closing``: ``ring = closing(open_keyring(settings))`` -> the keyring (or store,
  provider...), closed when the test ends, passed or failed.

Every test module must close the Kafka key registries it opens (keyrings over
``STREAMSEC_KEY_STORE=kafka``, ``KafkaKeyStore``): one left open keeps its follower
thread polling the broker after the tests, so a module that leaves one is failed.

Subprocesses a test starts should get ``STREAMSEC_BROKER=<kafka_bootstrap>`` in their
environment, so they use the test broker and never start or stop one themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import ConsumerRecord, RecordMetadata

from streamsec.broker import LocalBroker, ensure_broker, hold_broker, local_broker
from streamsec.broker.install import find_java
from streamsec.errors import BrokerError
from streamsec.kafka import KafkaConnection, new_admin, new_consumer, new_producer
from streamsec.keystore.kafka_store import THREAD_PREFIX
from streamsec.settings import load_settings

KeyLike = bytes | str | None
ValueLike = bytes | str | Mapping[str, Any] | list[Any] | None
HeadersLike = Mapping[str, bytes | str] | Iterable[tuple[str, bytes | str]] | None
RecordSpec = tuple[KeyLike, ValueLike] | tuple[KeyLike, ValueLike, HeadersLike]
Produce = Callable[..., Awaitable[list[RecordMetadata]]]
Consume = Callable[..., Awaitable[list[ConsumerRecord]]]

_INTEGRATION_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(item.path).resolve().is_relative_to(_INTEGRATION_DIR):
            item.add_marker(pytest.mark.integration)


class _Closable(Protocol):
    def close(self) -> Any: ...


C = TypeVar("C", bound=_Closable)


@pytest.fixture
def closing() -> Iterator[Callable[[C], C]]:
    opened: list[_Closable] = []

    def keep(thing: C) -> C:
        opened.append(thing)
        return thing

    yield keep
    for thing in reversed(opened):
        thing.close()


def _registry_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)}


@pytest.fixture(scope="module", autouse=True)
def _no_key_registry_left_open(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails the module (after its last test) if a key registry it opened is still
    following its topic: close every keyring and ``KafkaKeyStore`` a test opens."""
    before = _registry_threads()
    yield
    deadline = time.monotonic() + 5  # close() joins its thread; this is only a margin
    left = _registry_threads() - before
    for thread in left:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    names = sorted(t.name.removeprefix(THREAD_PREFIX) for t in left if t.is_alive())
    if names:
        pytest.fail(
            f"{request.module.__name__} left {len(names)} Kafka key registry reader(s) open "
            f"(topics {', '.join(names)}): close the keyrings and stores its tests open",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    settings = load_settings()
    if settings.broker:
        yield ensure_broker(settings, timeout=60)
        return
    with hold_broker(local_broker(settings), timeout=180) as bootstrap:
        yield bootstrap


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """``unique_name("t")`` -> ``"t-<test name>-<random>"`` (a valid topic/group name)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", request.node.name).strip("-")[:60]

    def make(prefix: str) -> str:
        return f"{prefix}-{stem}-{uuid.uuid4().hex[:8]}"

    return make


@pytest.fixture
def group_factory(unique_name: Callable[[str], str]) -> Callable[[], str]:
    return lambda: unique_name("g")


@pytest.fixture
async def topic_factory(
    kafka_bootstrap: str, unique_name: Callable[[str], str]
) -> AsyncIterator[Callable[..., Awaitable[str]]]:
    created: list[str] = []
    admin = new_admin(KafkaConnection(kafka_bootstrap))
    await admin.start()

    async def make(
        partitions: int = 1, *, name: str | None = None, config: Mapping[str, str] | None = None
    ) -> str:
        topic = name or unique_name("t")
        new = NewTopic(topic, partitions, 1, topic_configs=dict(config or {}))
        response = await admin.create_topics([new])
        for _topic, code, message in response.topic_errors:
            if code != 0:
                raise RuntimeError(f"create_topics({topic}) failed: {code} {message}")
        created.append(topic)
        await _wait_for_leaders(admin, topic, partitions)
        return topic

    try:
        yield make
    finally:
        if created:
            # Best effort: the test may have stopped the broker.
            with contextlib.suppress(Exception):
                await admin.delete_topics(created)
        await admin.close()


async def _wait_for_leaders(admin: AIOKafkaAdminClient, topic: str, partitions: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        described = await admin.describe_topics([topic])
        parts = described[0].get("partitions", []) if described else []
        if len(parts) == partitions and all(p["leader"] >= 0 for p in parts):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} has no leaders after 30s")


def _to_bytes(value: ValueLike) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def _headers(headers: HeadersLike) -> list[tuple[str, bytes]]:
    if headers is None:
        return []
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return [(k, v.encode("utf-8") if isinstance(v, str) else v) for k, v in pairs]


@pytest.fixture
def kafka_produce(kafka_bootstrap: str) -> Produce:
    async def produce(
        topic: str,
        records: Iterable[RecordSpec],
        *,
        partition: int | None = None,
        bootstrap: str | None = None,
    ) -> list[RecordMetadata]:
        producer = new_producer(KafkaConnection(bootstrap or kafka_bootstrap))
        await producer.start()
        try:
            futures = []
            for spec in records:
                key, value = spec[0], spec[1]
                headers = spec[2] if len(spec) > 2 else None  # type: ignore[misc]
                futures.append(
                    await producer.send(
                        topic,
                        value=_to_bytes(value),
                        key=_to_bytes(key),
                        headers=_headers(headers),
                        partition=partition,
                    )
                )
            return list(await asyncio.gather(*futures))
        finally:
            await producer.stop()

    return produce


@pytest.fixture
def kafka_consume(kafka_bootstrap: str) -> Consume:
    async def consume(
        topic: str,
        expected: int | None = None,
        *,
        timeout: float = 30.0,
        settle: float = 0.0,
        isolation_level: str = "read_committed",
        bootstrap: str | None = None,
    ) -> list[ConsumerRecord]:
        """All records from the beginning until ``expected`` arrived or ``timeout``,
        then ``settle`` more seconds to catch extra (duplicate) records. ``expected``
        None or 0: whatever the topic holds now (up to its end offsets at the call)."""
        bootstrap = bootstrap or kafka_bootstrap
        partitions = await _partitions(bootstrap, topic, timeout)
        consumer = new_consumer(
            KafkaConnection(bootstrap), group_id=None, enable_auto_commit=False,
            auto_offset_reset="earliest", isolation_level=isolation_level,
        )
        await consumer.start()
        got: list[ConsumerRecord] = []
        try:
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            deadline = time.monotonic() + timeout
            if expected:
                while len(got) < expected and time.monotonic() < deadline:
                    got.extend(await _poll(consumer))
            else:
                ends = await consumer.end_offsets(tps)
                while time.monotonic() < deadline:
                    positions = [await consumer.position(tp) for tp in tps]
                    if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                        break
                    got.extend(await _poll(consumer))
            settle_until = time.monotonic() + settle
            while time.monotonic() < settle_until:
                got.extend(await _poll(consumer))
        finally:
            await consumer.stop()
        return sorted(got, key=lambda r: (r.partition, r.offset))

    return consume


async def _poll(consumer: AIOKafkaConsumer) -> list[ConsumerRecord]:
    batch = await consumer.getmany(timeout_ms=200)
    return [record for records in batch.values() for record in records]


async def _partitions(bootstrap: str, topic: str, timeout: float) -> set[int]:
    admin = new_admin(KafkaConnection(bootstrap))
    await admin.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            described = await admin.describe_topics([topic])
            parts = described[0].get("partitions", []) if described else []
            if parts and described[0].get("error_code", 0) == 0:
                return {p["partition"] for p in parts}
            if time.monotonic() >= deadline:
                raise RuntimeError(f"topic {topic} not found")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


@pytest.fixture
def private_broker() -> Iterator[LocalBroker]:
    """A broker of this test's own: ``.start()`` -> bootstrap, ``.stop()``, ``.kill()``."""
    try:
        find_java()
    except BrokerError as exc:
        pytest.skip(f"a private broker needs java: {exc}")
    settings = load_settings()
    broker = LocalBroker(settings.home, f"test-{uuid.uuid4().hex[:10]}", heap="512m")
    try:
        yield broker
    finally:
        broker.stop(timeout=20)
        shutil.rmtree(broker.layout.dir, ignore_errors=True)


class SecureCluster:
    """The session's secured broker: SASL_SSL (SCRAM-SHA-512) and mTLS listeners,
    ``StandardAuthorizer`` without default access; users ``admin`` (super user),
    ``streamsec`` and ``reader`` (both need ACLs)."""

    def __init__(self, broker: LocalBroker) -> None:
        self.broker = broker
        self.material = broker.material
        self.bootstrap = str(broker.bootstrap)
        self.mtls_bootstrap = str(broker.mtls_bootstrap)

    def env(self, user: str, mode: str = "scram") -> dict[str, str]:
        """The ``STREAMSEC_*`` connection variables of ``user`` (``scram`` or ``mtls``)."""
        return self.material.environment(
            user, bootstrap=self.bootstrap, mtls_bootstrap=self.mtls_bootstrap,
            mtls=mode == "mtls",
        )

    def connection(self, user: str = "admin", mode: str = "scram") -> Any:
        from streamsec.kafka import connect
        from streamsec.settings import Settings

        values = {k.removeprefix("STREAMSEC_").lower(): v for k, v in self.env(user, mode).items()}
        return connect(Settings(**values))


@pytest.fixture(scope="session")
def secure_kafka() -> Iterator[SecureCluster]:
    """One secured broker of the session's own (free ports), stopped and removed at the end."""
    try:
        find_java()
    except BrokerError as exc:
        pytest.skip(f"a secured broker needs java: {exc}")
    settings = load_settings()
    broker = LocalBroker(
        settings.home, f"secure-{uuid.uuid4().hex[:10]}", heap="512m", secure=True
    )
    try:
        broker.start(timeout=180)
        yield SecureCluster(broker)
    finally:
        broker.stop(timeout=20)
        shutil.rmtree(broker.layout.dir, ignore_errors=True)
