"""Shared fixtures: one offline analyzer for every test that needs spaCy."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from presidio_analyzer import AnalyzerEngine

from streamsec.classification.model import Finding
from streamsec.detection import PresidioDetector, get_analyzer
from streamsec.topology.model import DetectionConfig


@pytest.fixture(scope="session")
def analyzer() -> AnalyzerEngine:
    return get_analyzer()


@pytest.fixture
def detector(analyzer: AnalyzerEngine) -> PresidioDetector:
    return PresidioDetector(DetectionConfig(), analyzer)


@pytest.fixture
def found(detector: PresidioDetector) -> Callable[[str, str], list[tuple[str, str]]]:
    """``found(path, text)`` -> [(entity_type, matched text), ...]."""

    def run(path: str, text: str) -> list[tuple[str, str]]:
        (findings,) = detector.detect([(path, text)])
        return [(f.entity_type, text[f.start : f.end]) for f in findings]

    return run


def spans(text: str, findings: tuple[Finding, ...]) -> list[tuple[str, str]]:
    return [(f.entity_type, text[f.start : f.end]) for f in findings]
