"""The ciphertext envelope: ``ssec:v2:<key id>:<alg>:<base64url payload>``.

* ``v2``: format version, the one written. ``v1`` envelopes (no record binding, no
  padding, a 12-byte GCM nonce) are still read; any other version is rejected.
* key id: ``k`` + 10 lowercase base32 characters (``[a-z2-7]``), random, one per
  data-key version (see :func:`streamsec.crypto.keys.new_key_id`).
* alg: ``gcm`` (AES-256-GCM; v2 payload = 24-byte nonce || ciphertext || 16-byte tag,
  the first 12 nonce bytes deriving a per-message subkey; v1: 12-byte nonce) or
  ``siv`` (AES-SIV with a 512-bit key; payload = 16-byte synthetic IV || ciphertext).
* payload: base64url without padding, canonical (re-encoding gives the same text).

:data:`ENVELOPE_RE` finds envelopes embedded in free text. An envelope ends at the
first character outside the base64url alphabet; see ``docs/envelope.md`` for how a
reader handles base64url characters that directly follow one.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass
from typing import Final, Literal

from streamsec.errors import EnvelopeFormatError

__all__ = [
    "ENVELOPE_RE",
    "GCM_NONCE",
    "KEY_ID_PATTERN",
    "MIN_PAYLOAD",
    "PREFIX",
    "PREFIX_RE",
    "READABLE_VERSIONS",
    "VERSION",
    "Alg",
    "Envelope",
    "b64url_decode",
    "b64url_encode",
    "envelope_header",
    "format_envelope",
    "parse_envelope",
]

Alg = Literal["gcm", "siv"]

PREFIX: Final = "ssec"
VERSION: Final = 2
"""The version written."""
READABLE_VERSIONS: Final = frozenset({1, 2})
KEY_ID_PATTERN: Final = r"k[a-z2-7]{10}"
GCM_NONCE: Final[dict[int, int]] = {1: 12, 2: 24}
"""GCM nonce bytes per envelope version."""
_MIN: Final[dict[tuple[int, str], int]] = {
    (1, "gcm"): 12 + 16, (1, "siv"): 16, (2, "gcm"): 24 + 16 + 1, (2, "siv"): 16 + 1,
}
MIN_PAYLOAD: Final[dict[str, int]] = {"gcm": 12 + 16, "siv": 16}
"""Smallest payload in bytes of any readable version (v1, empty plaintext)."""

ENVELOPE_RE: Final = re.compile(
    rf"ssec:v(?P<version>[12]):(?P<key_id>{KEY_ID_PATTERN}):(?P<alg>gcm|siv):"
    r"(?P<payload>[A-Za-z0-9_-]{22,})"
)
"""Finds v1 and v2 envelopes inside text. Groups: ``version``, ``key_id``, ``alg``, ``payload``."""

PREFIX_RE: Final = re.compile(r"ssec:v[0-9]+:")
"""Anything that starts like an envelope: a strict reader reports those that are not
a readable envelope (an unknown version, a damaged header) instead of passing them."""

_FULL_RE: Final = re.compile(
    r"ssec:v(?P<version>[0-9]+):(?P<key_id>[^:]*):(?P<alg>[^:]*):(?P<payload>[^:]*)"
)
_KEY_ID_RE: Final = re.compile(KEY_ID_PATTERN)
_B64_RE: Final = re.compile(r"[A-Za-z0-9_-]*")
_ALGS: Final[dict[str, Alg]] = {"gcm": "gcm", "siv": "siv"}


@dataclass(frozen=True, slots=True)
class Envelope:
    key_id: str
    alg: Alg
    payload: bytes
    version: int = VERSION

    def __repr__(self) -> str:  # the payload is ciphertext, but keep logs short
        return f"Envelope(version={self.version}, key_id={self.key_id}, alg={self.alg})"


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict, canonical base64url without padding; raises ``ValueError``."""
    if len(text) % 4 == 1 or not _B64_RE.fullmatch(text):
        raise ValueError("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None
    if b64url_encode(data) != text:
        raise ValueError("non-canonical base64url")
    return data


def format_envelope(envelope: Envelope) -> str:
    return envelope_header(envelope.version, envelope.key_id, envelope.alg) + b64url_encode(
        envelope.payload
    )


@functools.lru_cache(maxsize=1024)
def envelope_header(version: int, key_id: str, alg: str) -> str:
    """``ssec:v2:<key id>:<alg>:``, checked once per key (a failed check is not cached)."""
    if version not in READABLE_VERSIONS:
        raise ValueError("unknown envelope version")
    if not _KEY_ID_RE.fullmatch(key_id):
        raise ValueError("malformed key id")
    if alg not in MIN_PAYLOAD:
        raise ValueError("unknown algorithm")
    return f"{PREFIX}:v{version}:{key_id}:{alg}:"


def parse_envelope(token: str) -> Envelope:
    """Parse a whole envelope string; raises :class:`EnvelopeFormatError`.

    Error messages say what is wrong, never quote the token. ``key_id`` is attached
    only once it has been validated.
    """
    if not isinstance(token, str):
        raise EnvelopeFormatError("ciphertext envelope must be a string")
    match = _FULL_RE.fullmatch(token)
    if match is None:
        raise EnvelopeFormatError("not a streamsec ciphertext envelope")
    version = int(match["version"]) if len(match["version"]) < 4 else 0
    if version not in READABLE_VERSIONS or match["version"] != str(version):
        raise EnvelopeFormatError("unsupported envelope version")
    key_id = match["key_id"]
    if not _KEY_ID_RE.fullmatch(key_id):
        raise EnvelopeFormatError("malformed key id in envelope")
    alg = _ALGS.get(match["alg"])
    if alg is None:
        raise EnvelopeFormatError("unknown envelope algorithm", key_id=key_id)
    try:
        payload = b64url_decode(match["payload"])
    except ValueError:
        raise EnvelopeFormatError("envelope payload is not base64url", key_id=key_id) from None
    if len(payload) < _MIN[version, alg]:
        raise EnvelopeFormatError("envelope payload is truncated", key_id=key_id)
    return Envelope(key_id=key_id, alg=alg, payload=payload, version=version)
