"""Log hygiene: third-party lines keep no values, floods are rate-limited, ports are free."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from streamsec.worker.logs import RateLimit, ScrubThirdParty
from streamsec.worker.run import free_port

SECRET = "jane.roe@example.com"


def record(name: str, msg: object, *args: object, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


@pytest.mark.parametrize(
    "args",
    [
        (b'{"email": "jane.roe@example.com"}',),
        ({"email": SECRET},),
        (SECRET,),
        ("Jane Roe lives at 1 Main Street, jane.roe@example.com",),
        (["x", SECRET],),
    ],
)
def test_third_party_lines_keep_no_values(args: tuple[object, ...]) -> None:
    line = record("aiokafka.consumer.fetcher", "Adding fetched record %r", *args)
    assert ScrubThirdParty().filter(line)
    assert SECRET not in line.getMessage()
    assert line.getMessage().startswith("Adding fetched record ")
    assert "<" in line.getMessage()


def test_plain_arguments_and_own_lines_are_kept() -> None:
    line = record("aiokafka.conn", "connect to %s node %d", "127.0.0.1:19092", 3)
    ScrubThirdParty().filter(line)
    assert line.getMessage() == "connect to 127.0.0.1:19092 node 3"
    own = record("streamsec.worker.agents", "batch of %d from %s", 5, "raw.topic")
    ScrubThirdParty().filter(own)
    assert own.getMessage() == "batch of 5 from raw.topic"


def test_a_third_party_exception_keeps_its_type_only() -> None:
    try:
        raise ValueError(f"bad value {SECRET}")
    except ValueError:
        import sys

        line = logging.LogRecord("faust.agents", logging.ERROR, __file__, 1, "crash", (),
                                 sys.exc_info())
    ScrubThirdParty().filter(line)
    assert line.exc_info is None and line.getMessage() == "crash (ValueError)"


def test_a_flood_is_rate_limited_and_counted() -> None:
    limit = RateLimit(burst=5, window=60)
    passed = sum(
        limit.filter(record("aiokafka", "Unable to connect to %s", "h", level=logging.ERROR))
        for _ in range(10_000)
    )
    assert passed == 5
    assert limit.filter(record("aiokafka", "another line"))  # other formats are not held
    short = RateLimit(burst=5, window=0.2)
    assert sum(short.filter(record("mode", "tick")) for _ in range(7)) == 5
    time.sleep(0.25)
    line = record("mode", "tick")
    assert short.filter(line)
    assert line.getMessage() == "tick [2 similar lines suppressed]"


def test_a_taken_port_moves_to_the_next_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        chosen = free_port(port)
        assert chosen != port and port < chosen <= port + 32
    assert free_port(0) == 0


def test_any_library_debug_line_is_dropped_and_own_debug_kept() -> None:
    scrub = ScrubThirdParty()
    assert not scrub.filter(record("presidio-analyzer", f"Context: {SECRET}", level=logging.DEBUG))
    assert not scrub.filter(record("some.library", "payload %s", SECRET, level=logging.DEBUG))
    assert scrub.filter(record("some.library", "payload %s", SECRET))
    assert scrub.filter(record("streamsec.pipeline", "a debug line of ours"))
