"""PresidioDetector end to end with the real spaCy model (one shared analyzer)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import pytest
from presidio_analyzer import AnalyzerEngine

from streamsec.classification.model import Finding
from streamsec.detection import PresidioDetector, build_detector
from streamsec.detection.detector import FIELD_NAME_RECOGNIZER
from streamsec.errors import DetectionError
from streamsec.topology.model import DetectionConfig, Topology
from tests.unit.detection.conftest import spans

pytestmark = pytest.mark.slow

Found = Callable[[str, str], list[tuple[str, str]]]


@pytest.mark.parametrize(
    ("path", "value", "entity"),
    [
        ("holder", "Jane Roe", "PERSON"),
        ("card.holder", "jane roe", "PERSON"),
        ("customer.first_name", "Zbigniew", "PERSON"),
        ("full-name", "Ana Dias", "PERSON"),
        ("zip", "62704", "ZIP_CODE"),
        ("address.postalCode", "SW1A 1AA", "ZIP_CODE"),
        ("dob", "1985-03-02", "DATE_OF_BIRTH"),
        ("patient.birth_date", "02/03/1985", "DATE_OF_BIRTH"),
        ("address.street", "Main", "STREET_ADDRESS"),
        ("city", "Springfield", "LOCATION"),
        ("phone", "555 0100 222", "PHONE_NUMBER"),
        ("ssn", "536 22 1234", "US_SSN"),
        ("iban", "GB82 WEST 1234 5698 7654 32", "IBAN_CODE"),
        ("card.number", "4111 1111 1111 1111", "CREDIT_CARD"),
        ("user.password", "correct horse", "PASSWORD"),
    ],
)
def test_field_name_makes_a_plausible_value_its_entity(
    found: Found, path: str, value: str, entity: str
) -> None:
    assert found(path, value) == [(entity, value)]


def test_field_name_finding_names_its_recognizer(detector: PresidioDetector) -> None:
    ((finding,),) = detector.detect([("holder", "  Jane Roe ")])
    assert (finding.start, finding.end, finding.recognizer) == (2, 10, FIELD_NAME_RECOGNIZER)


def test_implausible_value_under_a_named_field_is_left_alone(found: Found) -> None:
    assert found("holder", "n/a") == []
    assert found("phone", "unknown") == []


def test_free_text_entities_have_exact_spans(detector: PresidioDetector) -> None:
    text = (
        "Hi, this is Jane Roe. My card 4111 1111 1111 1111 was charged twice for order "
        "ORD-123456. Please call me at (555) 123-4567 or write to jane.roe@example.com. "
        "My SSN is 536-22-1234 and I live at 14 Crown Street, London."
    )
    (findings,) = detector.detect([("ticket.body", text)])
    got = spans(text, findings)
    for expected in [
        ("PERSON", "Jane Roe"),
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("PHONE_NUMBER", "(555) 123-4567"),
        ("EMAIL_ADDRESS", "jane.roe@example.com"),
        ("US_SSN", "536-22-1234"),
    ]:
        assert expected in got
    assert any(e == "STREET_ADDRESS" and v.startswith("14 Crown Street") for e, v in got)
    assert not any("ORD-123456" in v or "charged" in v for _, v in got)
    starts = [f.start for f in findings]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in pairwise(findings))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("customer_id", "C-10023"),
        ("order", "ord_8f3a"),
        ("event_id", "3f2a9b1c-0d4e-4a5b-8c6d-7e8f9a0b1c2d"),
        ("status", "active"),
        ("shipment.state", "shipped"),
        ("tier", "gold"),
        ("currency", "EUR"),
        ("price.currency", "USD"),
        ("card.brand", "visa"),
        ("amount", "12.50"),
        ("created_at", "2024-03-01T10:15:00Z"),
        ("ts", "2024-03-01"),
        ("updated", "2024-03-01 10:15:00"),
        ("risk_score", "0.734"),
        ("version", "2.4.1"),
        ("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        ("locale", "en-GB"),
        ("country_code", "US"),
        ("subject", "Order ORD-004804"),
        ("k1", "A1"),
        ("meta.x", "retry"),
    ],
)
def test_benign_values_give_no_finding(found: Found, path: str, value: str) -> None:
    assert found(path, value) == []


@pytest.mark.parametrize(
    ("path", "value", "entity"),
    [
        ("k1", "jane.roe@example.com", "EMAIL_ADDRESS"),
        ("v", "536-22-1234", "US_SSN"),
        ("meta.x", "4111111111111111", "CREDIT_CARD"),
        ("k1", "GB82 WEST 1234 5698 7654 32", "IBAN_CODE"),
        ("k1", "Jane Roe", "PERSON"),
    ],
)
def test_uninformative_field_names_get_content_detection(
    found: Found, path: str, value: str, entity: str
) -> None:
    assert found(path, value) == [(entity, value)]


def test_cached_benign_path_still_catches_a_new_ssn(detector: PresidioDetector) -> None:
    items = [("status", "shipped"), ("status", "pending")] * 3
    assert all(f == () for f in detector.detect(items))
    assert detector.memo.is_benign("status", "shipped")
    (ssn,) = detector.detect([("status", "536-22-1234")])
    assert [f.entity_type for f in ssn] == ["US_SSN"]
    (again,) = detector.detect([("status", "shipped")])
    assert again == ()


def test_batch_keeps_item_order(detector: PresidioDetector) -> None:
    items = [("notes", "Please ask Jane Roe to call back."), ("status", "ok"), ("email", "a@b.co")]
    results = detector.detect(items)
    assert [[f.entity_type for f in r] for r in results] == [["PERSON"], [], ["EMAIL_ADDRESS"]]
    assert detector.detect([]) == []


def test_config_entities_allow_list(analyzer: AnalyzerEngine) -> None:
    detector = PresidioDetector(DetectionConfig(entities=["EMAIL_ADDRESS"]), analyzer)
    text = "Jane Roe, jane@example.com, 536-22-1234"
    (findings,) = detector.detect([("notes", text)])
    assert spans(text, findings) == [("EMAIL_ADDRESS", "jane@example.com")]
    assert detector.detect([("holder", "Jane Roe")]) == [()]


def test_config_ignore_entities(analyzer: AnalyzerEngine) -> None:
    detector = PresidioDetector(DetectionConfig(ignore_entities=["PERSON"]), analyzer)
    text = "Jane Roe wrote from jane@example.com"
    assert detector.detect([("holder", "Jane Roe")]) == [()]
    (findings,) = detector.detect([("notes", text)])
    assert [f.entity_type for f in findings] == ["EMAIL_ADDRESS"]


def test_config_score_threshold(analyzer: AnalyzerEngine) -> None:
    strict = PresidioDetector(DetectionConfig(score_threshold=0.95), analyzer)
    text = "Jane Roe wrote from jane@example.com"
    (findings,) = strict.detect([("notes", text)])
    assert [f.entity_type for f in findings] == ["EMAIL_ADDRESS"]
    assert all(f.score >= 0.95 for f in findings)


def test_config_ignore_and_free_text_paths(analyzer: AnalyzerEngine) -> None:
    config = DetectionConfig(ignore_paths=["audit"], free_text=["payload.blob"])
    detector = PresidioDetector(config, analyzer)
    results = detector.detect(
        [("audit.email", "jane@example.com"), ("payload.blob", "Ask Jane Roe")]
    )
    assert results[0] == ()
    assert [f.entity_type for f in results[1]] == ["PERSON"]


def test_build_detector_uses_the_topology_config(analyzer: AnalyzerEngine) -> None:
    config = DetectionConfig(ignore_entities=["PERSON"])
    topology = Topology(name="t", input="in", output="out", detection=config)
    detector = build_detector(topology, analyzer)
    assert detector.detect([("holder", "Jane Roe"), ("email", "jane@example.com")]) == [
        (),
        (Finding("EMAIL_ADDRESS", 0, 16, 0.85, FIELD_NAME_RECOGNIZER),),
    ]


def test_failures_become_detection_errors_without_the_value(
    analyzer: AnalyzerEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    detector = PresidioDetector(analyzer=analyzer)
    secret = "Jane Roe 536-22-1234"

    def boom(*args: object, **kwargs: object) -> None:
        raise ValueError(f"Did not find word {secret!r}")

    monkeypatch.setattr("streamsec.detection.engine.BatchEngine.run", boom)
    with pytest.raises(DetectionError) as info:
        detector.detect([("notes", secret)])
    assert secret not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_warm_up_builds_the_engine_and_leaves_no_trace_in_the_memo(
    detector: PresidioDetector,
) -> None:
    assert detector._engine is None
    detector.warm_up()
    assert detector._engine is not None
    assert len(detector.memo) == 0
    from streamsec.detection.recognizers import _prefilter

    assert _prefilter.stats().in_database > 0  # a worker joins with the prefilter built


def test_warm_up_says_so_when_the_prefilter_is_not_built_in_time(
    detector: PresidioDetector, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from streamsec.detection.recognizers import _prefilter

    waited: list[float] = []
    monkeypatch.setattr(_prefilter, "ready", lambda timeout: waited.append(timeout) or False)
    with caplog.at_level("WARNING", logger="streamsec.detection.detector"):
        detector.warm_up()
    assert waited and waited[0] > 0
    assert "prefilter is not built yet" in caplog.text
