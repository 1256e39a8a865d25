"""The detector interface the protection core depends on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from streamsec.classification.model import Finding

__all__ = ["Detector", "TextItem"]

TextItem = tuple[str, str]
"""``(schema_path, text)``: one string leaf to analyse, with the path as context."""


class Detector(Protocol):
    """Finds sensitive entities in string leaves.

    ``detect`` takes the string leaves of a whole batch of records at once (so NER
    can run batched) and returns, for each item in the same order, the findings in
    that text, sorted by start and not overlapping. It is synchronous and pure with
    respect to I/O; callers run it off the event loop.
    """

    def detect(self, items: Sequence[TextItem]) -> list[tuple[Finding, ...]]: ...
