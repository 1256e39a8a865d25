"""Kafka headers the worker writes. Metadata only: names, codes and key ids, never values.

Input headers are not inspected by detection, so they are forwarded fail-closed:
only names on the allow-list (``STREAMSEC_FORWARD_HEADERS``, default the W3C
``traceparent``, whose format is hex ids only) reach the protected record, never a
``streamsec.*`` name (those are ours); a ``traceparent`` or ``tracestate`` not in the
W3C format is dropped. Other names an operator allows (``tracestate`` included: its
vendor values are opaque text) are forwarded unscanned, so allow only headers that
never hold personal data. Dead letters carry no input header.

Audit and lineage events follow the CloudEvents Kafka protocol binding in
structured mode: ``content-type: application/cloudevents+json``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from streamsec.classification.model import Sensitivity
from streamsec.pipeline.model import Header, SourceRecord
from streamsec.protection.result import FieldAction
from streamsec.topology.model import Topology

__all__ = [
    "CATEGORIES",
    "CLOUDEVENTS_HEADERS",
    "CONTENT_TYPE",
    "ENTITIES",
    "FORM",
    "KEY_IDS",
    "REASON",
    "SENSITIVITY",
    "SOURCE_OFFSET",
    "SOURCE_PARTITION",
    "SOURCE_TOPIC",
    "TOPOLOGY",
    "TOPOLOGY_VERSION",
    "dead_letter_headers",
    "forwardable",
    "lineage_cloudevent",
    "parse_forward_list",
    "protected_headers",
]

TOPOLOGY: Final = "streamsec.topology"
TOPOLOGY_VERSION: Final = "streamsec.topology.version"
CATEGORIES: Final = "streamsec.categories"
SENSITIVITY: Final = "streamsec.sensitivity"
ENTITIES: Final = "streamsec.entities"
KEY_IDS: Final = "streamsec.key-ids"
REASON: Final = "streamsec.reason"
SOURCE_TOPIC: Final = "streamsec.source.topic"
SOURCE_PARTITION: Final = "streamsec.source.partition"
SOURCE_OFFSET: Final = "streamsec.source.offset"
FORM: Final = "streamsec.dead-letter.form"
"""``reference`` on a dead letter whose value refers to the source instead of copying it."""

CONTENT_TYPE: Final = "content-type"
CLOUDEVENTS_HEADERS: Final[tuple[Header, ...]] = (
    (CONTENT_TYPE, b"application/cloudevents+json"),
)

_RANK = {s.value: s.rank for s in Sensitivity}

# W3C Trace Context level 1: traceparent is hex ids only (cannot hold free text);
# tracestate is up to 32 ``key=value`` members of restricted characters.
_MEMBER: Final = rb"[a-z0-9][a-z0-9_\-*/@]{0,255}=[\x21-\x2b\x2d-\x3c\x3e-\x7e]{1,256}"
_FORMATS: Final = {
    "traceparent": re.compile(rb"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}"),
    "tracestate": re.compile(rb"%s(?:[ \t]*,[ \t]*%s){0,31}" % (_MEMBER, _MEMBER)),
}
_MAX_FORWARDED = 512


def lineage_cloudevent(run_event: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenLineage run event as a CloudEvent (structured mode): ``data`` is the run
    event unchanged, ``type`` is ``io.openlineage.run.<eventType>``, ``dataschema`` its
    schema URL; the id is derived from run, event type and time (a resend is the same
    event)."""
    run_id = str(run_event.get("run", {}).get("runId", ""))
    kind = str(run_event.get("eventType", "other")).lower()
    time = str(run_event.get("eventTime", ""))
    job = run_event.get("job", {})
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"openlineage:{run_id}:{kind}:{time}")),
        "source": str(run_event.get("producer", "urn:streamsec")),
        "type": f"io.openlineage.run.{kind}",
        "subject": f"{job.get('namespace', '')}/{job.get('name', '')}",
        "time": time,
        "datacontenttype": "application/json",
    }
    if run_event.get("schemaURL"):
        event["dataschema"] = str(run_event["schemaURL"])
    event["data"] = dict(run_event)
    return event


def parse_forward_list(text: str) -> frozenset[str]:
    """``"traceparent, TraceState"`` -> ``{"traceparent", "tracestate"}`` (never ours)."""
    names = {n.strip().lower() for n in text.split(",") if n.strip()}
    return frozenset(n for n in names if not n.startswith("streamsec."))


def forwardable(
    headers: Iterable[tuple[str, bytes | bytearray | None]] | None, allowed: frozenset[str]
) -> tuple[Header, ...]:
    """The input headers that may be carried over to the protected record."""
    out: list[Header] = []
    for name, raw in headers or ():
        lowered = name.lower()
        if lowered not in allowed or raw is None or len(raw) > _MAX_FORWARDED:
            continue
        value = bytes(raw)
        pattern = _FORMATS.get(lowered)
        if pattern is not None and pattern.fullmatch(value) is None:
            continue
        out.append((name, value))
    return tuple(out)


def _b(text: str) -> bytes:
    return text.encode("utf-8")


def _source(source: SourceRecord) -> list[Header]:
    return [
        (SOURCE_TOPIC, _b(source.topic)),
        (SOURCE_PARTITION, _b(str(source.partition))),
        (SOURCE_OFFSET, _b(str(source.offset))),
    ]


def protected_headers(
    topology: Topology, source: SourceRecord, actions: Sequence[FieldAction]
) -> tuple[Header, ...]:
    """Classification summary of a protected record: categories, highest sensitivity,
    entity types and the ids of the keys that protect it."""
    categories: set[str] = set()
    entities: set[str] = set()
    key_ids: set[str] = set()
    highest, top = None, -1  # the first action of the highest rank, as max() picks it
    for a in actions:  # one pass (per record, on the worker's hot path)
        if a.category:
            categories.add(a.category)
        entities.update(a.entity_types)
        if a.key_id:
            key_ids.add(a.key_id)
        level = a.sensitivity
        if level is not None and level in _RANK and _RANK[level] > top:
            highest, top = level, _RANK[level]
    return (
        (TOPOLOGY, topology.name.encode("utf-8")),
        (TOPOLOGY_VERSION, str(topology.version).encode("utf-8")),
        (CATEGORIES, ",".join(sorted(categories)).encode("utf-8")),
        (SENSITIVITY, (highest or "").encode("utf-8")),
        (ENTITIES, ",".join(sorted(entities)).encode("utf-8")),
        (KEY_IDS, ",".join(sorted(key_ids)).encode("utf-8")),
        (SOURCE_TOPIC, source.topic.encode("utf-8")),
        (SOURCE_PARTITION, str(source.partition).encode("utf-8")),
        (SOURCE_OFFSET, str(source.offset).encode("utf-8")),
        *source.headers,
    )


def dead_letter_headers(
    topology: Topology, source: SourceRecord, reason: str
) -> tuple[Header, ...]:
    """Why and from where: the reason code and the source coordinates, nothing else."""
    return (
        (REASON, _b(reason)),
        (TOPOLOGY, _b(topology.name)),
        *_source(source),
    )
