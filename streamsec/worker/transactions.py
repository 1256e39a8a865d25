"""Exactly-once delivery: each source partition's outputs and offsets in one transaction.

One transactional producer per source partition, ``transactional.id`` =
``<app id>.<topic>.<partition>``, started when the partition is assigned. Starting
it fences any older producer with the same id (a zombie worker that lost the
partition): the broker aborts that producer's open transaction, or finishes writing
its commit markers, before the new one gets its epoch. For each batch and
partition: begin, send every output, send the consumed offsets to the transaction,
commit. Consumers of the outputs must read with ``isolation_level=read_committed``.

Three rules keep a record from being committed twice when partitions move:

* **fence, then read the floor.** Only once its producer is started does the new
  owner read the group's committed offset of the partition (:meth:`ready`): the
  old owner's last transaction is final by then. The stream may have been positioned
  from an older read (Faust seeks on its own schedule, and a commit's markers land
  after the commit returns), so records below the floor were delivered by the old
  owner and are skipped, never processed again.
* **never fence the owner.** A producer is only (re)started for a partition that this
  worker owns in the current generation and was not revoked from it or fenced in it:
  a zombie that finds itself fenced stops there instead of fencing the new owner back.
  (A commit while our own revocation is under way is safe: nobody else is given the
  partition before this worker has rejoined, which waits for the revocation.)
* **a batch of an older generation is never committed**: its records are read again
  by the partition's owner from the committed offset.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError, ProducerFenced
from aiokafka.structs import TopicPartition

from streamsec.kafka import KafkaConnection, new_admin, new_producer, track_topics
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
        generation: Callable[[], int] = lambda: 0,
        max_backoff: float = 10.0,
    ) -> None:
        self.connection = connection
        self.group_id = group_id
        self.on_error = on_error
        self.owns = owns
        self.generation = generation
        self.max_backoff = max_backoff
        self._producers: dict[TP, AIOKafkaProducer] = {}
        self._lost: dict[TP, int] = {}
        """Partition -> the generation in which it was revoked from us, or we were fenced."""
        self._floor: dict[TP, int] = {}
        """Partition -> the group's committed offset, read after our producer fenced."""
        self._admin: AIOKafkaAdminClient | None = None
        self._lock = asyncio.Lock()

    def transactional_id(self, tp: TP) -> str:
        return f"{self.group_id}.{tp[0]}.{tp[1]}"

    def _ours(self, tp: TP, generation: int) -> bool:
        """Whether this worker may commit ``tp`` for a batch read in ``generation``."""
        return (
            generation == self.generation() and self._lost.get(tp) != generation
            and self.owns(tp)
        )

    async def _open(self, tp: TP) -> AIOKafkaProducer:
        """The partition's producer; a new one fences older ones, then reads the floor."""
        producer = self._producers.get(tp)
        if producer is None:
            producer = new_producer(
                self.connection, transactional_id=self.transactional_id(tp),
                max_batch_size=PRODUCER_BATCH_BYTES,
            )
            try:
                await producer.start()  # init_transactions: older producers are fenced
                self._floor[tp] = await self._committed(tp)
            except BaseException:
                await producer.stop()
                raise
            self._producers[tp] = producer
        return producer

    async def _committed(self, tp: TP) -> int:
        """The group's committed offset of ``tp`` (0 when none)."""
        if self._admin is None:
            admin = new_admin(self.connection, client_id=f"{self.group_id}-txn-floor")
            await admin.start()
            self._admin = admin
        offsets = await self._admin.list_consumer_group_offsets(
            self.group_id, partitions=[TopicPartition(*tp)]
        )
        found = offsets.get(TopicPartition(*tp))
        return max(found.offset, 0) if found is not None else 0

    async def start_partitions(self, tps: Iterable[TP]) -> None:
        """Partitions assigned to us: fence their older producers now (a failure, or a
        batch that comes first, is handled by :meth:`ready`)."""
        async with self._lock:
            for tp in tps:
                try:
                    await self._open(tp)
                except KafkaError as exc:
                    log.warning("transactional producer for %s: %s", tp, type(exc).__name__)

    async def ready(self, tp: TP, generation: int) -> int | None:
        """The offset from which this worker delivers ``tp``'s records read in
        ``generation`` (anything below was committed by the previous owner), once its
        producer has fenced every older one; ``None`` when ``tp`` is not ours to
        commit. Retries a broker failure, with backoff, while the partition stays ours."""
        delay = 0.2
        while True:
            async with self._lock:  # released while backing off: a revocation may come
                if not self._ours(tp, generation):
                    return None
                try:
                    await self._open(tp)
                    return self._floor[tp]
                except KafkaError as exc:
                    log.warning("transactional producer for %s: %s; retrying", tp,
                                type(exc).__name__)
                    self.on_error("delivery")
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)

    async def stop_partitions(self, tps: Iterable[TP]) -> None:
        """Partitions revoked: no batch read before is committed from now on (the
        rebalance waits for this, so nobody else owns them yet)."""
        async with self._lock:
            generation = self.generation()
            for tp in tps:
                self._lost[tp] = generation
                await self._drop(tp)

    async def stop(self) -> None:
        await self.stop_partitions(list(self._producers))
        if self._admin is not None:
            admin, self._admin = self._admin, None
            try:
                await admin.close()
            except Exception as exc:  # noqa: BLE001 - closing at shutdown
                log.debug("closing the floor reader: %s", type(exc).__name__)

    async def _drop(self, tp: TP) -> None:
        self._floor.pop(tp, None)
        producer = self._producers.pop(tp, None)
        if producer is not None:
            try:
                await producer.stop()
            except Exception as exc:  # noqa: BLE001 - closing a broken producer
                log.debug("stopping producer %s: %s", tp, type(exc).__name__)

    async def deliver(
        self, outcomes: Sequence[Outcome], generation: int | None = None
    ) -> tuple[list[Outcome], list[int]]:
        """Commit each partition's outcomes (of records read in ``generation``) with its
        offsets. Returns the outcomes committed, and the partitions given up: another
        worker owns them now, and reads their records again from the committed offset."""
        generation = self.generation() if generation is None else generation
        by_tp: dict[TP, list[Outcome]] = {}
        for outcome in outcomes:
            by_tp.setdefault((outcome.source.topic, outcome.source.partition), []).append(outcome)
        committed: list[Outcome] = []
        fenced: list[int] = []
        async with self._lock:
            for tp, group in by_tp.items():
                if await self._commit(tp, group, generation):
                    committed.extend(group)
                else:
                    fenced.append(tp[1])
        return committed, fenced

    async def _commit(self, tp: TP, group: list[Outcome], generation: int) -> bool:
        offsets = {TopicPartition(*tp): max(o.source.offset for o in group) + 1}
        delay = 0.2
        while True:
            if not self._ours(tp, generation):  # never fence the partition's new owner
                await self._drop(tp)
                return False
            try:
                producer = await self._open(tp)
                todo = [o for o in group if o.source.offset >= self._floor[tp]]
                if not todo:  # an earlier attempt did commit (its reply was lost)
                    return True
                await track_topics(producer, {m.topic for o in todo for m in o.messages})
                async with producer.transaction():
                    futures = [
                        await producer.send(m.topic, m.value, key=m.key, headers=list(m.headers))
                        for o in todo for m in o.messages
                    ]
                    await asyncio.gather(*futures)
                    await producer.send_offsets_to_transaction(offsets, self.group_id)
                self._floor[tp] = offsets[TopicPartition(*tp)]
                return True
            except ProducerFenced:
                log.warning("partition %s is now another worker's: batch left to it", tp)
                self.on_error("fenced")
                self._lost[tp] = generation  # a zombie: never fence the owner back
                await self._drop(tp)
                return False
            except KafkaError as exc:
                log.warning("transaction on %s failed (%s); retrying", tp, type(exc).__name__)
                self.on_error("delivery")
                await self._drop(tp)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
