"""Where a running worker's CPU goes: py-spy samples of the live process.

cProfile of the executor step offline (``perf_offline.pipeline_cpu``) cannot see
the event-loop side of a worker (Faust's stream, aiokafka's fetcher and sender).
Here ``py-spy record --gil`` samples the worker during the max-rate pass: only
the thread holding the GIL is sampled, so the shares are shares of the Python
work the process does (a worker is one Python process and its GIL is the limit).
Each sample is put in the first bucket whose frame appears in its stack.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

__all__ = ["BUCKETS", "bucket_samples", "sample_worker"]

BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("record key protection", ("RecordPipeline._protect_key",)),
    ("detection (Presidio recognizers, memo)", ("PresidioDetector.detect", "BatchEngine",
                                                "match_patterns", "detection/")),
    ("apply the plan (encrypt, mask ...)", ("apply_plan",)),
    ("structure, classify, plan", ("analyze_structure", "classify_record", "plan_record",
                                   "iter_leaves")),
    ("audit + lineage events", ("RecordEvents.protected", "RecordEvents.flush", "audit_messages",
                                "lineage_messages", "leaf_types")),
    ("decode, encode, rest of the executor step", ("RecordPipeline.process",)),
    ("produce + acks (aiokafka sender)", ("TopologyAgent.complete", "FaustDelivery",
                                          "aiokafka/producer")),
    ("consume (Faust stream + aiokafka fetcher)", ("faust/streams.py", "faust/transport",
                                                   "aiokafka/consumer", "TopologyAgent.run")),
    ("Kafka protocol and connections (aiokafka)", ("aiokafka/",)),
)  # fmt: skip
OTHER = "event loop, other"


def bucket_samples(raw: str) -> Counter[str]:
    """Samples per bucket from py-spy's raw (collapsed-stack) output."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        match = re.match(r"(.*) (\d+)$", line)
        if not match:
            continue
        stack, n = match.group(1), int(match.group(2))
        for name, needles in BUCKETS:
            if any(needle in stack for needle in needles):
                counts[name] += n
                break
        else:
            counts[OTHER] += n
    return counts


async def sample_worker(pid: int, seconds: float, keep: Path | None = None) -> Counter[str] | None:
    """Sample ``pid`` for ``seconds``; None when py-spy is missing or not permitted.
    ``keep``: where to copy the raw collapsed stacks (for a closer look)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "spy.txt"
        proc = await asyncio.create_subprocess_exec(
            spy, "record", "-p", str(pid), "-d", str(max(1, int(seconds))), "-r", "200",
            "--gil", "--nonblocking", "-f", "raw", "-o", str(out),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        await proc.wait()
        if proc.returncode != 0 or not out.exists():
            return None
        text = out.read_text(errors="replace")
        if keep is not None:
            keep.parent.mkdir(parents=True, exist_ok=True)
            keep.write_text(text, encoding="utf-8")
        return bucket_samples(text)
