"""End-to-end figures of the harness, on the real broker.

Built on ``e2e_kafka`` (its ``Receiver``, ``drive``, ``workload`` and topology
``RULES``). One *phase* runs a processor (streamsec workers, or the raw aiokafka
passthrough in its own process) on fresh topics and measures:

* max records/s: N records produced as fast as possible into the input the
  processor already reads, until the last output arrives;
* latency p50/p99 at a fixed rate (the harness uses 50% of the measured max):
  output arrival - input send, per record, seen by one downstream consumer;
* CPU seconds per record and peak RSS (VmHWM) of each processor process, from /proc,
  and how many of the machine's CPUs were busy over the max-rate pass (/proc/stat:
  the processors, the broker, the load generator and anything else);
* optionally (``spy``) where one worker's Python time goes, from py-spy samples.
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cpu_limit import CpuLimit
from e2e_kafka import RULES, Receiver, drive, workload
from perf_report import percentile
from perf_spy import sample_worker

from streamsec.worker.process import WorkerProcess

__all__ = [
    "Phase", "busy_cpus", "machine_ticks", "proc_cpu_seconds", "proc_peak_rss_kb", "run_phase",
]

HERE = Path(__file__).parent


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a live process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks of every CPU of the machine so far, from /proc/stat."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return sum(ticks) - idle, sum(ticks)


def busy_cpus(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How many CPUs were busy on average between two :func:`machine_ticks`."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy / total * (os.cpu_count() or 1) if total else 0.0


def proc_peak_rss_kb(pid: int) -> int:
    """VmHWM (peak resident set) of a live process, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc status")


@dataclass
class Phase:
    processor: str
    workers: int
    records: int
    rps: float = 0.0
    rate: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    cpu_ms_per_record: float = 0.0
    cpu_s_each: list[float] = field(default_factory=list)
    """CPU seconds of each processor process over the max-rate pass."""
    peak_rss_mb: list[float] = field(default_factory=list)
    members: int = 0
    machine_busy: float = 0.0
    """CPUs of the machine busy over the max-rate pass (every process)."""
    profile: dict[str, int] = field(default_factory=dict)
    """py-spy samples per bucket of the worker during the max-rate pass (``spy``)."""
    cpu_limit: float = 0.0
    """CPUs each worker process was limited to (``cpu_limit.CpuLimit``; 0: none)."""

    @property
    def busy(self) -> float:
        """CPUs the processor processes kept busy over the max-rate pass."""
        return self.rps * self.cpu_ms_per_record / 1000


class _Passthrough:
    def __init__(self, bootstrap: str, source: str, target: str, log: Path) -> None:
        self._log = log.open("ab")
        self._proc = subprocess.Popen(
            [sys.executable, str(HERE / "perf_passthrough.py"), bootstrap, source, target],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc.poll() is None

    def stop(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(10)
        self._log.close()


async def _create(bootstrap: str, topics: dict[str, int]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, p, 1) for t, p in topics.items()])
    finally:
        await admin.close()


async def _group_members(bootstrap: str, group: str) -> tuple[str, int]:
    """(state, members) of a consumer group, from the raw DescribeGroups response."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        response = (await admin.describe_consumer_groups([group]))[0]
        described = response.groups[0]
        return str(described[2]), len(described[5])
    finally:
        await admin.close()


async def _wait_group(bootstrap: str, group: str, members: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline:
        state, seen = await _group_members(bootstrap, group)
        if state == "Stable" and seen >= members:
            return seen
        await asyncio.sleep(1.0)
    return seen


async def run_phase(
    bootstrap: str,
    home: Path,
    processor: str,
    kinds: tuple[str, ...] | None,
    records: int,
    *,
    rate: float | None = None,
    rate_fraction: float = 0.5,
    seconds: float = 10.0,
    partitions: int = 1,
    workers: int = 1,
    spy: bool = False,
    cpu_limit: float | None = None,
) -> Phase:
    """One processor on fresh topics: max rate, then latency at ``rate`` (default:
    ``rate_fraction`` of the measured max; 0 skips the latency pass). ``cpu_limit``:
    each worker process in a cgroup of its own limited to that many CPUs."""
    # The load generator and the receiver run in this process, which may hold the
    # offline phases' heap (Presidio, corpora: 150,000+ objects): a full collection of
    # it paused their event loop for 100-136 ms, three times a pass, and every record
    # in flight got that on its latency. Frozen, a full collection skips it (11-12 ms).
    gc.collect()
    gc.freeze()
    run = uuid.uuid4().hex[:6]
    raw, out = f"perf-raw-{run}", f"perf-out-{run}"
    dead, audit, lin = f"{raw}.dead-letter", f"perf-audit-{run}", f"perf-lin-{run}"
    await _create(bootstrap, {raw: partitions, out: partitions, dead: 1, audit: 1, lin: 1})
    topology = home / f"perf-{run}.yaml"
    topology.write_text(
        f"name: perf-{run}\ninput: {raw}\noutput: {out}\naudit: {audit}\nlineage: {lin}\n" + RULES,
        encoding="utf-8",
    )
    group = f"perf-{run}"
    procs: list[Any] = []
    limits: list[CpuLimit] = []
    if processor == "passthrough":
        procs.append(_Passthrough(bootstrap, raw, out, home / f"pass-{run}.log"))
    else:
        for i in range(workers):
            env = {
                "STREAMSEC_BROKER": bootstrap,
                "STREAMSEC_KEYRING": str(home / "keyring.json"),
                "STREAMSEC_METRICS_PORT": "0",
                "STREAMSEC_WEB_PORT": "0",
                "STREAMSEC_HOME": str(home / f"w{i}-{run}"),
                "STREAMSEC_TOPIC_PARTITIONS": str(partitions),
            }
            procs.append(
                WorkerProcess(
                    [topology],
                    env=env,
                    log_file=home / f"worker{i}-{run}.log",
                    args=["--app-id", group, "--worker-id", f"perf-w{i}"],
                ).start()
            )
            if cpu_limit:
                limits.append(CpuLimit(f"streamsec-bench-{run}-w{i}", cpu_limit))
                limits[-1].add(procs[-1].pid)
    receiver = Receiver(bootstrap, [out, dead])
    await receiver.start()
    phase = Phase(processor, workers, records, cpu_limit=cpu_limit or 0.0)
    try:
        if workers > 1:
            phase.members = await _wait_group(bootstrap, group, workers, 300)
        warm = workload(kinds, 20 * partitions, f"warm-{run}")
        await drive(bootstrap, raw, warm, None, receiver, 300)
        if workers > 1:  # a late joiner may have triggered a rebalance during warm-up
            phase.members = await _wait_group(bootstrap, group, workers, 120)
        cpu0 = [proc_cpu_seconds(p.pid) for p in procs]
        data = workload(kinds, records, f"tp-{run}")
        sampler = None
        if spy and processor != "passthrough":  # the first seconds of the max-rate pass
            keep = HERE / "out" / f"spy-{'-'.join(kinds or ('mixed',))}.txt"
            sampler = asyncio.ensure_future(sample_worker(procs[0].pid, 3, keep))
        ticks0 = machine_ticks()
        phase.rps, _ = await drive(bootstrap, raw, data, None, receiver, 1800)
        phase.machine_busy = busy_cpus(ticks0, machine_ticks())
        if sampler is not None:
            phase.profile = dict(await sampler or {})
        phase.cpu_s_each = [proc_cpu_seconds(p.pid) - c for p, c in zip(procs, cpu0, strict=True)]
        phase.cpu_ms_per_record = sum(phase.cpu_s_each) * 1000 / records
        phase.rate = rate if rate is not None else phase.rps * rate_fraction
        if phase.rate > 0:
            paced = workload(kinds, max(50, int(phase.rate * seconds)), f"lat-{run}")
            _, latencies = await drive(bootstrap, raw, paced, phase.rate, receiver, 600)
            phase.p50_ms = percentile(latencies, 50) * 1000
            phase.p99_ms = percentile(latencies, 99) * 1000
        phase.peak_rss_mb = [proc_peak_rss_kb(p.pid) / 1024 for p in procs]
    finally:
        await receiver.stop()
        for p in procs:
            p.stop()
        for c in limits:
            c.close()
    return phase
