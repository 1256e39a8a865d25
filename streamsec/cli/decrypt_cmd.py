"""``streamsec decrypt``: restore encrypted values in a protected JSON Lines file.

Every value read in clear is audited first: one ``io.streamsec.field.decrypted``
event per (line, path, key id), role ``--role`` (default ``decrypt-cli``), chained
and signed with this user's audit signing key, to ``--audit-out FILE`` or else the
topology's audit topic. A chunk of lines is written out only after its events
were delivered; with nowhere to audit, nothing is decrypted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamsec.cli.io import add_settings_args, json_line, open_input, open_output, settings_from
from streamsec.errors import SettingsError, StreamsecError

if TYPE_CHECKING:
    from streamsec.events.sinks import AuditSink
    from streamsec.events.trail import AuditTrail

__all__ = ["register"]

CHUNK = 256
"""Lines decrypted, then audited, then written, at a time."""


def register(sub: Any) -> None:
    p = sub.add_parser("decrypt", help="decrypt protected JSON Lines (authorised users only)")
    p.add_argument("--topology", "-t", required=True)
    p.add_argument("--in", dest="input", default="-")
    p.add_argument("--out", default="-")
    p.add_argument("--role", default="decrypt-cli", help="role named in the audit events")
    p.add_argument("--audit-out", metavar="FILE", help="audit events to this file, not the topic")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: $STREAMSEC_BROKER)")
    add_settings_args(p)
    p.set_defaults(func=run)


class _Audit:
    """The audit of one decrypt run: opened at the first value read in clear."""

    def __init__(self, args: argparse.Namespace, settings: Any, topology: Any) -> None:
        self.args, self.settings, self.topology = args, settings, topology
        self.trail: AuditTrail | None = None
        self.sink: AuditSink | None = None
        self.name = "stdin" if args.input in (None, "-") else Path(args.input).name

    def _open(self) -> None:
        from streamsec.events.sinks import FileAuditSink, actor_id
        from streamsec.events.trail import AuditTrail

        if self.args.audit_out:
            self.sink = FileAuditSink(self.args.audit_out)
        elif self.args.bootstrap or self.settings.broker:
            from streamsec.kafka import KafkaAuditSink, connect

            self.sink = KafkaAuditSink(connect(self.settings, self.args.bootstrap),
                                       self.topology.audit)
        else:
            raise SettingsError("every decryption is audited: pass --audit-out FILE or a "
                                "broker", key="STREAMSEC_BROKER")
        self.trail = AuditTrail.open(self.settings, self.topology.name,
                                     actor=actor_id(self.settings, "decrypt"))

    def events(self, reads: list[tuple[int, str, str]]) -> list[dict[str, Any]]:
        from streamsec.events.audit import RecordRef, field_decrypted

        if self.trail is None:
            self._open()
        assert self.trail is not None
        return self.trail.sign([
            field_decrypted(
                worker_id=self.trail.actor, topology=self.topology.name, path=path,
                key_id=key_id, role=self.args.role,
                record=RecordRef(f"file:{self.name}", 0, line),
            )
            for line, path, key_id in reads
        ])

    def close(self) -> list[dict[str, Any]]:
        return [] if self.trail is None else list(self.trail.close())


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from streamsec.decryption.decryptor import Decryptor

    settings = settings_from(args)
    decryptor = Decryptor.from_topology(args.topology, settings=settings)
    audit = _Audit(args, settings, decryptor.topology)
    failures = 0
    try:
        with open_input(args.input) as source, open_output(args.out) as out:
            assert out is not None
            chunk: list[str] = []
            reads: list[tuple[int, str, str]] = []
            for number, line in enumerate(source, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    if not isinstance(record, dict):
                        raise ValueError("not a JSON object")
                    read: list[tuple[str, str]] = []
                    chunk.append(json_line(decryptor.decrypt(record, read)))
                    reads += [(number, path, key_id) for path, key_id in read]
                except StreamsecError as exc:
                    failures += 1
                    print(f"line {number}: {exc}", file=sys.stderr)
                except ValueError:
                    failures += 1
                    print(f"line {number}: not a JSON object", file=sys.stderr)
                if len(chunk) >= CHUNK:
                    await _flush(audit, reads, chunk, out)
                    chunk, reads = [], []
            await _flush(audit, reads, chunk, out)
            final = audit.close()
            if final and audit.sink is not None:
                await audit.sink.send(final)
    finally:
        stop = getattr(audit.sink, "stop", None)
        if stop is not None:
            await stop()
    if failures:
        print(f"{failures} line(s) could not be decrypted", file=sys.stderr)
        return 1
    return 0


async def _flush(
    audit: _Audit, reads: list[tuple[int, str, str]], chunk: list[str], out: Any
) -> None:
    """Audit what this chunk read in clear, then (only then) write it."""
    if reads:
        events = audit.events(reads)  # opens the trail and its sink at the first read
        assert audit.sink is not None
        await audit.sink.send(events)
    for line in chunk:
        out.write(line)
