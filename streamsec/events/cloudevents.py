"""CloudEvents 1.0 envelopes in structured-mode JSON, as plain dicts.

Plain dicts keep the builders pure and dependency-free; :func:`cloudevent_problems`
checks an event against the CloudEvents 1.0 rules that matter here (required
attributes, attribute naming, value types, ``source`` as a URI-reference,
``time`` as an RFC 3339 timestamp).

Audit-chain extension attributes (all within the 1.0 naming rule ``[a-z0-9]{1,20}``):
``chain`` (String), ``seq`` (Integer), ``prev``, ``digest`` and ``sig`` (String).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final
from urllib.parse import quote

__all__ = [
    "CONTENT_TYPE",
    "INT32_MAX",
    "REQUIRED_ATTRIBUTES",
    "SPEC_VERSION",
    "EventType",
    "cloudevent_problems",
    "new_event",
    "rfc3339",
    "worker_source",
]

SPEC_VERSION: Final = "1.0"
CONTENT_TYPE: Final = "application/json"
REQUIRED_ATTRIBUTES: Final = ("specversion", "id", "source", "type")
INT32_MAX: Final = 2**31 - 1
_INT32_MIN: Final = -(2**31)

_ATTRIBUTE_NAME = re.compile(r"[a-z0-9]{1,20}")
_URI_REFERENCE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_DATA_MEMBERS: Final = frozenset({"data", "data_base64"})


class EventType(StrEnum):
    RECORD_PROTECTED = "io.streamsec.record.protected"
    RECORD_DEAD_LETTERED = "io.streamsec.record.dead_lettered"
    RECORDS_BATCH = "io.streamsec.records.batch"
    KEY_ROTATED = "io.streamsec.key.rotated"
    KEY_OPERATION = "io.streamsec.key.operation"
    SUBJECT_ERASED = "io.streamsec.subject.erased"
    FIELD_DECRYPTED = "io.streamsec.field.decrypted"
    AUDIT_CHECKPOINT = "io.streamsec.audit.checkpoint"
    AUDIT_DIGEST = "io.streamsec.audit.digest"
    AUDIT_ABANDONED = "io.streamsec.audit.abandoned"


def rfc3339(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as an RFC 3339 UTC timestamp with milliseconds."""
    moment = datetime.now(UTC) if moment is None else moment
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def worker_source(worker_id: str) -> str:
    """The CloudEvents ``source`` of events made by one worker (a URI-reference)."""
    return "/streamsec/" + quote(worker_id, safe="")


def new_event(
    event_type: EventType,
    *,
    source: str,
    data: Mapping[str, Any],
    subject: str | None = None,
    time: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A CloudEvents 1.0 structured-mode event with a JSON ``data`` member."""
    event: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": event_id if event_id is not None else str(uuid.uuid4()),
        "source": source,
        "type": str(event_type),
        "time": rfc3339(time),
        "datacontenttype": CONTENT_TYPE,
    }
    if subject:
        event["subject"] = subject
    event["data"] = dict(data)
    return event


def _value_problem(name: str, value: Any) -> str | None:
    if isinstance(value, bool | str):
        return None
    if isinstance(value, int):
        if _INT32_MIN <= value <= INT32_MAX:
            return None
        return f"attribute {name!r} is outside the CloudEvents Integer range"
    return f"attribute {name!r} is not a String, Integer or Boolean"


def cloudevent_problems(event: Any) -> list[str]:
    """What makes ``event`` an invalid CloudEvents 1.0 JSON event (empty: valid)."""
    if not isinstance(event, Mapping):
        return ["event is not a JSON object"]
    problems: list[str] = []
    for name in REQUIRED_ATTRIBUTES:
        value = event.get(name)
        if not isinstance(value, str) or not value:
            problems.append(f"required attribute {name!r} is missing or empty")
    if event.get("specversion") not in (None, SPEC_VERSION):
        problems.append("specversion is not '1.0'")
    source = event.get("source")
    if isinstance(source, str) and source and not _URI_REFERENCE.fullmatch(source):
        problems.append("source is not a URI-reference")
    for name, value in event.items():
        if name in _DATA_MEMBERS:
            continue
        if not _ATTRIBUTE_NAME.fullmatch(name):
            problems.append(f"attribute name {name!r} is not [a-z0-9]{{1,20}}")
        problem = _value_problem(name, value)
        if problem:
            problems.append(problem)
    time = event.get("time")
    if time is not None and not (isinstance(time, str) and _RFC3339.fullmatch(time)):
        problems.append("time is not an RFC 3339 timestamp")
    if "subject" in event and not (isinstance(event["subject"], str) and event["subject"]):
        problems.append("subject is empty")
    if "data" in event and event.get("datacontenttype", CONTENT_TYPE) != CONTENT_TYPE:
        problems.append("data is JSON but datacontenttype is not application/json")
    if "data" in event and "data_base64" in event:
        problems.append("data and data_base64 are both present")
    return problems
