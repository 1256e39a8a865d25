"""kill -9 three times while a worker protects 20,000 records on the real broker: every
successor closes the chains its predecessor left open with a signed handover record,
and ``streamsec audit verify --topic`` with only the trust store calls the trail intact
(exit 0) and lists the abandoned chains. A real tamper of that trail still fails."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from streamsec.cli.main import main
from streamsec.events.canonical import wire
from streamsec.events.signing import FileSigner, public_key_b64
from streamsec.worker.process import WorkerProcess, read_topics
from tests.integration.test_worker_failures import deployment, keys_of, make_topics, records

pytestmark = pytest.mark.integration

FAKE = ["--detector", "streamsec.testing:FakeDetector"]
TOTAL = 20_000
KILL_AT = (3_000, 8_000, 13_000)


def _cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


async def test_three_kills_leave_an_intact_trail_with_abandoned_chains(
    tmp_path: Path, kafka_bootstrap: str, topic_factory: Any, group_factory: Any,
    kafka_produce: Any, kafka_consume: Any,
) -> None:
    started = time.monotonic()
    topics = await make_topics(topic_factory, partitions=3)
    topology, env = deployment(
        tmp_path, kafka_bootstrap, topics, STREAMSEC_BATCH_SIZE="50",
        STREAMSEC_AUDIT_DIGEST_INTERVAL="2",
    )
    signing_key = os.environ["STREAMSEC_AUDIT_SIGNING_KEY"]  # the workers' (tests/conftest.py)
    code, out = await asyncio.to_thread(_cli, "audit", "keygen", "--key", signing_key)
    assert code == 0
    public = out.split()[1]
    trust, operator = tmp_path / "trust.json", tmp_path / "operator.key"
    code, _ = await asyncio.to_thread(
        _cli, "audit", "operator-key", "--out", str(operator), "--trust-store", str(trust)
    )
    assert code == 0
    code, _ = await asyncio.to_thread(
        _cli, "audit", "certify", "--operator-key", str(operator), "--trust-store", str(trust),
        "--public-key", public, "--writers", "*",
    )
    assert code == 0
    assert public == public_key_b64(FileSigner.open(Path(signing_key)).public_key())

    sent = records(TOTAL)
    await kafka_produce(topics["input"], sent)
    args = [*FAKE, "--app-id", group_factory()]
    kills: list[int] = []
    for number, at in enumerate(KILL_AT, start=1):
        worker = WorkerProcess([topology], env=env, args=args,
                               log_file=tmp_path / f"w{number}.log").start()
        try:
            got = await read_topics(kafka_bootstrap, [topics["output"]], at, timeout=180,
                                    alive=lambda w=worker: w.running)
            kills.append(len(got[topics["output"]]))
        finally:
            worker.kill()
    assert kills[-1] < TOTAL - 500, "the records were done before the third kill"
    last = WorkerProcess([topology], env=env, args=args, log_file=tmp_path / "w4.log").start()
    try:
        got = await read_topics(
            kafka_bootstrap, [topics["output"], topics["dead_letter"]], TOTAL, timeout=300,
            alive=lambda: last.running, settle=3,
        )
    finally:
        assert last.stop() == 0  # graceful: final checkpoints and the final digest
    assert set(keys_of(got, topics["output"], topics["dead_letter"])) == {k for k, _ in sent}

    argv = ["audit", "verify", "--topic", topics["audit"], "--bootstrap", kafka_bootstrap,
            "--trust-store", str(trust), "--json"]
    code, out = await asyncio.to_thread(_cli, *argv)
    report = json.loads(out)
    problems = [p for c in report["chains"] for p in c["problems"]] + report["trail"]
    assert code == 0, problems[:5]
    abandoned = [c for c in report["chains"] if c["abandoned_at"] is not None]
    assert len(abandoned) >= len(KILL_AT)  # each kill left at least one chain open
    assert all(c["abandoned_by"] for c in abandoned)
    code, text = await asyncio.to_thread(_cli, *argv[:-1])
    assert code == 0 and "audit verify: intact" in text
    print(f"\nkilled after {kills} outputs; {len(report['chains'])} chains, "
          f"{len(abandoned)} abandoned (unsigned events attested by the successor: "
          f"{sum(c['unsigned'] for c in abandoned)}), {report['digests']} signed digests, "
          f"{report['duplicates']} duplicates; {time.monotonic() - started:.0f} s")

    # real tampering still fails: one protected record's entry in a batch event changed
    trail = [json.loads(r.value) for r in await kafka_consume(topics["audit"], timeout=30)]
    target = next(e for e in trail if e["type"] == "io.streamsec.records.batch"
                  and any(r["outcome"] == "protected" for r in e["data"]["records"]))
    entry = next(r for r in target["data"]["records"] if r["outcome"] == "protected")
    entry["fields"] = []
    path = tmp_path / "tampered.jsonl"
    path.write_bytes(b"".join(wire(e) + b"\n" for e in trail))
    code, text = await asyncio.to_thread(
        _cli, "audit", "verify", "--in", str(path), "--trust-store", str(trust)
    )
    assert code == 1
    assert f"chain {target['chain']}: BROKEN at seq {target['seq']}" in text
    part = target["data"]["source"]["partition"]
    assert f"record {target['data']['source']['topic']}/{part}/{entry['offset']}" in text

