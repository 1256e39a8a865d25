"""Audit and lineage events for ``streamsec protect`` run over files.

The same builders as the worker: one audit chain (sealed with the topology's audit
key from the keyring), closed with a final checkpoint; lineage START, RUNNING on
shape changes, and COMPLETE (or FAIL) at the end.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from typing import IO, Any

from streamsec.cli.io import json_line, open_output
from streamsec.errors import StreamsecError
from streamsec.protection.protector import Protector
from streamsec.protection.result import ProtectionResult
from streamsec.settings import Settings

__all__ = ["EventWriters"]


class EventWriters:
    def __init__(
        self, protector: Protector, settings: Settings, source: str,
        audit: IO[str] | None, lineage: IO[str] | None,
    ) -> None:
        from streamsec.events import AuditChain, LineageTracker

        self.topology = protector.topology
        self.source = source
        self.worker_id = settings.worker_id or f"protect@{socket.gethostname()}:{os.getpid()}"
        self.audit, self.lineage = audit, lineage
        self.chain: AuditChain | None = None
        self.tracker: LineageTracker | None = None
        if audit is not None:
            from streamsec.crypto import open_keyring
            from streamsec.crypto.keys import KeyPurpose

            key = open_keyring(settings).current_key(self.topology.name, KeyPurpose.AUDIT)
            self.chain = AuditChain(key.material, key_id=key.id, worker_id=self.worker_id)
        if lineage is not None:
            self.tracker = LineageTracker(
                self.topology, bootstrap=settings.broker or "localhost:9092", min_interval=0
            )
            self._write(lineage, self.tracker.start())

    @classmethod
    @contextlib.contextmanager
    def open(
        cls, protector: Protector, settings: Settings, source: str,
        audit_path: str | None, lineage_path: str | None,
    ) -> Iterator[EventWriters]:
        with open_output(audit_path) as audit, open_output(lineage_path) as lineage:
            writers = cls(protector, settings, source, audit, lineage)
            try:
                yield writers
            except BaseException as exc:
                writers.close(error=exc)
                raise
            writers.close()

    @staticmethod
    def _write(handle: IO[str] | None, event: dict[str, Any] | None) -> None:
        if handle is not None and event is not None:
            handle.write(json_line(event))

    def _ref(self, line: int) -> Any:
        from streamsec.events import RecordRef

        return RecordRef(topic=self.source, partition=0, offset=line)

    def protected(self, line: int, record: dict[str, Any], result: ProtectionResult) -> None:
        from streamsec.events import leaf_types, record_protected

        if self.chain is not None:
            event = record_protected(
                self.topology, self._ref(line), result.actions, worker_id=self.worker_id
            )
            for sealed in self.chain.append(event):
                self._write(self.audit, sealed)
        if self.tracker is not None:
            self._write(self.lineage, self.tracker.observe(leaf_types(record), result.actions))

    def dead_lettered(self, line: int, error: StreamsecError) -> None:
        from streamsec.events import record_dead_lettered

        if self.chain is not None:
            event = record_dead_lettered(
                self.topology, self._ref(line), error, worker_id=self.worker_id
            )
            for sealed in self.chain.append(event):
                self._write(self.audit, sealed)

    def close(self, error: BaseException | None = None) -> None:
        if self.chain is not None and not self.chain.closed:
            self._write(self.audit, self.chain.close())
        if self.tracker is not None and self.tracker.state == "running":
            event = self.tracker.fail(error) if error else self.tracker.complete()
            self._write(self.lineage, event)
