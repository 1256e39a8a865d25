"""The agents: the only code that touches the event loop and the topics.

One agent per topology. It reads its stream with **no automatic acks**
(``stream.noack()``) and cuts a batch from whatever records are waiting: one at low
load, up to ``batch_size`` under load, with no timer. Per batch:

1. the raw records are handed to the pure :class:`RecordPipeline` (decode, detect,
   protect, build events): on the event loop for a small batch, in the agent's own
   thread for a big one (:mod:`streamsec.worker.runner`);
2. every resulting message is sent and its delivery awaited (at-least-once: through
   the app's producer, resending the batch until the broker acknowledges it;
   exactly-once: one Kafka transaction per source partition with its offsets);
3. only then are the batch's events acked, so Faust commits their offsets.

At-least-once protects the next batch while this one is being delivered.

A record that fails becomes a dead letter inside the pipeline, so the loop never
raises for one record. An event that is never acked (the worker stops or dies
mid-batch) is never committed and is read again: nothing is lost.

A timer (every :data:`LINEAGE_TICK_SECONDS`) asks each agent for its lineage
heartbeat, so an idle worker still reports its run as RUNNING (every 300 s).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import faust

from streamsec.detection import budget, nlp_busy
from streamsec.kafka import KafkaConnection
from streamsec.pipeline.headers import parse_forward_list
from streamsec.pipeline.model import Outcome, OutMessage
from streamsec.pipeline.pipeline import RecordPipeline
from streamsec.settings import Settings
from streamsec.worker.audit import audit_after, hand_over, idle_digest, send_reliably
from streamsec.worker.delivery import FaustDelivery
from streamsec.worker.metrics import WorkerMetrics
from streamsec.worker.runner import PipelineRunner
from streamsec.worker.stream import RawSchema, batch_weight, source_of, waiting_events
from streamsec.worker.transactions import TransactionalDelivery

__all__ = ["TopologyAgent", "attach_agents", "topology_agents"]

log = logging.getLogger(__name__)

_SEND_TURNS = 3
"""Turns of the event loop given to a full batch's delivery before the next batch is
protected (inline, that holds the loop for a batch's time: 10-11 ms for 64 structured
records). In the first the delivery task hands the batch to the producer, in the next
aiokafka's sender writes the produce request; one more for slack. Without them the
request went out only after the next protection, and the agent waited on its round
trip: per-batch traces of a max-rate pass, gap between two protections p50 2.11 / 2.70
ms with none, 1.45 / 1.63 ms with 3, 1.50 / 1.48 ms with 8."""
LINEAGE_TICK_SECONDS = 30.0
"""How often the lineage tracker is asked whether a heartbeat is due."""

_AGENTS: weakref.WeakKeyDictionary[faust.App, dict[str, TopologyAgent]] = (
    weakref.WeakKeyDictionary()
)


def topology_agents(app: faust.App) -> dict[str, TopologyAgent]:
    """The topology agents attached to ``app``, by topology name."""
    return _AGENTS.get(app, {})


class TopologyAgent:
    def __init__(
        self,
        app: faust.App,
        pipeline: RecordPipeline,
        *,
        settings: Settings,
        metrics: WorkerMetrics,
        delivery: FaustDelivery,
        transactions: TransactionalDelivery | None = None,
    ) -> None:
        self.app = app
        self.pipeline = pipeline
        self.name = pipeline.topology.name
        self.settings = settings
        self.metrics = metrics
        self.delivery = delivery
        self.transactions = transactions
        self.runner = PipelineRunner(self.name, settings.inline_batch_bytes, busy=nlp_busy)
        self.input = app.topic(pipeline.topology.input, schema=RawSchema())
        self.batches = 0
        self.declared = False
        self.forward = parse_forward_list(settings.forward_headers)
        self.connection: KafkaConnection | None = None
        """Set by :func:`attach_agents`: reads the audit topic at a crash handover."""

    def _error(self, reason: str) -> None:
        self.metrics.error(self.name, reason)

    async def declare_outputs(self) -> None:
        """Create the output topics if missing (once, on the first assignment)."""
        if self.declared:
            return
        topo = self.pipeline.topology
        for name in dict.fromkeys((topo.output, topo.dead_letter_topic, topo.audit, topo.lineage)):
            await self.delivery.topic(name).maybe_declare()
        self.declared = True

    async def run(self, stream: Any) -> None:
        """The agent body. Never raises for a record; never acks before delivery.

        Natural batching, in this one task: a batch is every record already waiting
        in the stream (up to ``batch_size``), taken in one go once the first is there
        (:func:`_waiting_events`); so one record at low load and full batches under
        load, with no timer. At-least-once delivers a full batch in the background
        while the next one is read and protected; it is awaited before the next batch
        is sent, so outputs and audit chains keep the record order. A batch that is not
        full (the worker keeps up) is delivered before the next one is taken: protected
        inline, the next one would hold its sends and acks back. Exactly-once delivers
        each batch before reading on: an aborted transaction resets the chains that
        the next batch would extend."""
        manual = stream.noack()
        take_waiting = waiting_events(manual)
        delivering: asyncio.Future[None] | None = None
        try:
            async for event in manual.events():  # waits for the first of a batch
                size = self.settings.batch_size
                events = [event, *take_waiting(size - 1)]
                delivering = await self._next_batch(manual, events, delivering)
                if delivering is not None and len(events) < size:
                    # Not saturated: this batch goes out before the next is protected
                    # (inline, that would hold back its sends and acks), and what
                    # arrives meanwhile makes the next batch.
                    await delivering
                    delivering = None
                elif delivering is not None:  # full: its send under way before the next
                    for _ in range(_SEND_TURNS):
                        await asyncio.sleep(0)
            if delivering is not None:
                await delivering
        finally:
            if delivering is not None and not delivering.done():
                delivering.cancel()  # its events stay unacked: read again after restart

    async def _next_batch(
        self, stream: Any, events: Sequence[Any], delivering: asyncio.Future[None] | None
    ) -> asyncio.Future[None] | None:
        """Protect ``events`` (while the previous batch is delivered), wait for that
        delivery (its failure crashes the agent here), then deliver these: in the
        background (returned) or, exactly-once, right away (None)."""
        ready = await self.prepare(stream, events)
        if delivering is not None:
            await delivering
        if ready is None:
            return None
        if self.transactions is not None:
            await self.complete(stream, *ready)
            return None
        return asyncio.ensure_future(self.complete(stream, *ready))

    async def prepare(
        self, stream: Any, events: Sequence[Any]
    ) -> tuple[Sequence[Any], list[Outcome], float] | None:
        """Protect a batch (on the loop or in the agent's thread): (events, outcomes,
        started)."""
        started = time.monotonic()
        if self.transactions is not None:
            events = await self._drop_stale(stream, events)
            if not events:
                return None
        sources = [source_of(e, self.forward) for e in events]
        self.metrics.batch_in(self.name, len(sources))
        outcomes = await self.runner.run(
            self.pipeline.process, sources, weight=batch_weight(sources)
        )
        if budget.stopping():  # cut short by the stop: never sent, never acked, read again
            return None
        return events, outcomes, started

    async def complete(
        self, stream: Any, events: Sequence[Any], outcomes: list[Outcome], started: float
    ) -> None:
        """Deliver a protected batch, then ack what was delivered."""
        fenced: Sequence[int] = ()
        if self.transactions is None:
            await self.delivery.deliver(outcomes, self._error)
            delivered = outcomes
        else:
            generation = events[0].message.generation_id
            delivered, fenced = await self.transactions.deliver(outcomes, generation)
        audit = await self.runner.run(audit_after, self.pipeline, list(fenced))
        if audit:  # handovers of aborted chain tails; the digest, shielded from a stop
            await asyncio.shield(self.send_reliably(audit))
        done = {(o.source.partition, o.source.offset) for o in delivered}
        for event in events:
            if (event.message.partition, event.message.offset) in done:
                await stream.ack(event)
        self.batches += 1
        self.metrics.delivered(self.name, delivered, time.monotonic() - started, time.time())
        log.debug(
            "%s: batch of %d delivered, %d dead-lettered, in %.3f s", self.name, len(delivered),
            sum(o.dead_lettered for o in delivered), time.monotonic() - started,
        )

    async def send_reliably(self, messages: Sequence[OutMessage]) -> None:
        await send_reliably(self.delivery.send_all, messages, self._error)

    async def handover(self, partitions: Sequence[int], timeout: float = 60.0) -> None:
        """Close every chain a dead writer left open on these partitions (signed)."""
        if self.connection is not None:
            await hand_over(self, self.connection, partitions, timeout)

    async def _drop_stale(self, stream: Any, events: Sequence[Any]) -> list[Any]:
        """Exactly-once: the events this worker may deliver now. An event read before a
        rebalance, or of a partition no longer ours, is left unacked: the partition's
        owner reads it again from the committed offset. An event below the committed
        offset read once this worker fenced the previous owner was delivered by that
        owner: acked, never processed again (:meth:`TransactionalDelivery.ready`)."""
        assert self.transactions is not None
        generation = self.app.consumer_generation_id
        floors: dict[tuple[str, int], int | None] = {}
        fresh = []
        for event in events:
            message = event.message
            if message.generation_id != generation:
                continue
            tp = (message.topic, message.partition)
            if tp not in floors:
                floors[tp] = await self.transactions.ready(tp, generation)
            floor = floors[tp]
            if floor is None:
                continue
            if message.offset < floor:
                await stream.ack(event)
                continue
            fresh.append(event)
        return fresh

    async def close_chains(
        self, partitions: Sequence[int] | None, timeout: float = 10.0,
        error: BaseException | None = None,
    ) -> None:
        """Send the final audit checkpoints of these partitions' chains (best effort); at
        stop also the lineage COMPLETE (FAIL with ``error``)."""
        close = functools.partial(self.pipeline.close_chains, partitions, error=error)
        messages = await self.runner.run(close)
        if not messages:
            return
        try:
            await asyncio.wait_for(self.delivery.send_all(messages), timeout)
        except Exception as exc:  # noqa: BLE001 - the chain then reads as truncated
            log.warning("final audit checkpoints not delivered (%s)", type(exc).__name__)
            self._error("delivery")


    async def audit_tick(self) -> None:
        """The signed audit digest of an idle agent, when due (docs/audit.md)."""
        messages = await self.runner.run(idle_digest, self.pipeline)
        if messages:
            await asyncio.shield(self.send_reliably(messages))

    async def lineage_tick(self) -> None:
        """The lineage heartbeat of an idle agent: a RUNNING event when one is due (or a
        shape change waits), built by the agent's runner like every other event."""
        messages = await self.runner.run(self.pipeline.lineage_tick)
        if not messages:
            return
        try:
            await self.delivery.send_all(messages)
        except Exception as exc:  # noqa: BLE001 - a missed heartbeat loses no record
            log.warning("lineage heartbeat not delivered (%s)", type(exc).__name__)
            self._error("delivery")


def attach_agents(
    app: faust.App,
    pipelines: Sequence[RecordPipeline],
    *,
    settings: Settings,
    metrics: WorkerMetrics,
    connection: KafkaConnection,
) -> dict[str, TopologyAgent]:
    """Register one agent per pipeline, plus the rebalance and shutdown hooks."""
    delivery = FaustDelivery(app)
    transactions = None
    if settings.processing_guarantee == "exactly_once":
        transactions = TransactionalDelivery(
            connection=connection, group_id=settings.app_id,
            on_error=lambda reason: metrics.error("worker", reason),
            owns=lambda tp: tp in app.consumer.assignment(),
            generation=lambda: app.consumer_generation_id,
        )
    agents: dict[str, TopologyAgent] = {}
    for pipeline in pipelines:
        pipeline.events.bootstrap = connection.bootstrap
        agent = TopologyAgent(
            app, pipeline, settings=settings, metrics=metrics, delivery=delivery,
            transactions=transactions,
        )
        agent.connection = connection
        app.agent(agent.input, name=f"streamsec.{agent.name}", concurrency=1)(agent.run)
        agents[agent.name] = agent
    _AGENTS[app] = agents
    by_input = {a.pipeline.topology.input: a for a in agents.values()}

    def ours(tps: Iterable[Any]) -> list[tuple[str, int]]:
        return [(tp.topic, tp.partition) for tp in tps if tp.topic in by_input]

    handovers: set[asyncio.Task[None]] = set()

    @app.on_partitions_assigned.connect
    async def on_assigned(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        assigned = args[0] if args else kwargs.get("assigned", ())
        for agent in agents.values():
            await agent.declare_outputs()
        tps = ours(assigned)
        for topic, agent in by_input.items():
            parts = [p for t, p in tps if t == topic]
            if parts:  # in the background: a rebalance must not wait for a topic read
                task = asyncio.ensure_future(agent.handover(parts))
                handovers.add(task)
                task.add_done_callback(handovers.discard)
        if transactions is not None:
            await transactions.start_partitions(ours(assigned))

    @app.on_partitions_revoked.connect
    async def on_revoked(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        revoked = args[0] if args else kwargs.get("revoked", ())
        tps = ours(revoked)
        for topic, agent in by_input.items():
            parts = [p for t, p in tps if t == topic]
            if parts:
                await agent.close_chains(parts)
        if transactions is not None:
            await transactions.stop_partitions(tps)

    async def lineage_heartbeat() -> None:
        for agent in agents.values():
            await agent.lineage_tick()
            await agent.audit_tick()

    app.timer(interval=LINEAGE_TICK_SECONDS)(lineage_heartbeat)

    @app.on_before_shutdown.connect
    async def on_shutdown(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        crashed = getattr(app, "_crash_reason", None)
        for agent in agents.values():
            await agent.close_chains(None, error=crashed)
            agent.runner.shutdown()
        if transactions is not None:
            await transactions.stop()

    return agents
