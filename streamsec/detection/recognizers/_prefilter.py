r"""One Hyperscan pass that tells which pattern regexes may match a text.

Every pattern :func:`~._base.compile_patterns` compiles is registered here
(:func:`pattern_id`). :func:`build` (run by the batch engine once its
recognizers are compiled) puts all registered patterns into ONE Hyperscan
database in prefilter mode (``HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH`` plus the
pattern's ``CASELESS`` / ``DOTALL`` / ``MULTILINE``). Per text, :func:`scan` runs
that database once (cached per thread for the last text) and returns the ids it
holds and the ids it reported. :func:`~._base.match_patterns` skips a pattern
the database holds but did not report, and the engine skips a recognizer that
does nothing but match patterns when none of them was reported. Patterns not in
the database (refused below, or registered after the last :func:`build`) always
run. The patterns that do run are the ``regex`` module's, with their gates
(:mod:`._gate`), exactly as without this module: only skips are added.

Why a skip loses nothing:

* Hyperscan's prefilter mode guarantees a superset: whenever the expression,
  read with PCRE semantics, matches somewhere in the text, the database reports
  it (it may report more).
* The expression is :func:`._pcre.translate` of the pattern, and a skip is
  decided only for texts made of printable ASCII (0x20-0x7e), ``\t``, ``\n`` and
  ``\r`` that do not end in ``\n``; any other text runs every pattern
  (:func:`scan` returns None). On such a text, ``regex``'s reading of each
  construct the translation admits matches no more than PCRE's reading of the
  translation:

  - ``\w``, ``\d``, ``\s`` and so ``\b``/``\B``: on ASCII characters ``regex``'s
    Unicode classes are ``[A-Za-z0-9_]``, ``[0-9]`` and (of the characters
    allowed) ``[ \t\n\r]``, as PCRE's. ``\v``, ``\f`` and ``\x1c``-``\x1f``, on
    which they disagree, never occur in a decided text.
  - Case folding: an ASCII letter folds to its ASCII pair in both. A non-ASCII
    character of the pattern is admitted only if ``regex`` does not let it match
    any ASCII character under IGNORECASE (the Kelvin sign, which matches ``k``,
    and the long s are refused); it then matches nothing in a decided text and
    becomes the byte ``\x80`` (which no decided text holds) as one atom, so
    ``é?`` keeps its shape. FULLCASE and V1 (full case folding, ``ß`` = ``ss``)
    are refused.
  - ``.`` excludes only ``\n`` without DOTALL in both (PCRE's newline is LF;
    ``\r`` is an ordinary character in both).
  - ``^`` / ``$`` / ``\A`` / ``\Z``: the same in both, with and without
    MULTILINE, except that Python's ``(?m)^`` also matches after a final ``\n``
    (so texts ending in ``\n`` are not decided) and PCRE's ``\Z`` also before a
    final ``\n`` (a superset).
  - ``\p{L}``, ``\p{Lu}``, ``\p{Ll}``, ``\p{N}``, ``\p{Nd}``, ``\p{M}`` become
    their ASCII members (``A-Za-z``, ``A-Z``, ``a-z``, ``0-9``, ``0-9``, none).
    Under IGNORECASE ``regex`` lets a cased property match either case, and
    Hyperscan closes an explicit class over case: the same set, negated or not.
  - ``\uXXXX`` and ``\xHH`` are the character they name (non-ASCII as above).

  - ``\1`` to ``\9`` outside a class are back-references in both (Hyperscan
    approximates them in prefilter mode, a superset).

  Refused (the pattern always runs): any other escape (``regex``'s ``\m``,
  ``\N{..}``, ``\X``, ``\G``, ``\P{..}``, octal or two-digit references, ``\v``
  which PCRE widens to a class, ...); a ``{`` outside a class that is not a PCRE quantifier
  ``{n}`` / ``{n,}`` / ``{n,m}`` (``regex``'s ``{,n}`` and fuzzy ``{e<=1}`` would
  be literals in PCRE); ``[:`` / ``[=`` / ``[.`` in a class (POSIX classes in
  PCRE, literals in ``regex`` V0); any ``(?`` group but ``(?:``, look-arounds,
  atomic ``(?>``, named ``(?P<n>`` / ``(?<n>``, comments and ``i``/``m``/``s``
  flags (a global flag only at the start: ``regex`` applies one anywhere to the
  whole pattern); ``regex`` flags other than IGNORECASE, DOTALL, MULTILINE,
  UNICODE, ASCII (VERBOSE, V1, FULLCASE, WORD, ...). Possessive quantifiers and
  atomic groups mean the same in both; look-arounds and anything else Hyperscan
  approximates in prefilter mode only widen what it reports.
* A translation Hyperscan refuses (for instance one that can match the empty
  string) always runs: it is listed by :func:`stats` and logged at debug level
  (its recognizer and pattern name, never a text). A scan that fails runs every
  pattern for that text.

``tests/unit/detection/test_prefilter.py`` checks, over the corpora and hostile
strings of ``test_gates.py``, that no ``regex`` match is ever skipped and that
every recognizer finds the same with and without the prefilter.

Thread safety: a database is immutable once built and replaced as a whole under
a lock; Hyperscan's scratch space is per thread (one :class:`hyperscan.Scratch`
per thread and database), as is the cache of the last scan.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final, cast

import hyperscan

from streamsec.detection.recognizers import _hscompile
from streamsec.detection.recognizers._hscompile import compile_serialized
from streamsec.detection.recognizers._pcre import Refused, translate

__all__ = ["Stats", "build", "disabled", "pattern_id", "ready", "scan", "stats"]

_log = logging.getLogger(__name__)

_DECIDED: Final = re.compile(r"[\t\n\r\x20-\x7e]*")

MAX_SOURCE_CHARS: Final = 4_000
"""A longer pattern is left out of the database and always runs (behind its gate):
Presidio's four URL patterns (~6,300 characters each, a 675-TLD alternation) took
2.5 of the 3.0 s that compiling all 107 patterns one by one took, and the whole
database 5.6-6.1 s against 3.1-3.5 s without them."""
_COMPILE_TIMEOUT_S: Final = 600


@dataclass(frozen=True, slots=True)
class _Database:
    db: hyperscan.Database | None
    covered: frozenset[int]
    registered: int
    size: int


class _Registry:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: dict[tuple[str, int], int] = {}
        self.entries: list[tuple[str, int, str]] = []
        self.refused: dict[int, str] = {}
        self.database: _Database | None = None
        self.local = threading.local()
        self.enabled = True
        self.building: threading.Thread | None = None


_REGISTRY: Final = _Registry()


def pattern_id(source: str, flags: int, name: str = "") -> int:
    """The id of a pattern (the same for the same regex and flags)."""
    key = (source, int(flags))
    found = _REGISTRY.ids.get(key)
    if found is not None:
        return found
    with _REGISTRY.lock:
        found = _REGISTRY.ids.get(key)
        if found is None:
            found = len(_REGISTRY.entries)
            _REGISTRY.entries.append((source, int(flags), name))
            _REGISTRY.ids[key] = found
        return found


def build(*, wait: bool = True) -> None:
    """Compile every registered pattern into one database (a no-op when nothing was
    registered since the last build). ``wait=False`` (the engine's start-up): compile in
    the background, in a daemon thread that waits for the compiling child process, and
    return at once; until the database is installed every pattern runs (:func:`scan`
    returns None), so nothing is lost while it builds, only time. A worker then joins
    its group without waiting the seconds the compiler takes."""
    reg = _REGISTRY
    with reg.lock:
        current = reg.database
        if current is not None and current.registered == len(reg.entries):
            return
        pending = reg.building
        if pending is None or not pending.is_alive():
            pending = reg.building = threading.Thread(
                target=_build_now, name="ssec-prefilter-build", daemon=True
            )
            pending.start()
    if wait:
        pending.join()
        with reg.lock:
            current = reg.database
            stale = current is None or current.registered != len(reg.entries)
        if stale:  # patterns registered while it built
            _build_now()


def ready(timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for a build in progress; True when a database is
    installed (a worker waits here before it joins its group, so its first batches
    are as fast as the rest)."""
    pending = _REGISTRY.building
    if pending is not None:
        pending.join(timeout)
    return _REGISTRY.database is not None


def _build_now() -> None:
    reg = _REGISTRY
    with reg.lock:
        registered = len(reg.entries)
        expressions: list[bytes] = []
        ids: list[int] = []
        hs_flags: list[int] = []
        for pid, (source, flags, name) in enumerate(reg.entries):
            if pid in reg.refused:
                continue
            if len(source) > MAX_SOURCE_CHARS:
                reg.refused[pid] = f"over {MAX_SOURCE_CHARS} characters: slow to compile"
                _log.debug("prefilter: pattern %r always runs (too long to compile)", name)
                continue
            try:
                expression, f = translate(source, flags)
            except Refused as exc:
                reg.refused[pid] = str(exc)
                _log.debug("prefilter: pattern %r always runs (%s)", name, exc)
                continue
            expressions.append(expression)
            ids.append(pid)
            hs_flags.append(f)
    db, refused = _compile(expressions, ids, hs_flags)  # seconds: outside the lock
    with reg.lock:
        for pid, why in refused.items():
            reg.refused[pid] = why
            _log.debug("prefilter: pattern %r always runs (%s)", reg.entries[pid][2], why)
        covered = frozenset(ids) - refused.keys() if db is not None else frozenset()
        current = reg.database
        if current is None or current.registered <= registered:
            reg.database = _Database(
                db, covered, registered, db.size() if db is not None else 0
            )


def _compile(
    expressions: list[bytes], ids: list[int], flags: list[int]
) -> tuple[hyperscan.Database | None, dict[int, str]]:
    """The database, compiled in a child process (:mod:`._hscompile`: the compiler's
    heap stays out of this process), or here when the child cannot run."""
    try:
        serialized, refused = _compile_apart(expressions, ids, flags)
    except (OSError, ValueError, KeyError, TypeError, subprocess.SubprocessError) as exc:
        _log.debug("prefilter: compiling here (child failed: %s)", type(exc).__name__)
        serialized, refused = compile_serialized(expressions, ids, flags)
    if serialized is None:
        return None, refused
    return hyperscan.loadb(serialized, hyperscan.HS_MODE_BLOCK), refused


def _compile_apart(
    expressions: list[bytes], ids: list[int], flags: list[int]
) -> tuple[bytes | None, dict[int, str]]:
    request = {"expressions": [e.decode("latin-1") for e in expressions], "ids": ids}
    request["flags"] = flags
    done = subprocess.run(
        [sys.executable, "-I", str(Path(_hscompile.__file__))],
        input=json.dumps(request).encode(),
        capture_output=True,
        timeout=_COMPILE_TIMEOUT_S,
        check=True,
    )
    answer = json.loads(done.stdout)
    encoded = answer["database"]
    refused = {int(k): str(v) for k, v in answer["refused"].items()}
    return (base64.b64decode(encoded) if encoded is not None else None), refused


def _on_match(pid: int, start: int, end: int, flags: int, found: object) -> None:
    cast("list[int]", found).append(pid)


def scan(text: str) -> tuple[frozenset[int], frozenset[int]] | None:
    """``(covered, reported)``: the ids the database holds and those it reported
    for ``text``; None when the prefilter cannot decide (no database, disabled,
    or a text outside printable ASCII): then every pattern runs."""
    reg = _REGISTRY
    database = reg.database
    if database is None or not reg.enabled:
        return None
    db, covered = database.db, database.covered
    if db is None:
        return None
    local = reg.local.__dict__
    if local.get("text") is text and local.get("database") is database:
        last: tuple[frozenset[int], frozenset[int]] | None = local["result"]
        return last
    result: tuple[frozenset[int], frozenset[int]] | None = None
    if _DECIDED.fullmatch(text) is not None and not text.endswith("\n"):
        scratch = local.get("scratch")
        if scratch is None or local.get("scratch_for") is not database:
            scratch = hyperscan.Scratch(db)  # one per thread and database
            local["scratch"], local["scratch_for"] = scratch, database
        found: list[int] = []
        try:
            db.scan(
                text.encode("ascii"), match_event_handler=_on_match, context=found, scratch=scratch
            )
        except hyperscan.error as exc:  # never expected; every pattern then runs
            _log.debug("prefilter: scan failed (%s); every pattern runs", type(exc).__name__)
        else:
            result = (covered, frozenset(found))
    local["text"], local["database"], local["result"] = text, database, result
    return result


@dataclass(frozen=True, slots=True)
class Stats:
    registered: int
    in_database: int
    refused: dict[str, str]
    database_bytes: int


def stats() -> Stats:
    """What the current database holds and which patterns always run, by name."""
    reg = _REGISTRY
    database = reg.database
    return Stats(
        registered=len(reg.entries),
        in_database=len(database.covered) if database else 0,
        refused={reg.entries[pid][2]: why for pid, why in reg.refused.items()},
        database_bytes=database.size if database else 0,
    )


@contextmanager
def disabled() -> Iterator[None]:
    """Every pattern runs (for the equivalence tests and the benchmarks)."""
    before = _REGISTRY.enabled
    _REGISTRY.enabled = False
    try:
        yield
    finally:
        _REGISTRY.enabled = before
