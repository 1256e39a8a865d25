"""The tamper suite over a real audit stream: a ``streamsec worker`` protects records
on the broker, its audit topic is read back, and every generated tamper of that
stream (edits, deletions, insertions, swaps, truncation, forged signatures) is caught
by a verifier holding only the worker's public key."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from streamsec.events.signing import FileSigner
from streamsec.events.trust import TrustStore
from streamsec.events.verify import verify
from streamsec.worker.process import WorkerProcess, read_topics
from tests.integration.test_worker_pipeline import (
    make_deployment,
    mixed_records,
    worker_env,
    write_topology,
)
from tests.unit.events.test_tamper_suite import cases, judge

pytestmark = pytest.mark.integration


async def test_tamper_suite_over_a_real_audit_stream(
    tmp_path: Any, kafka_bootstrap: str, topic_factory: Any, group_factory: Any,
    kafka_produce: Any, kafka_consume: Any,
) -> None:
    topics = await make_deployment(tmp_path, topic_factory, partitions=3)
    topology = write_topology(tmp_path / "t.yaml", "tamper", topics)
    records, _ = mixed_records(60, seed=5)
    await kafka_produce(topics["input"], records)
    env = worker_env(tmp_path, kafka_bootstrap)
    worker = WorkerProcess(
        [topology], env=env, log_file=tmp_path / "worker.log",
        args=["--app-id", group_factory(), "--detector", "streamsec.testing:FakeDetector"],
    ).start()
    try:
        await read_topics(
            kafka_bootstrap, [topics["output"], topics["dead_letter"]], len(records),
            timeout=180, alive=lambda: worker.running,
        )
    finally:
        assert worker.stop() == 0  # graceful: every chain ends with a final checkpoint
    audit = await kafka_consume(topics["audit"], timeout=30)
    stream = [json.loads(r.value) for r in audit]
    signer = FileSigner.open(Path(os.environ["STREAMSEC_AUDIT_SIGNING_KEY"]), create=False)
    key_of = TrustStore.of_signers(signer.public_key())  # the worker's public key only

    untouched = verify(stream, key_of)
    assert untouched.ok, untouched.first_problems
    assert len(untouched.chains) == 3 and all(c.closed for c in untouched.chains)
    assert verify([r.value for r in audit], key_of) == untouched  # the bytes as read

    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    missed: list[str] = []
    for case in cases(stream):
        total[case.kind] += 1
        if judge(case, verify(case.events, key_of)):
            caught[case.kind] += 1
        else:
            missed.append(f"{case.kind}: {case.name}")
    summary = ", ".join(f"{k} {caught[k]}/{total[k]}" for k in sorted(total))
    print(f"\nreal audit stream: {len(stream)} events in {len(untouched.chains)} chains; "
          f"tampers caught {sum(caught.values())}/{sum(total.values())} ({summary})")
    assert set(total) == {"modified", "forged", "deleted", "inserted", "reordered", "truncated"}
    assert not missed, "\n".join(missed[:20])
