"""The worker's audit duties beside the batch loop (streamsec/worker/audit.py)."""

from __future__ import annotations

import json
import time

from streamsec.events.signing import AuditIdentity
from streamsec.pipeline.model import SourceRecord
from streamsec.pipeline.runtime import make_pipeline
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology
from streamsec.worker.audit import audit_after, idle_digest

TOPOLOGY = parse_topology("name: w\ninput: raw.w\noutput: safe.w\nfields:\n  ssn: encrypt\n")


def test_digests_only_name_what_was_delivered_and_an_idle_one_waits_for_a_first_batch() -> None:
    pipeline = make_pipeline(
        TOPOLOGY, Settings(audit_digest_interval=0.001), worker_id="w",
        provider=InMemoryKeyProvider(), detector=FakeDetector(),
        identity=AuditIdentity.ephemeral(),
    )
    assert idle_digest(pipeline) == []  # nothing delivered yet: no digest chain to end
    outcomes = pipeline.process([SourceRecord("raw.w", 0, 0, None, b'{"ssn": "1"}')])
    checkpoint = json.loads(outcomes[0].messages[-1].value or b"")
    assert idle_digest(pipeline) == []  # the batch is still in flight
    time.sleep(0.01)
    (digest,) = audit_after(pipeline, [])
    data = json.loads(digest.value or b"")["data"]
    assert data["chains"] == {checkpoint["chain"]: {
        "last_seq": checkpoint["seq"], "last_digest": checkpoint["digest"], "final": False}}
    time.sleep(0.01)
    (again,) = idle_digest(pipeline)  # due again; names nothing new
    assert json.loads(again.value or b"")["data"]["chains"] == {}
    pipeline.process([SourceRecord("raw.w", 0, 1, None, b'{"ssn": "2"}')])
    handover = json.loads(audit_after(pipeline, [0])[0].value or b"")  # fenced partition
    assert handover["type"] == "io.streamsec.audit.abandoned"
    assert handover["data"]["last_seq"] == checkpoint["seq"]  # where delivery stopped
