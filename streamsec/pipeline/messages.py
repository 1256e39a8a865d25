"""The pipeline's outgoing messages besides the protected record itself.

* Audit events go to the topology's audit topic keyed by chain id (a digest by its
  writer run, a handover by the chain it closes), so each chain stays in order on
  one audit partition; the value is the event's canonical JSON (what its digest is
  computed over).
* Lineage events go to its lineage topic as CloudEvents, keyed by topology, so one
  topology's run events stay in order.
* A dead letter carries the original bytes with the reason code only; one too large
  to copy carries a reference to its source instead (:data:`REFERENCE_FORM`), and
  one of a forgotten data subject nothing of the record (form ``withheld``).

Pure: the events themselves are built by :mod:`streamsec.pipeline.events`.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from streamsec.errors import StreamsecError, SubjectForgottenError
from streamsec.events.canonical import wire
from streamsec.pipeline.headers import (
    CLOUDEVENTS_HEADERS,
    FORM,
    dead_letter_headers,
    lineage_cloudevent,
)
from streamsec.pipeline.model import OutMessage, SourceRecord
from streamsec.pipeline.record_keys import MAX_KEY_BYTES
from streamsec.records.decoding import encode_record
from streamsec.topology.model import Topology

__all__ = ["REFERENCE_FORM", "audit_messages", "dead_letter_message", "lineage_messages"]

REFERENCE_FORM: Final = "streamsec.dead-letter.reference"
"""Value of a dead letter that refers to its source record instead of copying it."""


def audit_messages(topology: Topology, events: list[dict[str, Any]]) -> list[OutMessage]:
    """The audit topic's messages of ``events``, each keyed by its chain."""
    return [
        OutMessage(
            topology.audit, _audit_key(e, topology.name), wire(e), CLOUDEVENTS_HEADERS,
        )
        for e in events
    ]


def lineage_messages(topology: Topology, events: list[dict[str, Any]]) -> list[OutMessage]:
    """The lineage topic's messages of ``events`` (CloudEvents), keyed by topology."""
    key = topology.name.encode("utf-8")
    return [
        OutMessage(
            topology.lineage, key, encode_record(lineage_cloudevent(e)), CLOUDEVENTS_HEADERS,
        )
        for e in events
    ]


def dead_letter_message(
    topology: Topology, source: SourceRecord, error: StreamsecError, *, max_output_bytes: int
) -> OutMessage:
    """The original bytes to the dead-letter topic, with the reason code only; a
    record too large to copy there goes as a reference to its source instead
    (topic, partition, offset, sizes, SHA-256), so the dead letter always fits. For
    a forgotten data subject nothing of the record: no key, an empty value (Kafka
    needs one of the two) and the form ``withheld``; no hash either, which would let
    a guess at its content be confirmed."""
    reason = error.reason
    headers = dead_letter_headers(topology, source, reason)
    key, value = source.key, source.value
    if isinstance(error, SubjectForgottenError):
        key, value = None, b""
        headers = (*headers, (FORM, b"withheld"))
    elif len(key or b"") + len(value or b"") > max_output_bytes:
        key, value = _reference(source, reason)
        headers = (*headers, (FORM, b"reference"))
    return OutMessage(topology.dead_letter_topic, key, value, headers)


def _reference(source: SourceRecord, reason: str) -> tuple[bytes | None, bytes]:
    """A dead letter's key and value that point at the source record (no value bytes):
    replay it from the raw topic while its retention lasts."""
    key = source.key if source.key is None or len(source.key) <= MAX_KEY_BYTES else None
    value = source.value or b""
    reference = {
        "form": REFERENCE_FORM,
        "reason": reason,
        "topic": source.topic,
        "partition": source.partition,
        "offset": source.offset,
        "value_bytes": len(value),
        "key_bytes": len(source.key or b""),
        "value_sha256": hashlib.sha256(value).hexdigest(),
    }
    return key, encode_record(reference)


def _audit_key(event: dict[str, Any], default: str) -> bytes:
    chain = event.get("chain") or event.get("subject") or default
    return str(chain).encode("utf-8")
