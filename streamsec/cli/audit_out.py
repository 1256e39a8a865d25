"""Where command-line key operations write their audit events, and how they fail.

``keys forget`` / ``shred-subject`` (erasures) and ``keys rotate`` / ``destroy`` /
``rotate-kek`` write signed, chained audit events to the audit topic through the
Kafka edge, or with ``--audit-out FILE`` to a JSON Lines file (offline). The
destination is opened, and the broker reached, before any key is touched.

:class:`AuditedKeyOperation` (rotate, destroy, rotate-kek) writes, in one chain of
the operator's audit signing key:

1. **intent**: an ``io.streamsec.key.operation`` event per key (version) or KEK name
   it is about to change, ``outcome: requested``, signed and delivered *before* the
   change. Not delivered: nothing is changed (exit 1, naming the destination).
2. the operation;
3. **outcome**: one event per key version or KEK version changed (``ok``), or the
   intent's targets again with ``outcome: failed`` if the operation failed; then the
   chain's final checkpoint and the actor's final digest. Not delivered: the change
   cannot be undone (a destroyed key stays destroyed), so the command exits 1
   naming the destination and prints the signed events for delivery by hand; the
   trail already holds the intent.

Events name key ids, owners, purposes and KEK names/versions: never key material,
never a subject id.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from streamsec.cli.io import json_line
from streamsec.errors import StreamsecError

__all__ = [
    "AuditedKeyOperation",
    "add_audit_args",
    "audit_sink",
    "audited_rotate_kek",
    "deliver",
]

T = TypeVar("T")
Event = dict[str, Any]
Target = tuple[str, str | None, str | None, str | None]
"""``(key id or KEK name, owner, purpose, KEK name and version)``."""


def add_audit_args(p: argparse.ArgumentParser, *, topic: bool = True) -> None:
    p.add_argument("--audit-out", metavar="FILE", help="append the audit events here (offline)")
    if topic:
        p.add_argument("--audit-topic", default="streamsec.audit", help="default: streamsec.audit")
        p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: $STREAMSEC_BROKER)")


def audit_sink(args: argparse.Namespace, settings: Any, topic: str) -> tuple[Any, str]:
    """The sink of a command's audit events: ``--audit-out`` or the audit ``topic``
    (the broker is reached now, before anything is changed)."""
    from streamsec.events.sinks import FileAuditSink

    if args.audit_out:
        return FileAuditSink(args.audit_out), args.audit_out
    from streamsec.kafka import KafkaAuditSink, check_connection, connect

    conn = connect(settings, args.bootstrap)
    asyncio.run(check_connection(conn))
    return KafkaAuditSink(conn, topic), f"topic {topic}"


def deliver(sink: Any, events: Sequence[Event]) -> None:
    """Send ``events`` in order and stop the sink; raises when they are not delivered."""
    asyncio.run(_deliver(sink, events))


async def _deliver(sink: Any, events: Sequence[Event]) -> None:
    try:
        await sink.send(events)
    finally:
        stop = getattr(sink, "stop", None)
        if stop is not None:
            await stop()


class AuditedKeyOperation:
    """One audited key operation of the command line (see the module docstring)."""

    def __init__(
        self, args: argparse.Namespace, settings: Any, *, tool: str, scope: str,
        sink: tuple[Any, str] | None = None,
    ) -> None:
        from streamsec.events.signing import AuditIdentity
        from streamsec.events.sinks import actor_id
        from streamsec.events.trail import AuditTrail

        self.sink, self.where = sink or audit_sink(args, settings, args.audit_topic)
        self.actor = actor_id(settings, tool)
        self.provider = str(settings.kek_provider)
        self.trail = AuditTrail(
            AuditIdentity.from_settings(settings), actor=self.actor, topology=scope
        )
        self.delivered: list[Event] = []

    def events(self, operation: str, targets: Sequence[Target], outcome: str) -> list[Event]:
        from streamsec.events.audit import key_operation

        return [
            key_operation(
                worker_id=self.actor, operation=operation, key_id=key_id,
                provider=self.provider, purpose=purpose, owner=owner, kek_id=kek,
                outcome=outcome,
            )
            for key_id, owner, purpose, kek in targets
        ]  # fmt: skip

    def run(
        self, operation: str, targets: Sequence[Target], change: Callable[[], T],
        outcome: Callable[[T], Sequence[Event]],
    ) -> tuple[T | None, int]:
        """Intent, ``change()``, outcome events (``outcome(result)``); the result (``None``
        when not done) and the exit code of the audit: 0, or 1 when not delivered."""
        intent = self.trail.sign(self.events(operation, targets, "requested"))
        try:
            deliver(self.sink, intent)
        except (StreamsecError, OSError) as exc:
            print(f"nothing was changed: the audit intent could not be written to "
                  f"{self.where} ({exc})", file=sys.stderr)  # fmt: skip
            return None, 1
        self.delivered += intent
        try:
            result = change()
        except StreamsecError:
            self._finish(self.events(operation, targets, "failed"))
            raise
        return result, self._finish(list(outcome(result)))

    def _finish(self, events: Sequence[Event]) -> int:
        sealed = [*self.trail.seal(events), *self.trail.close()]
        try:
            deliver(self.sink, sealed)
        except (StreamsecError, OSError) as exc:
            print(f"the key operation is done, but its audit events were not written to "
                  f"{self.where} ({exc}); here they are, deliver them by hand:",
                  file=sys.stderr)  # fmt: skip
            for event in sealed:
                sys.stdout.write(json_line(event))
            return 1
        self.delivered += sealed
        print(f"audit: {len(events)} key operation event(s) written to {self.where}")
        return 0


def audited_rotate_kek(ring: Any, audit: AuditedKeyOperation) -> tuple[Any, int]:
    """``rotate_kek`` under audit: intent names every KEK name and version in use;
    outcome, the new version of each (``rotate-kek``) and each old version destroyed
    in the provider (``destroy-kek-version``)."""
    from streamsec.crypto.kek_rotation import KekRotation, keks_in_use, rotate_kek

    targets = [(name, None, None, f"{name}@{version}")
               for name, versions in sorted(keks_in_use(ring).items())
               for version in sorted(versions)]  # fmt: skip

    def outcome(result: KekRotation) -> list[Event]:
        rotated = [(n, None, None, f"{n}@{v}") for n, v in sorted(result.new_versions.items())]
        gone = [(n, None, None, f"{n}@{v}") for n, v in result.destroyed]
        return [*audit.events("rotate-kek", rotated, "ok"),
                *audit.events("destroy-kek-version", gone, "ok")]  # fmt: skip

    return audit.run("rotate-kek", targets, lambda: rotate_kek(ring), outcome)
