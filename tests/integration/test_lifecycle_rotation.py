"""Key rotation while a real ``streamsec worker`` runs: no restart, everything decrypts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyfile import FileStore
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import create_keyring
from streamsec.crypto.keys import KeyPurpose
from streamsec.decryption.decryptor import Decryptor
from streamsec.decryption.envelopes import key_ids_in
from streamsec.topology.loader import load_topology
from streamsec.worker.process import WorkerProcess

pytestmark = pytest.mark.integration


def _records(start: int, n: int) -> list[tuple[bytes, bytes]]:
    return [
        (f"r-{i}".encode(), json.dumps({"id": i, "email": f"user{i}@example.com",
                                        "tier": "gold"}).encode())
        for i in range(start, start + n)
    ]


async def test_rotation_is_picked_up_by_a_running_worker(
    tmp_path: Path, kafka_bootstrap: str, topic_factory: Any, group_factory: Any,
    kafka_produce: Any, kafka_consume: Any,
) -> None:
    topics = {k: await topic_factory(1) for k in ("input", "output", "audit", "lineage",
                                                   "dead_letter")}
    topo_path = tmp_path / "rot.yaml"
    topo_path.write_text(
        "name: rot\n" + "".join(f"{k}: {v}\n" for k, v in topics.items())
        + "fields:\n  email: {action: encrypt, entity: EMAIL_ADDRESS}\n"
    )
    keyring_path = tmp_path / "keyring.json"
    create_keyring(keyring_path)
    (tmp_path / "home").mkdir()  # faust creates <home>/worker but not its parents
    env = {"STREAMSEC_BROKER": kafka_bootstrap, "STREAMSEC_HOME": str(tmp_path / "home"),
           "STREAMSEC_KEYRING": str(keyring_path), "STREAMSEC_METRICS_PORT": "0",
           "STREAMSEC_WEB_PORT": "0"}
    worker = WorkerProcess(
        [topo_path], env=env, log_file=tmp_path / "worker.log",
        args=["--app-id", group_factory(), "--detector", "streamsec.testing:FakeDetector"],
    ).start()
    try:
        await kafka_produce(topics["input"], _records(0, 5))
        first = await kafka_consume(topics["output"], expected=5, timeout=90)
        assert len(first) == 5, (tmp_path / "worker.log").read_text()[-3000:]
        ring = Keyring(FileStore(keyring_path), refresh_interval=0.0)
        old_id = ring.current_key("rot", KeyPurpose.ENCRYPT).id
        new = ring.rotate("rot", KeyPurpose.ENCRYPT)
        await asyncio.sleep(1.5)  # the worker re-reads the keyring at most once a second
        await kafka_produce(topics["input"], _records(5, 5))
        out = await kafka_consume(topics["output"], expected=10, timeout=60)
        assert worker.running, "the worker must not have restarted"
    finally:
        assert worker.stop() == 0
    assert len(out) == 10
    values = [json.loads(r.value) for r in out]
    assert [key_ids_in(v) for v in values[:5]] == [{old_id}] * 5
    assert [key_ids_in(v) for v in values[5:]] == [{new.id}] * 5
    decryptor = Decryptor(load_topology(topo_path), cipher=KeyringCipher(ring, "rot"))
    for i, value in enumerate(values):
        assert decryptor.decrypt(value)["email"] == f"user{i}@example.com"
