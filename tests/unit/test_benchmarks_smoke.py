"""The harness's pure table, ratio and percentile code (benchmarks/perf_report.py)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from perf_report import Figure, format_table, percentile


def test_ratio_is_value_over_same_run_baseline() -> None:
    f = Figure("core", "ours", 900.0, "rec/s", 30.0, "plain", 20, "ratio>=")
    assert f.ratio == pytest.approx(30.0)
    assert f.met is True
    assert f.gap == ""


def test_missed_ratio_target_says_by_how_much() -> None:
    f = Figure("e2e", "worker", 600.0, "rec/s", 1000.0, "passthrough", 0.75, "ratio>=")
    assert f.met is False
    assert f.gap == "short by 0.15x (80% of target)"


def test_value_bound_and_no_baseline() -> None:
    over = Figure("e2e", "p99", 130.0, "ms", target=100, kind="value<=")
    assert over.ratio is None
    assert over.met is False
    assert over.gap == "over by 30.0 ms"
    assert Figure("e2e", "p99", 99.0, "ms", target=100, kind="value<=").met is True
    assert Figure("mem", "rss", 250.0, "MB").met is None
    assert Figure("x", "y", 1.0, "u", baseline=0.0).ratio is None


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_table_has_one_line_per_figure_with_status() -> None:
    figures = [
        Figure("core", "plain (base)", 33.0, "rec/s", note="150 records"),
        Figure("core", "ours", 1500.0, "rec/s", 33.0, "plain", 20, "ratio>="),
        Figure("e2e", "p99", 228.0, "ms", 35.0, "passthrough", 100, "value<="),
    ]
    lines = format_table(figures).splitlines()
    assert len(lines) == 2 + 3 + 1  # header, rule, figures, one note
    assert "45.45x" in lines[4] and lines[4].endswith("MET")
    assert lines[5].startswith("e2e") and "MISSED: over by 128.0 ms" in lines[5]
    assert lines[4].startswith(" ")  # the section is printed once per group


def test_the_audit_verify_benchmark_trail_verifies() -> None:
    from audit_verify import build

    from streamsec.events.verify import verify

    lines, trust = build(400, 64, 2)
    report = verify(lines, trust)
    assert report.ok and report.digests == 1
    assert sum(c.events for c in report.chains) == len(lines) - 1  # all but the digest


def test_the_machines_busy_cpus_count_every_cpu() -> None:
    from perf_kafka import busy_cpus, machine_ticks

    cpus = os.cpu_count() or 1
    assert busy_cpus((100, 1_000), (150, 1_100)) == pytest.approx(0.5 * cpus)
    assert busy_cpus((7, 9), (7, 9)) == 0.0
    before = machine_ticks()
    assert 0 <= before[0] <= before[1]
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # this process keeps one CPU busy
        pass
    assert 0.0 < busy_cpus(before, machine_ticks()) <= cpus


def test_a_cpu_limit_holds_a_busy_process_to_its_share() -> None:
    import subprocess
    import uuid

    from cpu_limit import CpuLimit, unavailable

    why = unavailable()
    if why is not None:  # not root, or no cgroup cpu controller: the harness says so
        assert "cgroup" in why or "root" in why
        return
    limit = CpuLimit(f"streamsec-test-{uuid.uuid4().hex[:8]}", 0.25)
    spin = "import time\nt = time.monotonic()\nwhile time.monotonic() - t < 2.0: pass\n"
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read(1)\n" + spin],
                             stdin=subprocess.PIPE)  # fmt: skip
    try:
        limit.add(child.pid)
        assert child.stdin is not None
        child.stdin.close()  # now it spins, inside the group
        started = time.monotonic()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.monotonic() - started
    finally:
        if child.poll() is None:
            child.kill()
        limit.close()
    assert os.waitstatus_to_exitcode(status) == 0
    assert 0.0 < usage.ru_utime + usage.ru_stime < 0.4 * wall  # unlimited it takes ~wall
    assert not limit.path.exists()
