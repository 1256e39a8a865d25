"""``streamsec decrypt --as ROLE``: restore the values a role may read in a protected
JSON Lines file.

``--as ROLE`` (required, no default) decrypts what the topology's ``roles:`` grant
ROLE; the other encrypted fields stay ciphertext. ``--as all`` decrypts every field
whose key the caller's KEKs release, and says so. Under ``key_separation: role`` the
KEK provider itself refuses the keys of fields ROLE is not granted. A field whose
key is not released (no KEK for it, or erased) stays ciphertext and is counted.

Every value read in clear is audited first: one ``io.streamsec.field.decrypted``
event per (line, path, key id), naming the role (``all`` included), chained and
signed with this user's audit signing key, to ``--audit-out FILE`` or else the
topology's audit topic. A chunk of lines is written out only after its events
were delivered; with nowhere to audit, nothing is decrypted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from streamsec.cli.io import (
    add_settings_args,
    json_line,
    json_object,
    open_input,
    open_output,
    settings_from,
)
from streamsec.errors import SettingsError, StreamsecError

if TYPE_CHECKING:
    from streamsec.decryption.view import RoleDecryptor
    from streamsec.events.sinks import AuditSink
    from streamsec.events.trail import AuditTrail

__all__ = ["register"]

CHUNK = 256
"""Lines decrypted, then audited, then written, at a time."""
WITHHELD: Final = frozenset({"key_access", "key_destroyed", "subject_forgotten"})
"""Reasons a permitted field stays ciphertext without failing its line: the caller's
KEKs do not release its key, or its subject was erased."""


def register(sub: Any) -> None:
    p = sub.add_parser("decrypt", help="decrypt protected JSON Lines as one role (audited)")
    p.add_argument("--topology", "-t", required=True)
    p.add_argument("--in", dest="input", default="-")
    p.add_argument("--out", default="-")
    p.add_argument("--as", dest="as_role", metavar="ROLE",
                   help="required: a role of the topology's roles: (decrypt what it is "
                        "granted), or 'all' (every field your KEKs release)")  # fmt: skip
    p.add_argument("--role", dest="old_role", help=argparse.SUPPRESS)  # deprecated: --as
    p.add_argument("--audit-out", metavar="FILE", help="audit events to this file, not the topic")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: $STREAMSEC_BROKER)")
    add_settings_args(p)
    p.set_defaults(func=run)


@dataclass
class _Tally:
    read: int = 0
    denied: int = 0
    withheld: int = 0
    failed: int = 0

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
                key_id=key_id, role=self.args.as_role,
                record=RecordRef(f"file:{self.name}", 0, line),
            )
            for line, path, key_id in reads
        ])

    def close(self) -> list[dict[str, Any]]:
        return [] if self.trail is None else list(self.trail.close())


def _role(args: argparse.Namespace) -> str | None:
    if args.old_role is not None:
        print("streamsec decrypt: --role is deprecated, use --as", file=sys.stderr)
        args.as_role = args.as_role or args.old_role
    return str(args.as_role) if args.as_role else None


def run(args: argparse.Namespace) -> int:
    if _role(args) is None:
        print("streamsec decrypt: error: --as ROLE is required: a role of the topology's "
              "roles:, or --as all (every field your KEKs release)", file=sys.stderr)  # fmt: skip
        return 2
    return asyncio.run(_run(args))


def _decryptor(args: argparse.Namespace, settings: Any) -> RoleDecryptor:
    from streamsec.crypto import open_cipher
    from streamsec.decryption.roles import ALL_ROLES, RoleAccess
    from streamsec.decryption.view import RoleDecryptor
    from streamsec.topology.loader import load_topology

    topology = load_topology(args.topology)
    access = RoleAccess(topology, args.as_role)  # an unknown role: one line, exit 2
    if args.as_role == ALL_ROLES:
        print("streamsec decrypt: decrypting as 'all': every field whose key your KEKs "
              "release", file=sys.stderr)  # fmt: skip
    return RoleDecryptor(open_cipher(settings, topology.name), access)


def _line(
    decryptor: RoleDecryptor, number: int, line: bytes, tally: _Tally
) -> tuple[str, list[tuple[int, str, str]]] | None:
    """The line as ``args.as_role`` may see it and what it read, or ``None`` (reported)."""
    record = json_object(number, line)
    if record is None:
        return None
    view = decryptor.view(record)
    broken = [(path, why) for path, why in view.failed if why not in WITHHELD]
    for path, why in broken:
        print(f"line {number}: {path}: cannot decrypt ({why})", file=sys.stderr)
    if broken:
        return None
    tally.denied += len(view.denied)
    tally.withheld += len(view.failed)
    tally.read += len(view.reads)
    return json_line(view.record), [(number, r.path, r.key_id) for r in view.reads]


async def _run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    decryptor = _decryptor(args, settings)
    audit = _Audit(args, settings, decryptor.access.topology)
    tally = _Tally()
    try:
        with open_input(args.input) as source, open_output(args.out) as out:
            assert out is not None
            chunk: list[str] = []
            reads: list[tuple[int, str, str]] = []
            for number, line in enumerate(source, start=1):
                if not line.strip():
                    continue
                try:
                    done = _line(decryptor, number, line, tally)
                except StreamsecError as exc:
                    print(f"line {number}: {exc}", file=sys.stderr)
                    done = None
                if done is None:
                    tally.failed += 1
                else:
                    chunk.append(done[0])
                    reads += done[1]
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
    print(f"streamsec decrypt: as {args.as_role!r}: {tally.read} value(s) read in clear "
          f"(audited); {tally.denied} field(s) not granted to the role and {tally.withheld} "
          "whose key was not released (no KEK for it, or erased) left encrypted",
          file=sys.stderr)  # fmt: skip
    if tally.failed:
        print(f"{tally.failed} line(s) could not be decrypted", file=sys.stderr)
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
