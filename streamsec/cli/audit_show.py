"""``streamsec audit show``: one record's decisions, looked up in the audit trail.

    streamsec audit show --in FILE|- | --topic T  --record TOPIC/PARTITION/OFFSET

Prints, as JSON Lines, every audit entry about that source record: its entry in a
``records.batch`` event (batch granularity) or its own ``record.protected`` /
``record.dead_lettered`` event (record granularity), with the chain and seq that hold
it and where it was read. Exit 0 when found, 1 when not. It does not verify: run
``streamsec audit verify`` on the same trail, which names a tampered record.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Iterator, Mapping
from typing import Any

from streamsec.cli.io import open_input, settings_from
from streamsec.errors import ConfigError, SettingsError
from streamsec.events.cloudevents import EventType

__all__ = ["add_show", "find_record"]

_PER_RECORD = frozenset({str(EventType.RECORD_PROTECTED), str(EventType.RECORD_DEAD_LETTERED)})


def add_show(cmds: Any) -> None:
    p = cmds.add_parser("show", help="one source record's audited decisions")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--in", dest="input", metavar="FILE", help="JSON Lines file, '-' = stdin")
    source.add_argument("--topic", metavar="T", help="read this audit topic from the beginning")
    p.add_argument("--record", required=True, metavar="TOPIC/PARTITION/OFFSET",
                   help="the source record, e.g. raw.customers/0/42")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: $STREAMSEC_BROKER)")
    p.add_argument("--timeout", type=float, default=30.0, help="topic read idle timeout (s)")
    p.set_defaults(func=_show)


def _parse_record(text: str) -> tuple[str, int, int]:
    topic, _, rest = text.rpartition("/")
    topic, _, partition = topic.rpartition("/")
    if not (topic and partition.isdigit() and rest.isdigit()):
        raise ConfigError("expected TOPIC/PARTITION/OFFSET", key="--record")
    return topic, int(partition), int(rest)


def find_record(
    event: Any, topic: str, partition: int, offset: int
) -> Iterator[dict[str, Any]]:
    """The entries of ``event`` (a parsed audit event) about that source record."""
    if not isinstance(event, Mapping) or not isinstance(event.get("data"), Mapping):
        return
    data, kind = event["data"], event.get("type")
    if kind == str(EventType.RECORDS_BATCH):
        source = data.get("source")
        if not (isinstance(source, Mapping) and source.get("topic") == topic
                and source.get("partition") == partition):
            return
        for entry in data.get("records") or ():
            if isinstance(entry, Mapping) and entry.get("offset") == offset:
                yield dict(entry)
    elif kind in _PER_RECORD:
        ref = data.get("record")
        if isinstance(ref, Mapping) and (ref.get("topic"), ref.get("partition"),
                                         ref.get("offset")) == (topic, partition, offset):
            yield dict(data)


def _raw_events(args: argparse.Namespace) -> Iterator[tuple[bytes, str]]:
    if args.input is not None:
        with open_input(args.input) as handle:
            for number, raw in enumerate(handle, start=1):
                if raw.strip():
                    yield raw, f"line {number}"
        return
    from streamsec.kafka import connect, read_to_end

    settings = settings_from(args)
    if not (args.bootstrap or settings.broker):
        raise SettingsError("no Kafka broker: pass --bootstrap", key="STREAMSEC_BROKER")
    conn = connect(settings, args.bootstrap)
    read: list[tuple[bytes, str]] = []

    async def run() -> None:
        async for message in read_to_end(conn, args.topic, idle_timeout=args.timeout):
            if message.value is not None:
                read.append((message.value,
                             f"partition {message.partition} offset {message.offset}"))

    asyncio.run(run())
    yield from read


def _show(args: argparse.Namespace) -> int:
    topic, partition, offset = _parse_record(args.record)
    found = 0
    for raw, where in _raw_events(args):
        if str(offset).encode() not in raw:
            continue  # cannot hold it: no need to parse
        try:
            event = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            continue
        for entry in find_record(event, topic, partition, offset):
            found += 1
            print(json.dumps({
                "record": f"{topic}/{partition}/{offset}", "type": event.get("type"),
                "chain": event.get("chain"), "seq": event.get("seq"), "at": where,
                "entry": entry,
            }, sort_keys=True))
    if not found:
        print(f"audit show: no audit entry for {topic}/{partition}/{offset}")
    return 0 if found else 1
