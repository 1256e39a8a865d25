"""Canonical bytes, digests and signatures of audit events (the tamper-evidence primitives).

Canonical form is RFC 8785 (JSON Canonicalization Scheme): keys sorted by UTF-16
code units, no whitespace, ECMAScript number formatting. Two events that differ
only in key order or number spelling (``1.0`` vs ``1``) are the same event. The
reference is the ``rfc8785`` package; a fast path uses the C JSON encoder when the
result is provably identical (BMP-only keys, safe integers, floats whose Python
``repr`` has no exponent), and a test checks the two agree.

For one audit event (a CloudEvents dict):

* ``digest`` = SHA-256 (lower-case hex) of the canonical form of the event
  **without** its ``digest`` and ``sig`` attributes; anyone can recompute it, so
  it only proves something once a signature commits to it;
* ``prev``   = the previous event's ``digest`` in the same chain, or
  :func:`genesis` of the chain id for ``seq`` 0;
* ``sig``    = Ed25519 signature (base64), by the writer's signing key, over the
  canonical form of the event **without** ``sig`` (so it covers ``digest``,
  ``prev``, ``seq``, ``chain`` and ``data``). Only checkpoints, digests and
  handover records carry one (:mod:`streamsec.events.chain`).

Writers send the canonical form itself (:func:`wire`), so a verifier can check
a digest on the bytes as read (:func:`raw_digest_ok`) without re-serialising.

A writer's batch event lists its records' entries as :class:`Precanonical`: each
entry's canonical bytes were computed once when it was listed (for its own digest),
and :func:`compute_digest` and :func:`wire` splice them in instead of serialising
the entries twice more. The result is byte for byte what :func:`canonical_json`
makes of the same event with a plain list (a test checks it); a verifier never sees
a :class:`Precanonical` (it parses what it reads).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any, Final

import rfc8785

__all__ = [
    "DIGEST_ATTRIBUTE",
    "SIG_ATTRIBUTE",
    "CanonicalizationError",
    "Precanonical",
    "canonical_json",
    "compute_digest",
    "digest_and_message",
    "genesis",
    "raw_digest_ok",
    "signed_message",
    "wire",
]

DIGEST_ATTRIBUTE: Final = "digest"
SIG_ATTRIBUTE: Final = "sig"
_GENESIS_DOMAIN: Final = b"streamsec.audit.genesis.v1\x00"
_MAX_SAFE: Final = 2**53 - 1


class Precanonical(list[Any]):
    """A list of JSON objects with the canonical bytes of each (``raw``), which must
    not change once listed (the writer builds and seals them in one step)."""

    __slots__ = ("raw",)

    def __init__(self, items: list[Any], raw: list[bytes]) -> None:
        if len(items) != len(raw):
            raise ValueError("one canonical form per item")
        super().__init__(items)
        self.raw = raw


_SPLICE: Final = "\x00streamsec.precanonical\x00"
_SPLICE_JSON: Final = b'"\\u0000streamsec.precanonical\\u0000"'


class CanonicalizationError(ValueError):
    """The object cannot be put in RFC 8785 form (NaN, huge integer, lone surrogate...).

    The message never quotes the offending value.
    """


class _Slow(Exception):
    """The fast path cannot promise RFC 8785 output for this object."""


def _prepare(obj: Any) -> Any:
    """A copy the C encoder renders exactly as RFC 8785 does, or raise :class:`_Slow`."""
    kind = type(obj)
    if kind is str or kind is bool or obj is None:
        return obj
    if kind is dict:
        out: dict[str, Any] = {}
        for key, value in obj.items():
            if type(key) is not str or not (key.isascii() or max(key) <= "\uffff"):
                raise _Slow
            vkind = type(value)
            out[key] = value if vkind is str or vkind is bool or value is None else _prepare(value)
        return out
    if kind is list or kind is tuple:
        return [_prepare(item) for item in obj]
    if kind is int:
        if -_MAX_SAFE <= obj <= _MAX_SAFE:
            return obj
        raise _Slow
    if kind is float:
        if not math.isfinite(obj):
            raise _Slow
        if obj.is_integer():
            if abs(obj) <= _MAX_SAFE:
                return int(obj)
            raise _Slow
        if "e" in repr(obj):
            raise _Slow
        return obj
    # subclasses (StrEnum, IntEnum, dict subclasses): as the reference treats them
    if isinstance(obj, str):
        return str.__str__(obj)
    if isinstance(obj, int):
        return _prepare(int(obj))
    if isinstance(obj, float):
        return _prepare(float(obj))
    if isinstance(obj, dict):
        return _prepare(dict(obj))
    if isinstance(obj, list):
        return [_prepare(item) for item in obj]
    raise _Slow


def _plain(obj: Any) -> bool:
    """Whether the C encoder renders ``obj`` itself as RFC 8785 does (what
    :func:`_prepare` would return unchanged): exact str/bool/None, dicts with BMP
    string keys, lists and tuples, safe ints and floats that are not integral and whose
    ``repr`` has no exponent. Checking needs no copy, so plain events (all the audit
    events a worker writes) skip :func:`_prepare`."""
    kind = type(obj)
    if kind is dict:
        for key, value in obj.items():
            if type(key) is not str or not (key.isascii() or max(key) <= "\uffff"):
                return False
            vkind = type(value)
            if not (vkind is str or vkind is bool or value is None or _plain(value)):
                return False
        return True
    if kind is str or kind is bool or obj is None:
        return True
    if kind is list or kind is tuple:
        for item in obj:
            ikind = type(item)
            if not (ikind is str or ikind is bool or item is None or _plain(item)):
                return False
        return True
    if kind is int:
        return bool(-_MAX_SAFE <= obj <= _MAX_SAFE)
    if kind is float:
        return math.isfinite(obj) and not obj.is_integer() and "e" not in repr(obj)
    return False


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of a JSON-compatible object."""
    try:
        if _plain(obj):
            return _dumps(obj)
        try:
            prepared = _prepare(obj)
        except _Slow:
            return rfc8785.dumps(obj)
        return _dumps(prepared)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError, TypeError, ValueError):
        raise CanonicalizationError("value cannot be canonicalized (RFC 8785)") from None


def _without(event: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in names}


def _canonical_event(event: Mapping[str, Any]) -> bytes:
    """:func:`canonical_json` of an event, splicing a :class:`Precanonical` ``data.records``."""
    data = event.get("data")
    if not isinstance(data, dict) or type(data.get("records")) is not Precanonical:
        return canonical_json(event)
    records: Precanonical = data["records"]
    shell = dict(event)
    shell["data"] = {**data, "records": _SPLICE}
    text = canonical_json(shell)
    if text.count(_SPLICE_JSON) != 1:  # the marker elsewhere too: no shortcut
        return canonical_json({**event, "data": {**data, "records": list(records)}})
    return text.replace(_SPLICE_JSON, b"[" + b",".join(records.raw) + b"]")


def compute_digest(event: Mapping[str, Any]) -> str:
    """SHA-256 hex of the event's canonical form without ``digest`` and ``sig``."""
    body = _canonical_event(_without(event, DIGEST_ATTRIBUTE, SIG_ATTRIBUTE))
    return hashlib.sha256(body).hexdigest()


def signed_message(event: Mapping[str, Any]) -> bytes:
    """What ``sig`` signs: the canonical form of the event without ``sig``."""
    return canonical_json(_without(event, SIG_ATTRIBUTE))


def digest_and_message(event: Mapping[str, Any]) -> tuple[str, bytes]:
    """:func:`compute_digest` of ``event`` and :func:`signed_message` of ``event`` with
    that ``digest``, serialising its ``data`` once for both (a writer sealing and
    signing a checkpoint in one step). Byte for byte what the two functions make (a
    test checks it); anything unusual takes the two functions themselves."""
    body = _without(event, DIGEST_ATTRIBUTE, SIG_ATTRIBUTE)
    data = body.get("data")
    if type(data) is dict and type(data.get("records")) is not Precanonical:
        shell = {**body, "data": _SPLICE}
        head = canonical_json(shell)
        if head.count(_SPLICE_JSON) == 1:
            raw = canonical_json(data)
            digest = hashlib.sha256(head.replace(_SPLICE_JSON, raw)).hexdigest()
            shell[DIGEST_ATTRIBUTE] = digest
            head = canonical_json(shell)
            if head.count(_SPLICE_JSON) == 1:
                return digest, head.replace(_SPLICE_JSON, raw)
    digest = compute_digest(body)
    return digest, signed_message({**body, DIGEST_ATTRIBUTE: digest})


def wire(event: Mapping[str, Any]) -> bytes:
    """The bytes a writer sends: the event's canonical form."""
    return _canonical_event(event)


_DIGEST_KEY: Final = b',"digest":"'


def raw_digest_ok(raw: bytes, digest: str) -> bool:
    """Whether ``raw`` is a canonical event whose body hashes to ``digest``.

    The top-level ``digest`` member is the last ``,"digest":"`` in canonical bytes
    (every later member is a string or integer attribute, which cannot hold an
    unescaped quote), so cutting it out leaves the bytes the writer hashed. A
    ``False`` here is not a verdict: the caller falls back to :func:`compute_digest`.
    """
    at = raw.rfind(_DIGEST_KEY)
    if at < 0 or raw[at + 75 : at + 76] != b'"':
        return False
    if raw[at + 11 : at + 75] != digest.encode("ascii", "replace"):
        return False
    return hashlib.sha256(raw[:at] + raw[at + 76 :]).hexdigest() == digest


def _dumps(prepared: Any) -> bytes:
    try:
        text = json.dumps(prepared, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")
    except (UnicodeEncodeError, TypeError, ValueError):
        raise CanonicalizationError("value cannot be canonicalized (RFC 8785)") from None


def genesis(chain_id: str) -> str:
    """The ``prev`` of a chain's first event: SHA-256 hex of a domain tag and the chain id.

    Bound to the chain id, so a first event cannot be spliced into another chain
    unnoticed, and a moved first event can still be placed in its own chain.
    """
    return hashlib.sha256(_GENESIS_DOMAIN + chain_id.encode("utf-8")).hexdigest()
