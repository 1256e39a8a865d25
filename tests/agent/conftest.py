"""Agent tests: the real agent code under ``agent.test_context()``, one AsyncMock per
outbound topic (faust docs/userguide/testing.rst), FakeDetector, in-memory keyring."""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unittest.mock import AsyncMock

import faust
import pytest

from streamsec.pipeline.runtime import make_pipeline
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology.loader import parse_topology
from streamsec.topology.model import Topology
from streamsec.worker.agents import TopologyAgent, topology_agents
from streamsec.worker.app import build_app
from streamsec.worker.delivery import send_each
from streamsec.worker.metrics import WorkerMetrics

TOPOLOGY = """
name: agenttest
input: raw.people
output: protected.people
audit: audit.people
lineage: lineage.people
fields:
  customer_id: keep
  full_name: {action: encrypt, entity: PERSON}
  card.number: {action: mask, keep_last: 4, entity: CREDIT_CARD}
"""

_ids = itertools.count()


@dataclass
class Harness:
    app: faust.App
    agent: TopologyAgent
    topology: Topology
    metrics: WorkerMetrics
    mocks: dict[str, AsyncMock]
    delivered: asyncio.Future[None]

    @property
    def faust_agent(self) -> Any:
        return self.app.agents[f"streamsec.{self.topology.name}"]

    def sent(self, topic: str) -> list[dict[str, Any]]:
        return [call.kwargs for call in self.mocks[topic].call_args_list]

    def all_sent(self) -> list[dict[str, Any]]:
        return [kw for name in self.mocks for kw in self.sent(name)]

    @property
    def output(self) -> str:
        return self.topology.output

    @property
    def dead_letter(self) -> str:
        return self.topology.dead_letter_topic


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def make_harness(detector: FakeDetector, **settings: Any) -> Harness:
    topology = parse_topology(TOPOLOGY)
    config = Settings(
        app_id=f"agent-test-{next(_ids)}", web_port=0, metrics_port=0,
        **settings,
    )
    pipeline = make_pipeline(
        topology, config, worker_id="agent-test", provider=InMemoryKeyProvider(),
        detector=detector,
    )
    metrics = WorkerMetrics()
    app = build_app(config, [pipeline], metrics=metrics, bootstrap="127.0.0.1:1")
    agent = topology_agents(app)[topology.name]
    delivered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    delivered.set_result(None)
    mocks: dict[str, AsyncMock] = {}
    for name in (topology.output, topology.dead_letter_topic, topology.audit, topology.lineage):
        mocks[name] = AsyncMock(name=name, return_value=delivered)
        topic = agent.delivery.topic(name)
        topic.send = mocks[name]
        topic.send_many = functools.partial(send_each, topic)
    return Harness(app, agent, topology, metrics, mocks, delivered)


@pytest.fixture
def detector() -> FakeDetector:
    return FakeDetector(known={"Jane Roe": "PERSON"}, fail_on="EXPLODE")


@pytest.fixture
async def harness(detector: FakeDetector) -> Harness:
    return make_harness(detector)
