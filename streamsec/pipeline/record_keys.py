"""A batch's record keys, each distinct key protected once under the time budget.

The protected key is a function of the key alone (see
:mod:`streamsec.protection.record_key`), so a record and its tombstone get the same
one. A key too long or not UTF-8 fails its own record only.
"""

from __future__ import annotations

import logging
from typing import Final

from streamsec.detection import budget
from streamsec.errors import (
    DecodeError,
    ProtectionError,
    RecordTooLargeError,
    RecordTooSlowError,
    StreamsecError,
)
from streamsec.protection.protector import Protector
from streamsec.protection.result import FieldAction, ProtectionFailure

__all__ = ["MAX_KEY_BYTES", "KeyResult", "as_error", "key_text", "protect_keys"]

log = logging.getLogger(__name__)

KeyResult = tuple[str, FieldAction | None] | ProtectionFailure

MAX_KEY_BYTES: Final = 16_384
"""A record key larger than this is dead-lettered (``too_large``) without being scanned."""


def as_error(exc: Exception) -> StreamsecError:
    """``exc`` as a streamsec error (an unexpected one is logged by type only), detached
    from its traceback (:meth:`StreamsecError.detached`): it is kept as data."""
    if isinstance(exc, StreamsecError):
        return exc.detached()
    log.error("unexpected %s while handling a record", type(exc).__name__)
    return ProtectionError(f"unexpected {type(exc).__name__} while protecting")


def key_text(key: bytes) -> str:
    try:
        return key.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("record key is not valid UTF-8") from None


def protect_keys(
    protector: Protector, keys: list[bytes], time_budget: float | None
) -> dict[bytes, KeyResult]:
    """The distinct ``keys``, each protected once: one detection call under the budget
    times their number (an overrun is redone key by key, each under its own budget)."""
    out: dict[bytes, KeyResult] = {}
    texts: dict[bytes, str] = {}
    for key in dict.fromkeys(keys):
        try:
            if len(key) > MAX_KEY_BYTES:
                raise RecordTooLargeError(f"record key is {len(key)} bytes, over {MAX_KEY_BYTES}")
            texts[key] = key_text(key)
        except (DecodeError, RecordTooLargeError) as exc:
            out[key] = ProtectionFailure(exc)
    if not texts:
        return out
    seconds = None if time_budget is None else time_budget * len(texts)
    try:
        return out | _keys_under(protector, texts, seconds)
    except RecordTooSlowError:
        for key, text in texts.items():
            try:
                out |= _keys_under(protector, {key: text}, time_budget)
            except RecordTooSlowError as exc:
                out[key] = ProtectionFailure(exc)
        return out


def _keys_under(
    protector: Protector, texts: dict[bytes, str], seconds: float | None
) -> dict[bytes, KeyResult]:
    try:
        with budget.deadline(seconds):
            results = protector.protect_keys(list(texts.values()))
        if len(results) != len(texts):
            raise ProtectionError("protector returned the wrong number of keys")
    except RecordTooSlowError:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract says never; fail closed anyway
        return dict.fromkeys(texts, ProtectionFailure(as_error(exc)))
    return dict(zip(texts, results, strict=True))
