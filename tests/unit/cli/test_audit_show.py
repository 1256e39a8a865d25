"""``streamsec audit show``: one source record's audited decisions, either granularity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streamsec.cli.main import main
from streamsec.events.signing import AuditIdentity
from streamsec.pipeline.model import SourceRecord
from streamsec.pipeline.runtime import make_pipeline
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology

TOPOLOGY = parse_topology("name: hr\ninput: raw.hr\noutput: safe.hr\nfields:\n  ssn: encrypt\n")


def _trail(tmp_path: Path, granularity: str) -> Path:
    pipeline = make_pipeline(TOPOLOGY, Settings(audit_granularity=granularity), worker_id="w1",
                             provider=InMemoryKeyProvider(), detector=FakeDetector(),
                             identity=AuditIdentity.ephemeral())
    records = [SourceRecord("raw.hr", i % 2, i // 2, b"k", json.dumps({"ssn": f"1-{i}"}).encode())
               for i in range(6)]
    records[3] = SourceRecord("raw.hr", 1, 1, b"k", b"{not json")
    lines = [m.value for o in pipeline.process(records) for m in o.messages
             if m.topic == TOPOLOGY.audit]
    path = tmp_path / f"{granularity}.jsonl"
    path.write_bytes(b"".join((v or b"") + b"\n" for v in lines))
    return path


@pytest.mark.parametrize("granularity", ["batch", "record"])
def test_show_prints_one_records_decisions(
    tmp_path: Path, capsys: Any, granularity: str
) -> None:
    path = _trail(tmp_path, granularity)
    assert main(["audit", "show", "--in", str(path), "--record", "raw.hr/1/2"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    shown = json.loads(line)
    assert shown["record"] == "raw.hr/1/2" and shown["chain"].startswith("w1/hr/1/")
    fields = shown["entry"]["fields"]
    assert [(f["path"], f["action"]) for f in fields] == [("ssn", "encrypt")]
    assert "1-5" not in line  # the value never: only its decisions

    assert main(["audit", "show", "--in", str(path), "--record", "raw.hr/1/1"]) == 0
    entry = json.loads(capsys.readouterr().out)["entry"]
    assert entry["reason"] == "decode"


def test_show_without_an_entry_exits_1_and_a_bad_record_names_the_option(
    tmp_path: Path, capsys: Any
) -> None:
    path = _trail(tmp_path, "batch")
    assert main(["audit", "show", "--in", str(path), "--record", "raw.hr/0/99"]) == 1
    assert "no audit entry for raw.hr/0/99" in capsys.readouterr().out
    assert main(["audit", "show", "--in", str(path), "--record", "raw.hr:0"]) == 2
    err = capsys.readouterr().err
    assert "--record" in err and "Traceback" not in err
