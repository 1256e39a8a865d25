"""Worker start-up: detectors are warmed before the worker joins its group."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from streamsec.pipeline.runtime import make_pipeline
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology.loader import parse_topology
from streamsec.worker.run import warm_up


class WarmingDetector(FakeDetector):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.warmed = 0

    def warm_up(self) -> None:
        self.warmed += 1


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


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
