"""Worker start-up: detectors are warmed before the worker joins its group."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import faust
import pytest

from streamsec.pipeline.runtime import make_pipeline
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology.loader import parse_topology
from streamsec.worker.run import GC_THRESHOLDS, StoppingWorker, warm_up

ROOT = Path(__file__).parents[3]


class WarmingDetector(FakeDetector):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.warmed = 0

    def warm_up(self) -> None:
        self.warmed += 1


@pytest.fixture
def unfrozen() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_warm_up_loads_every_detector_and_freezes_what_is_loaded(unfrozen: None) -> None:
    topology = parse_topology("name: t\ninput: a\noutput: b\n")
    detectors = [WarmingDetector(), WarmingDetector(), FakeDetector()]  # the last has no hook
    pipelines = [
        make_pipeline(topology, Settings(), worker_id="w", provider=InMemoryKeyProvider(),
                      detector=d)
        for d in detectors
    ]
    warm_up(pipelines)
    assert [getattr(d, "warmed", None) for d in detectors] == [1, 1, None]
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == GC_THRESHOLDS


async def test_a_started_worker_freezes_what_start_up_built(
    unfrozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    warm_up([])
    frozen = gc.get_freeze_count()
    built = [[i] for i in range(1000)]  # e.g. the Faust app's objects (lists: tracked)
    started: list[bool] = []

    async def faust_hook(self: faust.Worker) -> None:
        started.append(True)

    monkeypatch.setattr(faust.Worker, "on_startup_finished", faust_hook)
    await StoppingWorker.__new__(StoppingWorker).on_startup_finished()
    assert started == [True]
    assert gc.get_freeze_count() >= frozen + len(built)


_HEAP_PROBE = """
import sys
from streamsec.worker.run import fix_mmap_threshold

fixed = fix_mmap_threshold() if sys.argv[1] == "fix" else None


def in_heap(address):
    for line in open("/proc/self/maps"):
        if line.rstrip().endswith("[heap]"):
            low, high = (int(x, 16) for x in line.split()[0].split("-"))
            if low <= address < high:
                return True
    return False


big = bytes(1 << 20)  # above 128 kB: pages of its own
first = in_heap(id(big))
del big  # glibc's dynamic threshold now rises to this block's size
again = bytes(1 << 20)
print(fixed, first, in_heap(id(again)))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt, /proc")
def test_fixed_mmap_threshold_keeps_large_blocks_out_of_the_heap() -> None:
    def probe(mode: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _HEAP_PROBE, mode], capture_output=True, text=True,
            check=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        return done.stdout.strip()

    # glibc's default: the second 1 MB block, after the first was freed, is heap
    assert probe("default") == "None False True"
    # fixed: it gets pages of its own again, given back to the system when freed
    assert probe("fix") == "True False False"
