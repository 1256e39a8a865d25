from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from streamsec.events.cloudevents import (
    REQUIRED_ATTRIBUTES,
    EventType,
    cloudevent_problems,
    new_event,
    rfc3339,
    worker_source,
)


def _event() -> dict[str, Any]:
    return new_event(EventType.KEY_ROTATED, source="/streamsec/w", data={"a": 1}, subject="k1")


def test_new_event_has_every_required_attribute() -> None:
    event = _event()
    assert cloudevent_problems(event) == []
    for name in REQUIRED_ATTRIBUTES:
        assert isinstance(event[name], str)
        assert event[name]
    assert event["specversion"] == "1.0"
    assert event["datacontenttype"] == "application/json"


@pytest.mark.parametrize("name", REQUIRED_ATTRIBUTES)
def test_missing_required_attribute_is_reported(name: str) -> None:
    event = _event()
    del event[name]
    assert any(repr(name) in p for p in cloudevent_problems(event))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"specversion": "0.3"}, "specversion"),
        ({"source": "has space"}, "URI-reference"),
        ({"Bad_Name": "x"}, "attribute name"),
        ({"averyveryverylongname1": "x"}, "attribute name"),
        ({"seq": 2**31}, "Integer range"),
        ({"seq": 1.5}, "not a String"),
        ({"time": "yesterday"}, "RFC 3339"),
        ({"subject": ""}, "subject"),
        ({"datacontenttype": "text/plain"}, "datacontenttype"),
        ({"data_base64": "AA=="}, "both present"),
    ],
)
def test_invalid_events_are_reported(change: dict[str, Any], expected: str) -> None:
    event = {**_event(), **change}
    problems = cloudevent_problems(event)
    assert any(expected in p for p in problems), problems


def test_not_an_object() -> None:
    assert cloudevent_problems([1]) == ["event is not a JSON object"]


def test_rfc3339_is_utc_with_milliseconds() -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
    assert rfc3339(moment) == "2025-01-02T01:04:05.678Z"
    with pytest.raises(ValueError, match="timezone"):
        rfc3339(datetime(2025, 1, 1))


def test_worker_source_is_a_uri_reference_for_any_worker_id() -> None:
    event = {**_event(), "source": worker_source("host name/with:odd#chars")}
    assert cloudevent_problems(event) == []
