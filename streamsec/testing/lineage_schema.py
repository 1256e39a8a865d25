"""Validate OpenLineage events against the official JSON Schemas, offline.

The schemas are local files (the OpenLineage core ``OpenLineage.json`` and one
file per facet) whose ``$ref`` s name each other by ``$id`` URL; a
:mod:`referencing` registry maps those URLs to the files, so nothing is fetched.

Directory: ``$STREAMSEC_OPENLINEAGE_SCHEMAS``, else the copy shipped in this package
(``streamsec/testing/openlineage/``, Apache-2.0, see its ``LICENSE``).

    validator = LineageSchemaValidator()
    validator.validate(event)          # raises AssertionError listing every error
    validator.errors(event)            # or just the list

Facets are checked too: each facet under ``run.facets``, ``job.facets`` and the
datasets' ``facets`` / ``inputFacets`` / ``outputFacets`` is validated against
its own schema file, its ``_schemaURL`` must point into that file, and an unknown
facet name is an error unless ``allow_unknown_facets``. ``format`` keywords
(``date-time``, ``uri``, ``uuid``) are enforced without optional packages.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

__all__ = ["FACET_FILES", "LineageSchemaValidator", "find_schema_dir", "format_checker"]

ENV_VAR: Final = "STREAMSEC_OPENLINEAGE_SCHEMAS"
PACKAGED_DIR: Final = Path(__file__).resolve().parent / "openlineage"
CORE_FILE: Final = "OpenLineage.json"
FACET_FILES: Final = {
    "jobType": "JobTypeJobFacet.json",
    "processing_engine": "ProcessingEngineRunFacet.json",
    "errorMessage": "ErrorMessageRunFacet.json",
    "schema": "SchemaDatasetFacet.json",
    "tags": "TagsDatasetFacet.json",
    "columnLineage": "ColumnLineageDatasetFacet.json",
}
_RFC3339: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)
_URI: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*")


def find_schema_dir() -> Path:
    """Where the OpenLineage schema files are; raises FileNotFoundError naming the places."""
    candidates: list[Path] = []
    if os.environ.get(ENV_VAR):
        candidates.append(Path(os.environ[ENV_VAR]))
    candidates.append(PACKAGED_DIR)
    for candidate in candidates:
        if (candidate / CORE_FILE).is_file():
            return candidate
    raise FileNotFoundError(
        f"OpenLineage schemas not found in {', '.join(str(c) for c in candidates)}"
    )


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_URI.fullmatch(value)) and bool(urlsplit(value).scheme)


def _uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def format_checker() -> FormatChecker:
    """A format checker for ``date-time``, ``uri`` and ``uuid`` needing no extra package."""
    checker = FormatChecker(formats=())
    checker.checks("date-time")(_date_time)
    checker.checks("uri")(_uri)
    checker.checks("uuid")(_uuid)
    return checker


class LineageSchemaValidator:
    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else find_schema_dir()
        self._schemas: dict[str, dict[str, Any]] = {}
        registry: Registry[Any] = Registry()
        for path in sorted(self.directory.glob("*.json")):
            contents = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(contents, dict) or "$id" not in contents:
                continue
            self._schemas[path.name] = contents
            registry = registry.with_resource(contents["$id"], Resource.from_contents(contents))
        if CORE_FILE not in self._schemas:
            raise FileNotFoundError(f"{CORE_FILE} is missing from {self.directory}")
        checker = format_checker()
        self._validators = {
            name: Draft202012Validator(schema, registry=registry, format_checker=checker)
            for name, schema in self._schemas.items()
        }
        run_event = {"$ref": self._schemas[CORE_FILE]["$id"] + "#/$defs/RunEvent"}
        self._run_event = Draft202012Validator(run_event, registry=registry, format_checker=checker)

    def errors(self, event: Any, *, allow_unknown_facets: bool = False) -> list[str]:
        """Every schema violation of ``event`` and of each facet in it."""
        core = self._run_event if _get(event, "run") is not None else self._validators[CORE_FILE]
        found = [_describe("event", e) for e in core.iter_errors(event)]
        for where, name, facet in _facets(event):
            file = FACET_FILES.get(name)
            if file is None or file not in self._validators:
                if not allow_unknown_facets:
                    found.append(f"{where}: no schema known for facet {name!r}")
                continue
            schema_id = self._schemas[file]["$id"]
            url = facet.get("_schemaURL") if isinstance(facet, Mapping) else None
            if not (isinstance(url, str) and url.startswith(schema_id)):
                found.append(f"{where}: _schemaURL does not point into {schema_id}")
            found.extend(
                _describe(where, e) for e in self._validators[file].iter_errors({name: facet})
            )
        return found

    def validate(self, event: Any, *, allow_unknown_facets: bool = False) -> None:
        problems = self.errors(event, allow_unknown_facets=allow_unknown_facets)
        if problems:
            raise AssertionError("invalid OpenLineage event:\n  " + "\n  ".join(problems))


def _describe(where: str, error: Any) -> str:
    if error.context:
        error = best_match(error.context)
    path = "/".join(str(p) for p in error.absolute_path)
    message = error.message if len(error.message) <= 300 else error.message[:300] + "..."
    return f"{where}{'/' + path if path else ''}: {message}"


def _facets(event: Any) -> Iterator[tuple[str, str, Any]]:
    if not isinstance(event, Mapping):
        return
    holders: list[tuple[str, Any]] = []
    for key in ("run", "job", "dataset"):
        holders.append((f"{key}.facets", _get(event.get(key), "facets")))
    for side in ("inputs", "outputs"):
        datasets = event.get(side)
        for i, dataset in enumerate(datasets if isinstance(datasets, list) else []):
            for member in ("facets", "inputFacets", "outputFacets"):
                holders.append((f"{side}[{i}].{member}", _get(dataset, member)))
    for where, facets in holders:
        if isinstance(facets, Mapping):
            for name, facet in facets.items():
                yield f"{where}.{name}", str(name), facet


def _get(holder: Any, key: str) -> Any:
    return holder.get(key) if isinstance(holder, Mapping) else None
