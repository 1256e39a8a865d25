"""The key registry on Kafka, against the real broker: keys made in one process decrypt
in another within 2 s, concurrent creation ends decryptable, destruction is honoured
everywhere, and forged, replayed or deleted entries are refused."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import create_keyring
from streamsec.crypto.keys import KeyPurpose, KeyState
from streamsec.crypto.providers.local import StaticKekProvider
from streamsec.errors import KeyAccessError, KeyDestroyedError
from streamsec.kafka import KafkaConnection
from streamsec.keystore.kafka_io import produce
from streamsec.keystore.kafka_store import KafkaKeyStore

KEK = os.urandom(32)
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
async def topic(topic_factory: Any) -> str:
    return str(await topic_factory(1, config={"cleanup.policy": "compact"}))  # deleted after


@pytest.fixture
def stores(kafka_bootstrap: str, topic: str) -> Iterator[Callable[[], KafkaKeyStore]]:
    opened: list[KafkaKeyStore] = []

    def make() -> KafkaKeyStore:
        store = KafkaKeyStore(KafkaConnection(kafka_bootstrap), topic)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def _ring(store: KafkaKeyStore, kek_id: str) -> Keyring:
    return Keyring(store, kek_provider=StaticKekProvider(KEK, kek_id=kek_id))


def _kek_id(store: KafkaKeyStore) -> str:
    return store.read()[0].kek.id


_WRITER = """
import sys, time
import streamsec.keystore  # registers STREAMSEC_KEY_STORE=kafka (as the CLI does)
from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyring_setup import open_keyring
cipher = KeyringCipher(open_keyring(), "orders")
for i in range(int(sys.argv[1])):
    token = cipher.encrypt(b"v%d" % i, path="p", subject="new-%d" % i)
    print(repr(time.time()), token, flush=True)
"""


def test_a_key_made_in_another_process_decrypts_here_within_2s(
    stores: Callable[[], KafkaKeyStore], kafka_bootstrap: str, topic: str
) -> None:
    reader_store = stores()
    create_keyring(reader_store, kek=KEK)
    reader = KeyringCipher(Keyring(reader_store, kek=KEK), "orders")
    env = {**os.environ, "PYTHONPATH": str(REPO), "STREAMSEC_KEY_STORE": "kafka",
           "STREAMSEC_BROKER": kafka_bootstrap, "STREAMSEC_KEY_REGISTRY_TOPIC": topic,
           "STREAMSEC_KEK": base64.b64encode(KEK).decode()}  # fmt: skip
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, "5"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert writer.stdout is not None
    delays = []
    for line in writer.stdout:  # as the writer makes each key (it keeps going meanwhile)
        made, token = line.decode().split()
        deadline = time.time() + 5
        while True:
            try:
                value = reader.decrypt(token, path="p")
                break
            except Exception:
                assert time.time() < deadline
                time.sleep(0.01)
        delays.append(time.time() - float(made))
        assert value.startswith(b"v")
    assert writer.wait(timeout=60) == 0, (writer.stderr.read() if writer.stderr else b"")[-2000:]
    assert len(delays) == 5
    print("registry propagation delays (s):", [round(d, 3) for d in delays])
    assert max(delays) < 2.0


def test_concurrent_creation_for_one_new_subject_ends_decryptable(
    stores: Callable[[], KafkaKeyStore],
) -> None:
    first = stores()
    create_keyring(first, kek=KEK)
    second = stores()
    rings = [_ring(first, _kek_id(first)), _ring(second, _kek_id(first))]
    tokens: list[list[str]] = [[], []]
    barrier = threading.Barrier(2)

    def work(i: int) -> None:
        cipher = KeyringCipher(rings[i], "orders")
        barrier.wait()
        tokens[i] = [cipher.encrypt(b"x", path="p", subject=f"s{n}") for n in range(20)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    third = stores()  # a consumer that only has the registry
    cipher = KeyringCipher(_ring(third, _kek_id(first)), "orders")
    assert all(cipher.decrypt(t, path="p") == b"x" for ts in tokens for t in ts)
    time.sleep(0.5)
    current = {r.current_key("orders", KeyPurpose.ENCRYPT, "s0").id for r in rings}
    assert len(current) == 1  # first writer wins, the same for everybody


def test_destroy_is_honoured_everywhere_and_entries_are_authenticated(
    stores: Callable[[], KafkaKeyStore], kafka_bootstrap: str, topic: str
) -> None:
    admin_store = stores()
    create_keyring(admin_store, kek=KEK)
    admin = _ring(admin_store, _kek_id(admin_store))
    worker_store = stores()
    worker = KeyringCipher(_ring(worker_store, _kek_id(admin_store)), "orders")
    token = worker.encrypt(b"secret", path="p", subject="C-1")
    key_id = worker.key_id_of(token)
    conn = KafkaConnection(kafka_bootstrap)
    from streamsec.kafka import read_topic

    written = asyncio.run(read_topic(conn, topic))  # an attacker copies the active entry
    active_entry = next(json.loads(m.value) for m in written if m.key == key_id.encode())
    assert active_entry["record"]["state"] == "active"
    admin.destroy_subject("orders", "C-1")
    deadline = time.time() + 2
    while time.time() < deadline and not isinstance(_error(worker, token), KeyDestroyedError):
        time.sleep(0.02)
    assert isinstance(_error(worker, token), KeyDestroyedError), repr(_error(worker, token))
    forged = {**active_entry, "rev": 99, "mac": "0" * 64}
    refused_before = worker_store.refused
    # a replayed old (validly authenticated) entry, a forged one, and a deleted tombstone
    asyncio.run(produce(conn, topic, [(key_id, active_entry), (key_id, forged)]))
    from streamsec.kafka import new_producer

    async def null() -> None:  # an attacker deletes the tombstone (a Kafka null)
        producer = new_producer(conn)
        await producer.start()
        await producer.send_and_wait(topic, None, key=key_id.encode(), partition=0)
        await producer.stop()

    asyncio.run(null())
    deadline = time.time() + 5
    while time.time() < deadline and worker_store.refused < refused_before + 3:
        time.sleep(0.05)
    assert worker_store.refused == refused_before + 3
    assert isinstance(_error(worker, token), KeyDestroyedError)
    fresh = KeyringCipher(_ring(stores(), _kek_id(admin_store)), "orders")  # a new process
    assert isinstance(_error(fresh, token), KeyDestroyedError)
    with pytest.raises(KeyDestroyedError):  # a forgotten subject stays forgotten
        fresh.encrypt(b"again", path="p", subject="C-1")


def _error(cipher: KeyringCipher, token: str) -> Exception | None:
    try:
        cipher.decrypt(token, path="p")
    except Exception as exc:
        return exc
    return None


def test_rotate_kek_over_the_registry_kills_the_old_version(
    stores: Callable[[], KafkaKeyStore], vault_factory: Any
) -> None:
    """rotate-kek on the Kafka registry with OpenBao (which really destroys versions)."""
    from streamsec.crypto.kek_rotation import rotate_kek

    first = stores()
    ring = create_keyring(first, kek_provider=vault_factory())
    cipher = KeyringCipher(ring, "orders")
    tokens = [cipher.encrypt(b"v%d" % i, path="p", subject=f"s{i}") for i in range(10)]
    old = {r.id: r.kek_version for r in first._records.values()}
    result = rotate_kek(ring)
    assert result.rewrapped == 10
    assert result.destroyed == [("default", "1")]
    fresh_store = stores()  # a new process reads the rotated registry
    fresh = KeyringCipher(Keyring(fresh_store, kek_provider=vault_factory()), "orders")
    assert [fresh.decrypt(t, path="p") for t in tokens] == [b"v%d" % i for i in range(10)]
    assert set(old.values()) == {"1"}
    assert {r.kek_version for r in fresh_store._records.values()} == {"2"}


async def test_a_registry_rewritten_without_its_tombstones_is_refused(
    stores: Callable[[], KafkaKeyStore], kafka_bootstrap: str, topic: str, topic_factory: Any
) -> None:
    """What compaction leaves after an attacker deletes a tombstone (a Kafka null): the
    registry without that entry. The header, written after every erasure, says how
    many destroyed entries there must be, so a fresh process refuses it."""
    from streamsec.kafka import read_topic

    store = stores()
    ring = create_keyring(store, kek=KEK)
    cipher = KeyringCipher(ring, "orders")
    cipher.encrypt(b"x", path="p", subject="C-1")
    cipher.encrypt(b"y", path="p", subject="C-2")
    ring.destroy_subject("orders", "C-1")
    conn = KafkaConnection(kafka_bootstrap)
    log = await read_topic(conn, topic)
    destroyed = {n for n, r in store._records.items() if r.state is KeyState.DESTROYED}
    assert destroyed
    copy = await topic_factory(1, config={"cleanup.policy": "compact"})
    kept = [(m.key.decode(), json.loads(m.value)) for m in log
            if m.key and m.value and m.key.decode() not in destroyed]  # fmt: skip
    await produce(conn, copy, kept)
    rewritten = await asyncio.to_thread(KafkaKeyStore, conn, copy)
    try:
        with pytest.raises(KeyAccessError, match=r"lost \d+ erasure tombstone"):
            await asyncio.to_thread(lambda: Keyring(rewritten, kek=KEK))
    finally:
        rewritten.close()  # its reader thread would outlive the test
