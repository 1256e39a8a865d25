"""Exactly-once delivery: each source partition's outputs and offsets in one transaction.

One transactional producer per source partition, ``transactional.id`` =
``<app id>.<topic>.<partition>``, started when the partition is assigned. Starting
it fences any older producer with the same id (a zombie worker that lost the
partition) and aborts that producer's open transaction, so records are never
delivered twice. For each batch and partition: begin, send every output, send the
consumed offsets to the transaction, commit. Consumers of the outputs must read
with ``isolation_level=read_committed``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, ProducerFenced
from aiokafka.structs import TopicPartition

from streamsec.kafka import KafkaConnection, new_producer
from streamsec.pipeline.model import Outcome
from streamsec.worker.delivery import PRODUCER_BATCH_BYTES

__all__ = ["TransactionalDelivery"]

log = logging.getLogger(__name__)

TP = tuple[str, int]


class TransactionalDelivery:
    def __init__(
        self,
        *,
        connection: KafkaConnection,
        group_id: str,
        on_error: Callable[[str], None] = lambda reason: None,
        owns: Callable[[TP], bool] = lambda tp: True,
        max_backoff: float = 10.0,
    ) -> None:
        self.connection = connection
        self.group_id = group_id
        self.on_error = on_error
        self.owns = owns
        self.max_backoff = max_backoff
        self._producers: dict[TP, AIOKafkaProducer] = {}
        self._lock = asyncio.Lock()

    def transactional_id(self, tp: TP) -> str:
        return f"{self.group_id}.{tp[0]}.{tp[1]}"

    async def _producer(self, tp: TP) -> AIOKafkaProducer:
        producer = self._producers.get(tp)
        if producer is None:
            producer = new_producer(
                self.connection, transactional_id=self.transactional_id(tp),
                max_batch_size=PRODUCER_BATCH_BYTES,
            )
            try:
                await producer.start()  # init_transactions: fences older producers of this id
            except BaseException:
                await producer.stop()
                raise
            self._producers[tp] = producer
        return producer

    async def start_partitions(self, tps: Iterable[TP]) -> None:
        async with self._lock:
            for tp in tps:
                try:
                    await self._producer(tp)
                except KafkaError as exc:  # retried lazily on the first batch
                    log.warning("transactional producer for %s: %s", tp, type(exc).__name__)

    async def stop_partitions(self, tps: Iterable[TP]) -> None:
        async with self._lock:
            for tp in tps:
                await self._drop(tp)

    async def stop(self) -> None:
        await self.stop_partitions(list(self._producers))

    async def _drop(self, tp: TP) -> None:
        producer = self._producers.pop(tp, None)
        if producer is not None:
            try:
                await producer.stop()
            except Exception as exc:  # noqa: BLE001 - closing a broken producer
                log.debug("stopping producer %s: %s", tp, type(exc).__name__)

    async def deliver(self, outcomes: Sequence[Outcome]) -> tuple[list[Outcome], list[int]]:
        """Commit each partition's outcomes with its offsets. Returns the outcomes
        committed, and the partitions given up because another worker fenced us."""
        by_tp: dict[TP, list[Outcome]] = {}
        for outcome in outcomes:
            by_tp.setdefault((outcome.source.topic, outcome.source.partition), []).append(outcome)
        committed: list[Outcome] = []
        fenced: list[int] = []
        async with self._lock:
            for tp, group in by_tp.items():
                if await self._commit(tp, group):
                    committed.extend(group)
                else:
                    fenced.append(tp[1])
        return committed, fenced

    async def _commit(self, tp: TP, group: list[Outcome]) -> bool:
        offsets = {TopicPartition(*tp): max(o.source.offset for o in group) + 1}
        delay = 0.2
        while True:
            if not self.owns(tp):  # never fence the partition's new owner
                await self._drop(tp)
                return False
            try:
                producer = await self._producer(tp)
                async with producer.transaction():
                    futures = [
                        await producer.send(m.topic, m.value, key=m.key, headers=list(m.headers))
                        for o in group for m in o.messages
                    ]
                    await asyncio.gather(*futures)
                    await producer.send_offsets_to_transaction(offsets, self.group_id)
                return True
            except ProducerFenced:
                log.warning("partition %s is now another worker's: batch left to it", tp)
                self.on_error("fenced")
                await self._drop(tp)
                return False
            except KafkaError as exc:
                log.warning("transaction on %s failed (%s); retrying", tp, type(exc).__name__)
                self.on_error("delivery")
                await self._drop(tp)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
