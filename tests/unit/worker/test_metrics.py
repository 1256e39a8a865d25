from __future__ import annotations

from prometheus_client import generate_latest

from streamsec.pipeline.model import Outcome, SourceRecord
from streamsec.worker.metrics import WorkerMetrics, safe_label


def test_safe_label_replaces_anything_that_is_not_a_code() -> None:
    assert safe_label("EMAIL_ADDRESS") == "EMAIL_ADDRESS"
    assert safe_label("too_large") == "too_large"
    assert safe_label("jane@example.com") == "other"
    assert safe_label("Jane Roe") == "other"
    assert safe_label("x" * 65) == "other"


def test_delivered_counts_by_fixed_labels_only() -> None:
    metrics = WorkerMetrics()
    src = SourceRecord("raw", 0, 1, b"k", b"{}", timestamp=100.0)
    outcomes = [
        Outcome(src, (), None, ("EMAIL_ADDRESS", "PERSON", "EMAIL_ADDRESS"), ("encrypt", "mask")),
        Outcome(src, (), "decode"),
        Outcome(src, (), "jane@example.com"),
    ]
    metrics.batch_in("t", 3)
    metrics.delivered("t", outcomes, 0.02, now=100.5)
    assert metrics.records_in.labels("t")._value.get() == 3
    assert metrics.records_out.labels("t")._value.get() == 1
    assert metrics.detections.labels("t", "EMAIL_ADDRESS")._value.get() == 2
    assert metrics.dead_lettered.labels("t", "decode")._value.get() == 1
    assert metrics.dead_lettered.labels("t", "other")._value.get() == 1
    text = generate_latest(metrics.registry).decode()
    assert "jane@example.com" not in text
    assert 'streamsec_processing_latency_seconds_count{topology="t"} 3.0' in text


def test_port_zero_disables_the_endpoint() -> None:
    assert WorkerMetrics().serve(0) is None
