"""Finding and opening every ciphertext envelope of a protected record: the one opener.

Decryption, re-keying, role-based views and the proof of erasure all walk a
protected record the same way: every string leaf that holds envelopes, either as
its whole value or embedded in free text (inline protection), plus the Kafka record
key. :func:`open_value` opens each envelope of one leaf with a caller's ``opener``
and reports, per envelope, where it is, which key it names and either its plaintext
or the error, so callers decide what to put back; :func:`restore` puts the
plaintexts back (a whole value gets its JSON type again, an envelope in text its
text). :func:`decrypt_value` and :func:`decrypt_text` do both for one value.
Values never appear in errors.

In free text an envelope has no end marker: it runs to the last base64url
character, so when the text had a base64url character (letter, digit, ``-``,
``_``) right after the entity, the match is too long and fails authentication; it
is retried shortened one character at a time (at most :data:`MAX_TRIM`).
Authentication makes this safe: only the true envelope verifies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from streamsec.actions._text import value_text
from streamsec.actions.base import ActionContext
from streamsec.actions.encrypt import is_envelope
from streamsec.crypto.envelope import ENVELOPE_RE, MIN_PAYLOAD
from streamsec.crypto.plaintext import decode_value
from streamsec.errors import DecryptionError, EnvelopeFormatError, ProtectionError
from streamsec.records.paths import JsonValue, Location, format_path, iter_leaves

__all__ = [
    "MAX_TRIM",
    "EnvelopeSlot",
    "Opener",
    "ProtectedLeaf",
    "decrypt_text",
    "decrypt_value",
    "key_ids_in",
    "open_value",
    "plaintext_value",
    "protected_leaves",
    "replace_slots",
    "restore",
]

Opener = Callable[[str, str], bytes]
"""``opener(token, path) -> plaintext``; raises a :class:`ProtectionError` subclass."""

MAX_TRIM: Final = 64
_MIN_CHARS: Final = {alg: (size * 4 + 2) // 3 for alg, size in MIN_PAYLOAD.items()}


@dataclass(frozen=True, slots=True)
class ProtectedLeaf:
    """A string leaf holding at least one envelope."""

    location: Location
    path: str
    value: str

    @property
    def whole(self) -> bool:
        """True when the whole value is one envelope (restores the original JSON type)."""
        return is_envelope(self.value)


@dataclass(frozen=True, slots=True)
class EnvelopeSlot:
    """One envelope inside a leaf: ``value[start:end]``, opened or not."""

    start: int
    end: int
    key_id: str
    plaintext: bytes | None = None
    error: ProtectionError | None = None

    @property
    def opened(self) -> bool:
        return self.plaintext is not None


def protected_leaves(record: Any) -> Iterator[ProtectedLeaf]:
    """Every string leaf of ``record`` that holds an envelope, in document order."""
    for location, value in iter_leaves(record):
        if isinstance(value, str) and "ssec:" in value and ENVELOPE_RE.search(value):
            yield ProtectedLeaf(location, format_path(location), value)


def key_ids_in(value: JsonValue) -> set[str]:
    """Key ids named by the envelopes anywhere in ``value`` (no decryption)."""
    if isinstance(value, str):
        return {m["key_id"] for m in ENVELOPE_RE.finditer(value)}
    return {
        m["key_id"] for leaf in protected_leaves(value) for m in ENVELOPE_RE.finditer(leaf.value)
    }


def _open_match(text: str, match: re.Match[str], path: str, opener: Opener) -> EnvelopeSlot:
    start, key_id = match.start(), match["key_id"]
    try:
        return EnvelopeSlot(start, match.end(), key_id, opener(match.group(0), path))
    except DecryptionError as first:
        shortest = match.start("payload") + _MIN_CHARS[match["alg"]]
        for end in range(match.end() - 1, max(shortest, match.end() - MAX_TRIM) - 1, -1):
            try:
                return EnvelopeSlot(start, end, key_id, opener(text[start:end], path))
            except DecryptionError:
                continue
        return EnvelopeSlot(start, match.end(), key_id, error=first)
    except ProtectionError as exc:  # key missing or destroyed: trimming cannot help
        return EnvelopeSlot(start, match.end(), key_id, error=exc)


def open_value(leaf: ProtectedLeaf, opener: Opener) -> list[EnvelopeSlot]:
    """Open every envelope of ``leaf``; never raises for one envelope (see ``error``)."""
    if leaf.whole:
        match = ENVELOPE_RE.fullmatch(leaf.value)
        assert match is not None
        end, key_id = len(leaf.value), match["key_id"]
        try:
            return [EnvelopeSlot(0, end, key_id, opener(leaf.value, leaf.path))]
        except ProtectionError as exc:
            return [EnvelopeSlot(0, end, key_id, error=exc)]
    slots: list[EnvelopeSlot] = []
    pos = 0
    while (match := ENVELOPE_RE.search(leaf.value, pos)) is not None:
        slot = _open_match(leaf.value, match, leaf.path, opener)
        slots.append(slot)
        pos = slot.end
    return slots


def replace_slots(
    text: str, slots: list[EnvelopeSlot], replace: Callable[[EnvelopeSlot], str | None]
) -> str:
    """``text`` with each slot for which ``replace`` returns a string substituted."""
    parts: list[str] = []
    pos = 0
    for slot in slots:
        new = replace(slot)
        if new is None:
            continue
        parts.append(text[pos : slot.start])
        parts.append(new)
        pos = slot.end
    parts.append(text[pos:])
    return "".join(parts)


def plaintext_value(data: bytes, *, path: str, key_id: str) -> JsonValue:
    """The JSON value of a decrypted plaintext; a ``DecryptionError`` when malformed."""
    try:
        return decode_value(data)
    except ValueError:
        raise DecryptionError(
            "decrypted plaintext is malformed", path=path, key_id=key_id
        ) from None


def _span_text(leaf: ProtectedLeaf, slot: EnvelopeSlot) -> str | None:
    if slot.plaintext is None:
        return None
    value = plaintext_value(slot.plaintext, path=leaf.path, key_id=slot.key_id)
    return value if isinstance(value, str) else value_text(value, path=leaf.path)


def restore(leaf: ProtectedLeaf, slots: list[EnvelopeSlot]) -> JsonValue:
    """``leaf`` with every opened slot replaced by its plaintext; unopened slots stay.

    A whole-value envelope gets back its JSON value and type; an envelope inside
    text its text (a non-string value as its JSON text).
    """
    opened = [s for s in slots if s.plaintext is not None]
    if not opened:
        return leaf.value
    if leaf.whole:
        first = opened[0]
        return plaintext_value(first.plaintext or b"", path=leaf.path, key_id=first.key_id)
    return replace_slots(leaf.value, slots, lambda s: _span_text(leaf, s))


def _opener(ctx: ActionContext) -> Opener:
    return lambda token, path: ctx.cipher.decrypt(token, path=path, binding=ctx.binding)


def decrypt_value(token: JsonValue, ctx: ActionContext) -> JsonValue:
    """The original JSON value of a whole-value envelope; raises a ``DecryptionError``."""
    if not isinstance(token, str):
        raise EnvelopeFormatError("expected a ciphertext envelope string", path=ctx.path)
    plaintext = ctx.cipher.decrypt(token, path=ctx.path, binding=ctx.binding)
    return plaintext_value(plaintext, path=ctx.path, key_id=ctx.cipher.key_id_of(token))


def decrypt_text(text: str, ctx: ActionContext, *, strict: bool = True) -> str:
    """``text`` with every envelope inside it decrypted.

    ``strict=False`` leaves an envelope that cannot be decrypted (destroyed key,
    another topology, tampered) as it is instead of raising.
    """
    if "ssec:" not in text:
        return text
    leaf = ProtectedLeaf((), ctx.path, text)
    slots = open_value(leaf, _opener(ctx))
    failed = next((s.error for s in slots if s.error is not None), None)
    if failed is not None and strict:
        raise failed
    return replace_slots(text, slots, lambda s: _span_text(leaf, s))
