"""The worker's audit duties beside the batch loop (docs/audit.md).

* :func:`audit_after` - once a batch is delivered: its chain heads count for the
  signed digests, a chain tail an aborted transaction took back is closed by a
  handover record, and the digest goes out when due; :func:`idle_digest` - the
  same digest from the worker's timer when no batch comes;
* :func:`hand_over` - at partition assignment: read the audit topic and close every
  chain of those partitions that a dead writer left open;
* :func:`send_reliably` - audit records are resent until acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol

from streamsec.events.handover import OpenChain, OpenChains
from streamsec.kafka import KafkaConnection, read_to_end
from streamsec.pipeline.model import OutMessage
from streamsec.pipeline.pipeline import RecordPipeline
from streamsec.worker.runner import PipelineRunner

__all__ = ["audit_after", "hand_over", "idle_digest", "open_chains", "send_reliably"]

log = logging.getLogger(__name__)


class _Agent(Protocol):
    pipeline: RecordPipeline
    runner: PipelineRunner

    def _error(self, reason: str) -> None: ...

    async def send_reliably(self, messages: Sequence[OutMessage]) -> None: ...


def idle_digest(pipeline: RecordPipeline) -> list[OutMessage]:
    """(runner) The signed digest of an agent with no batch to deliver, when due
    (only once something was delivered: a digest chain always ends in a final one)."""
    trail = pipeline.events.trail
    return pipeline.audit_digest() if trail.digest_due() and trail.delivered else []


def audit_after(pipeline: RecordPipeline, fenced: list[int]) -> list[OutMessage]:
    """(runner) The oldest batch in flight is delivered (but for ``fenced``
    partitions): the audit records now due."""
    trail = pipeline.events.trail
    trail.batch_delivered(fenced)
    out = pipeline.audit_records(trail.abandon(fenced)) if fenced else []
    return out + (pipeline.audit_digest() if trail.digest_due() else [])


async def send_reliably(
    send_all: Callable[[Iterable[OutMessage]], Awaitable[None]],
    messages: Sequence[OutMessage],
    on_error: Callable[[str], None],
    attempts: int = 50,
) -> None:
    """Send until acknowledged, backing off; raises after ``attempts``."""
    delay = 0.2
    for _attempt in range(attempts):
        try:
            await send_all(messages)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - retried
            log.warning("audit records not delivered (%s); resending", type(exc).__name__)
            on_error("delivery")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
    raise RuntimeError("audit records could not be delivered")


async def open_chains(
    conn: KafkaConnection, topic: str, scope: str, partitions: Sequence[int]
) -> list[OpenChain]:
    """The chains of ``scope`` on ``partitions`` their writer left open (the audit
    topic read to its end)."""
    scan = OpenChains(scope, partitions)
    async for record in read_to_end(conn, topic):
        scan.feed(record.value)
    return scan.result()


async def hand_over(
    agent: _Agent, conn: KafkaConnection, partitions: Sequence[int], timeout: float
) -> None:
    """Signed handover records for the open chains of ``partitions`` (best effort:
    a failure leaves them reading as truncated, an alarm rather than silence)."""
    pipeline = agent.pipeline
    topo = pipeline.topology
    try:
        found = await asyncio.wait_for(
            open_chains(conn, topo.audit, topo.name, partitions), timeout
        )

        def records() -> list[OutMessage]:  # by the runner: the trail is not thread-safe
            live = pipeline.events.trail.live_chains
            return [m for c in found if c.chain not in live
                    for m in pipeline.handover(c.chain, c.last_seq, c.last_digest, c.stream)]

        messages = await agent.runner.run(records)
        if messages:
            await agent.send_reliably(messages)
            log.info("closed %d audit chain(s) left open by a dead writer", len(messages))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - those chains then read as truncated
        log.warning("audit handover failed (%s)", type(exc).__name__)
        agent._error("audit_handover")
