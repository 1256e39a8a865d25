"""JSON Lines files as a source and a sink of the record pipeline (``streamsec protect``).

The worker and ``streamsec protect`` run the same :class:`RecordPipeline`; only the
source and the sink differ (in the manner of bytewax). Here the source is a file of
JSON Lines and the sink a set of files, one per topic the pipeline writes to:

* plain lines: each line is one record's value (no key);
* ``keyed`` lines: each line is ``{"key": str | null, "value": object | null}``
  (what ``streamsec consume --meta`` prints), so record keys are protected and a
  null value is a tombstone, exactly as on a topic.

A line's number is its offset (partition 0, topic ``file:<name>``) in audit events
and dead letters. Both classes take open handles: nothing here opens a file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from streamsec.errors import DecodeError, StreamsecError
from streamsec.pipeline.model import Outcome, OutMessage, SourceRecord
from streamsec.topology.model import Topology

__all__ = ["FileSink", "FileSource", "SourceLine"]


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One non-blank input line: the record to process, or why it cannot be."""

    record: SourceRecord
    error: StreamsecError | None = None


class FileSource:
    """Batches of :class:`SourceLine` from a JSON Lines handle."""

    def __init__(self, handle: IO[bytes], *, name: str, keyed: bool = False) -> None:
        self.handle = handle
        self.topic = f"file:{name}"
        self.keyed = keyed
        self.bytes_read = 0

    def lines(self) -> Iterator[SourceLine]:
        for number, line in enumerate(self.handle, start=1):
            self.bytes_read += len(line)
            if not line.strip():
                continue
            raw = line.rstrip(b"\r\n")
            if not self.keyed:
                yield SourceLine(SourceRecord(self.topic, 0, number, None, raw))
                continue
            try:
                key, value = _split_keyed(raw)
            except DecodeError as exc:
                yield SourceLine(SourceRecord(self.topic, 0, number, None, raw), exc)
                continue
            yield SourceLine(SourceRecord(self.topic, 0, number, key, value))

    def batches(self, size: int) -> Iterator[list[SourceLine]]:
        batch: list[SourceLine] = []
        for line in self.lines():
            batch.append(line)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch


def _split_keyed(raw: bytes) -> tuple[bytes | None, bytes | None]:
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise DecodeError("a keyed line is not JSON") from None
    if not isinstance(doc, dict) or set(doc) - {"key", "value"} or "value" not in doc:
        raise DecodeError('a keyed line must be {"key": ..., "value": ...}')
    key, value = doc.get("key"), doc["value"]
    if key is not None and not isinstance(key, str):
        raise DecodeError("a keyed line's key must be a string or null")
    encoded_key = None if key is None else key.encode("utf-8", "surrogatepass")
    if value is None:
        return encoded_key, None
    return encoded_key, json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _text(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", "replace")


class FileSink:
    """Writes each outcome's messages to the file of their topic, in order.

    The protected output gets the protected value (keyed: key and value), the
    dead-letter file ``{"line", "reason", "raw"}`` (keyed: and ``"key"``), the
    audit and lineage files their events. A topic without a file is not written.
    """

    def __init__(
        self, topology: Topology, *, out: IO[str] | None, dead_letter: IO[str] | None,
        audit: IO[str] | None = None, lineage: IO[str] | None = None, keyed: bool = False,
    ) -> None:
        self.keyed = keyed
        self._routes: dict[str, tuple[str, IO[str] | None]] = {
            topology.lineage: ("event", lineage),
            topology.audit: ("event", audit),
            topology.dead_letter_topic: ("dead", dead_letter),
            topology.output: ("out", out),
        }

    def write(self, outcome: Outcome) -> None:
        """Every message of one outcome (protected record or dead letter, and events)."""
        for message in outcome.messages:
            kind, handle = self._routes.get(message.topic, ("", None))
            if handle is None:
                continue
            if kind == "out":
                handle.write(self._protected(message))
            elif kind == "dead":
                handle.write(self._dead(outcome, message))
            elif message.value is not None:
                handle.write(message.value.decode("utf-8") + "\n")

    def write_events(self, messages: Sequence[OutMessage]) -> None:
        """Audit and lineage messages of no record (final checkpoints, lineage end)."""
        for message in messages:
            kind, handle = self._routes.get(message.topic, ("", None))
            if handle is not None and kind == "event" and message.value is not None:
                handle.write(message.value.decode("utf-8") + "\n")

    def _protected(self, message: OutMessage) -> str:
        value = _text(message.value)
        if not self.keyed:
            return f"{value}\n"
        key = json.dumps(_text(message.key), ensure_ascii=False)
        return f'{{"key":{key},"value":{"null" if value is None else value}}}\n'

    def _dead(self, outcome: Outcome, message: OutMessage) -> str:
        entry: dict[str, Any] = {"line": outcome.source.offset, "reason": outcome.reason}
        if self.keyed:
            entry["key"] = _text(message.key)
        entry["raw"] = _text(message.value)
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
