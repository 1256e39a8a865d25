"""The analyzer builds and runs with the network blocked (no suffix-list download)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import tldextract.tldextract as tld

from streamsec.detection.analyzer import build_analyzer
from streamsec.detection.detector import PresidioDetector

pytestmark = pytest.mark.slow


def test_build_and_analyze_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []

    def blocked(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args[1:2])
        raise OSError("network is blocked in this test")

    monkeypatch.setattr(socket.socket, "connect", blocked)
    monkeypatch.setattr(socket.socket, "connect_ex", blocked)
    monkeypatch.setattr(socket, "getaddrinfo", blocked)
    # Start from tldextract's stock extractor, which would fetch the suffix list.
    monkeypatch.setattr(tld, "TLD_EXTRACTOR", tld.TLDExtract())

    analyzer = build_analyzer()
    text = "Write to jane.roe@example.co.uk or see https://shop.example.com/orders/7"
    results = analyzer.analyze(text, language="en")
    (findings,) = PresidioDetector(analyzer=analyzer).detect([("notes", text)])

    assert {r.entity_type for r in results} >= {"EMAIL_ADDRESS", "URL"}
    assert [(f.entity_type, text[f.start : f.end]) for f in findings] == [
        ("EMAIL_ADDRESS", "jane.roe@example.co.uk"),
        ("URL", "https://shop.example.com/orders/7"),
    ]
    assert tld.extract("a.b.example.co.uk").suffix == "co.uk"
    assert attempts == []
