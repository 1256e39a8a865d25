"""OpenLineage 2-0-2 RunEvents for a topology, as plain dicts (pure builders).

* Job: namespace ``streamsec``, name = topology name, with a ``jobType`` facet
  (``STREAMING`` / ``STREAMSEC`` / ``TOPOLOGY``).
* Run: ``processing_engine`` facet; on FAIL an ``errorMessage`` facet holding the
  exception type (and streamsec reason code) and the stack frames, never the
  exception message, which could quote a value.
* Datasets follow the OpenLineage naming for Kafka: namespace
  ``kafka://host:port`` (first bootstrap server), name = topic. The input carries
  ``schema`` (observed fields, classification in the description) and ``tags``
  (``classification`` / ``sensitivity`` per field); the output carries ``schema``
  and ``columnLineage`` (DIRECT/IDENTITY for kept fields, DIRECT/TRANSFORMATION
  with ``masking: true`` for encrypted, masked, redacted or hashed ones). The
  dead-letter topic is a second output without facets.
"""

from __future__ import annotations

import traceback
import uuid
from datetime import datetime
from typing import Any, Final, Literal

from streamsec import __version__
from streamsec.errors import StreamsecError
from streamsec.events.cloudevents import rfc3339
from streamsec.events.lineage_shape import ObservedShape
from streamsec.topology.model import Topology

__all__ = [
    "JOB_NAMESPACE",
    "PRODUCER",
    "RunState",
    "column_lineage_facet",
    "kafka_namespace",
    "run_event",
]

RunState = Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]

JOB_NAMESPACE: Final = "streamsec"
PRODUCER: Final = f"urn:streamsec:{__version__}"
_SPEC: Final = "https://openlineage.io/spec"
RUN_EVENT_SCHEMA: Final = f"{_SPEC}/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACET_SCHEMAS: Final = {
    "jobType": f"{_SPEC}/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
    "processing_engine": f"{_SPEC}/facets/1-1-1/ProcessingEngineRunFacet.json"
    "#/$defs/ProcessingEngineRunFacet",
    "errorMessage": f"{_SPEC}/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
    "schema": f"{_SPEC}/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
    "tags": f"{_SPEC}/facets/1-0-0/TagsDatasetFacet.json#/$defs/TagsDatasetFacet",
    "columnLineage": f"{_SPEC}/facets/1-2-0/ColumnLineageDatasetFacet.json"
    "#/$defs/ColumnLineageDatasetFacet",
}
_MASKING: Final = frozenset({"encrypt", "mask", "redact", "hash"})


def kafka_namespace(bootstrap: str) -> str:
    """``kafka://host:port`` of the first bootstrap server (port 9092 when absent)."""
    first = bootstrap.split(",")[0].strip()
    if "://" in first:
        first = first.split("://", 1)[1]
    if not first:
        raise ValueError("empty bootstrap server list")
    if first.startswith("["):  # [ipv6]:port
        host_end = first.find("]")
        has_port = host_end != -1 and first[host_end + 1 : host_end + 2] == ":"
    else:
        has_port = ":" in first
    return f"kafka://{first if has_port else first + ':9092'}"


def _facet(name: str, body: dict[str, Any], producer: str) -> dict[str, Any]:
    return {"_producer": producer, "_schemaURL": FACET_SCHEMAS[name], **body}


def _transformations(shape: ObservedShape, path: str) -> list[dict[str, Any]]:
    state = shape.classification(path)
    actions = sorted(state.actions - {"drop"}) or ["keep"]
    out: list[dict[str, Any]] = []
    for action in actions:
        if action in _MASKING:
            out.append(
                {
                    "type": "DIRECT",
                    "subtype": "TRANSFORMATION",
                    "description": state.action_text(action),
                    "masking": True,
                }
            )
        else:
            out.append({"type": "DIRECT", "subtype": "IDENTITY", "masking": False})
    return out


def column_lineage_facet(
    shape: ObservedShape, *, namespace: str, input_topic: str, producer: str = PRODUCER
) -> dict[str, Any]:
    """``columnLineage``: each output field -> its input field(s) and how it was changed."""
    fields: dict[str, Any] = {}
    for output, sources in shape.output_paths().items():
        transformations = _transformations(shape, output)
        fields[output] = {
            "inputFields": [
                {
                    "namespace": namespace,
                    "name": input_topic,
                    "field": source,
                    "transformations": transformations,
                }
                for source in sources
            ]
        }
    return _facet("columnLineage", {"fields": fields}, producer)


def _input_facets(shape: ObservedShape, producer: str) -> dict[str, Any]:
    fields: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    for path, types in shape.input_paths().items():
        entry: dict[str, Any] = {"name": path}
        if types:
            entry["type"] = "|".join(sorted(types))
        state = shape.classification(path)
        if state.classified:
            entry["description"] = state.describe()
        fields.append(entry)
        for key, values in (
            ("classification", state.categories),
            ("sensitivity", state.sensitivities),
        ):
            for value in sorted(values):
                tags.append({"key": key, "value": value, "field": path, "source": "STREAMSEC"})
    facets = {"schema": _facet("schema", {"fields": fields}, producer)}
    if tags:
        facets["tags"] = _facet("tags", {"tags": tags}, producer)
    return facets


def _output_schema(shape: ObservedShape, producer: str) -> dict[str, Any]:
    inputs = shape.input_paths()
    fields: list[dict[str, Any]] = []
    for output, sources in shape.output_paths().items():
        state = shape.classification(output)
        entry: dict[str, Any] = {"name": output}
        masked = sorted(state.actions & _MASKING)
        if masked:
            entry["type"] = "string"
            what = ", ".join(state.action_text(a) for a in masked)
            entry["description"] = f"{what} of {state.describe()}" if state.classified else what
        else:
            types = set().union(*(inputs.get(s, set()) for s in sources))
            if types:
                entry["type"] = "|".join(sorted(types))
        fields.append(entry)
    return _facet("schema", {"fields": fields}, producer)


def _error_facet(error: BaseException, producer: str) -> dict[str, Any]:
    message = type(error).__name__
    if isinstance(error, StreamsecError):
        message += f" (reason={error.reason})"
    frames = traceback.extract_tb(error.__traceback__)
    stack = "".join(f'File "{f.filename}", line {f.lineno}, in {f.name}\n' for f in frames)
    body: dict[str, Any] = {"message": message, "programmingLanguage": "PYTHON"}
    if stack:
        body["stackTrace"] = stack
    return _facet("errorMessage", body, producer)


def run_event(
    state: RunState,
    topology: Topology,
    shape: ObservedShape,
    *,
    run_id: str,
    namespace: str,
    time: datetime | None = None,
    error: BaseException | None = None,
    producer: str = PRODUCER,
) -> dict[str, Any]:
    """One OpenLineage RunEvent describing the topology's run and its current shape."""
    uuid.UUID(run_id)  # raises ValueError when not a UUID
    run_facets: dict[str, Any] = {
        "processing_engine": _facet(
            "processing_engine",
            {"version": __version__, "name": "streamsec", "openlineageAdapterVersion": __version__},
            producer,
        )
    }
    if error is not None:
        run_facets["errorMessage"] = _error_facet(error, producer)
    job_type = {"processingType": "STREAMING", "integration": "STREAMSEC", "jobType": "TOPOLOGY"}
    output_facets = {
        "schema": _output_schema(shape, producer),
        "columnLineage": column_lineage_facet(
            shape, namespace=namespace, input_topic=topology.input, producer=producer
        ),
    }
    return {
        "eventType": state,
        "eventTime": rfc3339(time),
        "producer": producer,
        "schemaURL": RUN_EVENT_SCHEMA,
        "run": {"runId": run_id, "facets": run_facets},
        "job": {
            "namespace": JOB_NAMESPACE,
            "name": topology.name,
            "facets": {"jobType": _facet("jobType", job_type, producer)},
        },
        "inputs": [
            {
                "namespace": namespace,
                "name": topology.input,
                "facets": _input_facets(shape, producer),
            }
        ],
        "outputs": [
            {"namespace": namespace, "name": topology.output, "facets": output_facets},
            {"namespace": namespace, "name": topology.dead_letter_topic},
        ],
    }
