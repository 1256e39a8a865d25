"""Re-keying whole files and topics (the I/O around :class:`~streamsec.lifecycle.rekey.Rekeyer`).

A record that cannot be re-keyed is copied unchanged (nothing is lost from the
copy), reported by line or coordinates with its error (path, key id, reason;
never a value) and counted in the summary, which then says not to destroy keys.

Topic mode reads the source from its beginning to the end offsets taken at the
start and writes to another topic, on the same partition when the target has
it (order is kept), with the key re-keyed when it is an envelope and the
``streamsec.key-ids`` header rewritten; other headers are copied as they are.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from typing import IO, Any

from aiokafka.errors import KafkaError

from streamsec.decryption.envelopes import key_ids_in
from streamsec.errors import ConfigError, ProtectionError
from streamsec.kafka import (
    KafkaConnection,
    TopicRecord,
    diagnosed,
    new_producer,
    read_to_end,
    translate,
)
from streamsec.lifecycle.rekey import Rekeyer, RekeySummary, rekey_key_ids
from streamsec.pipeline.headers import KEY_IDS
from streamsec.records.decoding import encode_record

__all__ = ["rekey_lines", "rekey_message", "rekey_topic"]

log = logging.getLogger(__name__)

Report = Callable[[str, ProtectionError], None]
"""Called with a location (``line 3``, ``topic/0/42``) and the error of a failed record."""

Header = tuple[str, bytes]


def _record_of(data: bytes | str) -> dict[str, Any] | None:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def rekey_lines(
    rekeyer: Rekeyer, source: Iterable[bytes], out: IO[str], summary: RekeySummary,
    report: Report,
) -> None:
    """Re-key a JSON Lines file of protected records, one output line per input line."""
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        record = _record_of(line)
        if record is None:
            summary.add_failure(key_ids_in(line.decode("utf-8", "replace")))
            report(f"line {number}", ProtectionError("not a JSON object"))
            out.write(line.decode("utf-8", "replace").rstrip("\r\n") + "\n")
            continue
        try:
            result = rekeyer.rekey(record)
        except ProtectionError as exc:
            summary.add_failure(key_ids_in(record))
            report(f"line {number}", exc)
            out.write(encode_record(record).decode("utf-8") + "\n")
            continue
        summary.add(result)
        out.write(encode_record(result.record).decode("utf-8") + "\n")


def rekey_message(
    rekeyer: Rekeyer, msg: TopicRecord, summary: RekeySummary, report: Report
) -> tuple[bytes | None, bytes | None, tuple[Header, ...]]:
    """``(key, value, headers)`` of the re-keyed copy of one Kafka record."""
    try:
        key = None if msg.key is None else msg.key.decode("utf-8")
    except UnicodeDecodeError:
        key = None
    record = None if msg.value is None else _record_of(msg.value)
    if (msg.value is not None and record is None) or (msg.key is not None and key is None):
        summary.add_failure(key_ids_in(msg.value.decode("utf-8", "replace") if msg.value else ""))
        report(msg.coordinates, ProtectionError("not a protected JSON record"))
        return msg.key, msg.value, msg.headers
    try:
        result = rekeyer.rekey(record or {}, key)
    except ProtectionError as exc:
        summary.add_failure(key_ids_in(record or {}) | key_ids_in(key or ""))
        report(msg.coordinates, exc)
        return msg.key, msg.value, msg.headers
    summary.add(result)
    headers = tuple(
        (name, rekey_key_ids(raw, result.replaced) if name == KEY_IDS else raw)
        for name, raw in msg.headers
    )
    value = None if record is None else encode_record(result.record)
    return (None if result.key is None else result.key.encode("utf-8")), value, headers


async def rekey_topic(
    rekeyer: Rekeyer, source: str, target: str, conn: KafkaConnection, *,
    report: Report, idle_timeout: float = 30.0, on_record: Callable[[], None] | None = None,
) -> RekeySummary:
    """Copy ``source`` to ``target`` re-keyed; returns once every copy is acknowledged."""
    if source == target:
        raise ConfigError("re-key into another topic, not the one being read", key="to-topic")
    summary = RekeySummary()
    producer = new_producer(conn)
    try:
        with diagnosed():
            try:
                await producer.start()
                partitions = await producer.partitions_for(target)
            except (KafkaError, OSError) as exc:
                raise translate(exc, conn, topic=target, doing="writing") from None
        pending: list[asyncio.Future[Any]] = []
        async for msg in read_to_end(conn, source, idle_timeout=idle_timeout):
            key, value, headers = rekey_message(rekeyer, msg, summary, report)
            if on_record is not None:
                on_record()
            partition = msg.partition if msg.partition in partitions else None
            try:
                pending.append(await producer.send(
                    target, value=value, key=key, headers=list(headers), partition=partition
                ))
                if len(pending) >= 500:
                    await asyncio.gather(*pending)
                    pending.clear()
            except (KafkaError, OSError) as exc:
                raise translate(exc, conn, topic=target, doing="writing") from None
        try:
            await asyncio.gather(*pending)
        except (KafkaError, OSError) as exc:
            raise translate(exc, conn, topic=target, doing="writing") from None
    finally:
        await producer.stop()
    log.info("re-keyed %d record(s) from %s to %s", summary.records, source, target)
    return summary
