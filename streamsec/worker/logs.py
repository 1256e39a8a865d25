"""The worker's log hygiene: no values from third-party lines, and no floods.

* **Third-party lines never carry values.** aiokafka, Faust and mode log whole
  messages (keys and values) at DEBUG, Faust's stream waits dump the events they
  wait on, and Presidio logs the context words around each match (the e-mail
  address included) at DEBUG. So every logger outside ``streamsec`` is held at
  INFO whatever the worker's level (its DEBUG lines are dropped at the handler
  too, in case a library sets its own level), and every line it emits keeps only
  its format string and its plain arguments (numbers, short identifier-like strings
  such as a host or a topic name): any other argument (bytes, records, containers,
  free text) is replaced by its type name, an exception by its type. streamsec's
  own lines never carry values by construction.
* **Floods are rate-limited.** A line of the same logger, level and format is let
  through :data:`BURST` times per :data:`WINDOW` seconds; the rest are counted and
  the next line let through says how many were suppressed. A broker outage then
  writes a handful of lines per window instead of tens of thousands.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Final

import regex

__all__ = ["BURST", "THIRD_PARTY", "WINDOW", "RateLimit", "ScrubThirdParty", "install"]

THIRD_PARTY: Final = (
    "aiokafka", "kafka", "faust", "mode", "venusian", "aiohttp", "presidio-analyzer",
    "presidio-anonymizer", "presidio_analyzer", "presidio_anonymizer", "spacy", "tldextract",
)
"""Loggers set to INFO explicitly; any other logger outside ``streamsec`` is held there
by the root level and the handler filter."""
OWN: Final = "streamsec"
BURST: Final = 5
WINDOW: Final = 10.0
_PLAIN: Final = regex.compile(r"[\w.:/\-\[\]]{0,100}")


def _third_party(name: str) -> bool:
    return not (name == OWN or name.startswith(OWN + "."))


class _Hidden:
    """Stands for a hidden argument: ``<type>`` under both %s and %r."""

    __slots__ = ("text",)

    def __init__(self, arg: Any) -> None:
        self.text = f"<{type(arg).__name__}>"

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def _safe(arg: Any) -> Any:
    if arg is None or isinstance(arg, bool | int | float):
        return arg
    if isinstance(arg, str) and _PLAIN.fullmatch(arg) and "@" not in arg:
        return arg
    return _Hidden(arg)


class ScrubThirdParty(logging.Filter):
    """Keeps a third-party line's format and plain arguments only (see the module)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _third_party(record.name):
            return True
        if record.levelno < logging.INFO:
            return False
        if not isinstance(record.msg, str):
            record.msg = f"<{type(record.msg).__name__}>"
        if isinstance(record.args, dict):
            record.args = {k: _safe(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_safe(a) for a in record.args)
        if record.exc_info and record.exc_info[1] is not None:
            # a library's exception text can quote data: keep the type only
            record.msg = f"{record.msg} ({type(record.exc_info[1]).__name__})"
            record.exc_info = None
            record.exc_text = None
        return True


class RateLimit(logging.Filter):
    """At most ``burst`` lines per (logger, level, format) per ``window`` seconds."""

    def __init__(self, burst: int = BURST, window: float = WINDOW) -> None:
        super().__init__()
        self.burst = burst
        self.window = window
        self._seen: dict[tuple[str, int, str], list[float]] = {}  # [window start, count, dropped]
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = time.monotonic()
        with self._lock:
            slot = self._seen.get(key)
            if slot is None or now - slot[0] >= self.window:
                dropped = int(slot[2]) if slot else 0
                self._seen[key] = [now, 1, 0]
                if len(self._seen) > 4096:  # forget old keys
                    self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.window}
                if dropped:
                    record.msg = f"{record.msg} [{dropped} similar lines suppressed]"
                return True
            slot[1] += 1
            if slot[1] <= self.burst:
                return True
            slot[2] += 1
            return False


def install(level: int | str = logging.INFO) -> None:
    """Hold every logger outside ``streamsec`` at INFO or above (``streamsec`` keeps the
    configured level) and put both filters on every root handler (call after logging
    is configured)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level)
    configured = root.getEffectiveLevel()
    own = logging.getLogger(OWN)
    if own.level == logging.NOTSET:
        own.setLevel(configured)
    root.setLevel(max(logging.INFO, configured))
    for name in THIRD_PARTY:
        logger = logging.getLogger(name)
        logger.setLevel(max(logging.INFO, configured, logger.level))
    for handler in root.handlers:
        if not any(isinstance(f, ScrubThirdParty) for f in handler.filters):
            handler.addFilter(ScrubThirdParty())
            handler.addFilter(RateLimit())
