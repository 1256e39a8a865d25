"""Reversing ``encrypt``: whole values and envelopes embedded in free text.

:func:`decrypt_value` restores the exact JSON value (type included) of a whole-value
envelope. :func:`decrypt_text` replaces every envelope inside a text with its
plaintext. An envelope in text runs to the last base64url character, so when the
text had a base64url character (letter, digit, ``-``, ``_``) right after the
entity, the match is too long and fails authentication; the reader then retries
with the match shortened one character at a time (at most :data:`MAX_TRIM`).
Authentication makes this safe: only the true envelope verifies.
"""

from __future__ import annotations

import re
from typing import Final

from streamsec.actions._text import value_text
from streamsec.actions.base import ActionContext
from streamsec.crypto.envelope import ENVELOPE_RE, MIN_PAYLOAD
from streamsec.crypto.plaintext import decode_value
from streamsec.errors import DecryptionError, EnvelopeFormatError, ProtectionError
from streamsec.records.paths import JsonValue

__all__ = ["MAX_TRIM", "decrypt_text", "decrypt_value"]

MAX_TRIM: Final = 64
_MIN_CHARS: Final = {alg: (size * 4 + 2) // 3 for alg, size in MIN_PAYLOAD.items()}


def _plaintext(data: bytes, ctx: ActionContext, token: str) -> JsonValue:
    try:
        return decode_value(data)
    except ValueError:
        raise DecryptionError(
            "decrypted plaintext is malformed",
            path=ctx.path,
            key_id=ctx.cipher.key_id_of(token),
        ) from None


def decrypt_value(token: JsonValue, ctx: ActionContext) -> JsonValue:
    """The original JSON value of a whole-value envelope; raises a ``DecryptionError``."""
    if not isinstance(token, str):
        raise EnvelopeFormatError("expected a ciphertext envelope string", path=ctx.path)
    return _plaintext(ctx.cipher.decrypt(token, path=ctx.path), ctx, token)


def _decrypt_span(token: str, ctx: ActionContext) -> str:
    value = _plaintext(ctx.cipher.decrypt(token, path=ctx.path), ctx, token)
    return value if isinstance(value, str) else value_text(value, path=ctx.path)


def _decrypt_match(text: str, match: re.Match[str], ctx: ActionContext) -> tuple[int, str]:
    start = match.start()
    try:
        return match.end(), _decrypt_span(match.group(0), ctx)
    except DecryptionError as first:
        shortest = match.start("payload") + _MIN_CHARS[match["alg"]]
        for end in range(match.end() - 1, max(shortest, match.end() - MAX_TRIM) - 1, -1):
            try:
                return end, _decrypt_span(text[start:end], ctx)
            except DecryptionError:
                continue
        raise first from None


def decrypt_text(text: str, ctx: ActionContext, *, strict: bool = True) -> str:
    """``text`` with every envelope inside it decrypted.

    ``strict=False`` leaves an envelope that cannot be decrypted (destroyed key,
    another topology, tampered) as it is instead of raising.
    """
    parts: list[str] = []
    pos = 0
    while (match := ENVELOPE_RE.search(text, pos)) is not None:
        try:
            end, plaintext = _decrypt_match(text, match, ctx)
        except ProtectionError:
            if strict:
                raise
            end, plaintext = match.end(), match.group(0)
        parts.append(text[pos : match.start()])
        parts.append(plaintext)
        pos = end
    parts.append(text[pos:])
    return "".join(parts)
