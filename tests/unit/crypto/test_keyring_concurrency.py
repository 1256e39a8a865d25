"""Several processes sharing one keyring file create exactly one key per slot."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

from streamsec.crypto.keyfile import FileStore
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import create_keyring
from streamsec.crypto.keys import KeyPurpose
from streamsec.crypto.providers.local import LocalKekProvider

WORKERS = 4
OWNERS = [f"topology-{i}" for i in range(8)]


def _worker(path: str, barrier: Any, queue: Any) -> None:
    ring = Keyring(
        FileStore(path), kek_provider=LocalKekProvider(Path(path).with_name("kek.json"))
    )  # opened before any key exists
    barrier.wait()
    ids = [ring.current_key(owner, KeyPurpose.ENCRYPT).id for owner in OWNERS]
    ids.append(ring.current_key("shared", KeyPurpose.ENCRYPT, "subject-1").id)
    queue.put(ids)


def test_concurrent_get_or_create_from_processes_yields_one_key(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    create_keyring(path)
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(WORKERS)
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(path), barrier, queue)) for _ in range(WORKERS)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    assert all(r == results[0] for r in results), results
    doc = json.loads(path.read_text())
    assert len(doc["keys"]) == len(OWNERS) + 1
    assert sorted(k["id"] for k in doc["keys"]) == sorted(results[0])
