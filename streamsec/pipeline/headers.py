"""Kafka headers the worker writes. Metadata only: names, codes and key ids, never values.

Input headers are never copied to any output: they are not inspected by
detection, so forwarding them could carry a sensitive value past the protector.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from streamsec.classification.model import Sensitivity
from streamsec.pipeline.model import Header, SourceRecord
from streamsec.protection.result import FieldAction
from streamsec.topology.model import Topology

__all__ = [
    "CATEGORIES",
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

_RANK = {s.value: s.rank for s in Sensitivity}


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
    categories = sorted({a.category for a in actions if a.category})
    entities = sorted({e for a in actions for e in a.entity_types})
    key_ids = sorted({a.key_id for a in actions if a.key_id})
    levels = [a.sensitivity for a in actions if a.sensitivity in _RANK]
    highest = max(levels, key=lambda s: _RANK[s or ""], default=None)
    headers: list[Header] = [
        (TOPOLOGY, _b(topology.name)),
        (TOPOLOGY_VERSION, _b(str(topology.version))),
        (CATEGORIES, _b(",".join(categories))),
        (SENSITIVITY, _b(highest or "")),
        (ENTITIES, _b(",".join(entities))),
        (KEY_IDS, _b(",".join(key_ids))),
    ]
    return (*headers, *_source(source))


def dead_letter_headers(
    topology: Topology, source: SourceRecord, reason: str
) -> tuple[Header, ...]:
    """Why and from where: the reason code and the source coordinates, nothing else."""
    return (
        (REASON, _b(reason)),
        (TOPOLOGY, _b(topology.name)),
        *_source(source),
    )
