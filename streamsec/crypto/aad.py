"""The canonical byte encoding of associated data (AAD).

Every field is written as a 4-byte big-endian length followed by its UTF-8 bytes,
so no two different field lists encode to the same bytes (``"a|b" + "c"`` can
never equal ``"a" + "b|c"``). The first field is always a fixed domain label, so
the AAD of a field ciphertext can never be mistaken for that of a wrapped key.

Field ciphertext, envelope version 2 (see ``docs/envelope.md``)::

    LP("ssec") LP("v2") LP(key_id) LP(alg) LP(topology) LP(path)
        LP(binding.subject) LP(binding.record) LP(binding.position)

Version 1 (read only) stopped after ``LP(path)``.

Wrapped data key (inside the keyring file)::

    LP("ssec-dek") LP("v1") LP(key_id) LP(purpose) LP(owner) LP(subject or "") LP(version)

Wrapped subject-index key (inside the keyring file)::

    LP("ssec-index") LP("v1") LP(kek_id)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from streamsec.frozen import quick_init

__all__ = [
    "NO_BINDING",
    "Binding",
    "ciphertext_aad",
    "encode_fields",
    "index_key_aad",
    "wrapped_key_aad",
]

_MAX_FIELD = 0xFFFFFFFF


def encode_fields(*fields: str) -> bytes:
    """Length-prefix each field: ``uint32_be(len(utf8)) || utf8``, concatenated."""
    out = b""
    for text in fields:
        data = text.encode("utf-8")
        size = len(data)
        if size > _MAX_FIELD:
            raise ValueError("associated-data field too long")
        out += size.to_bytes(4, "big") + data
    return out


@functools.lru_cache(maxsize=4096)
def _header_fields(version: int, key_id: str, alg: str, topology: str, path: str) -> bytes:
    """The fields every ciphertext of one key, topology and path shares (cached: the
    same bytes as encoding them each time)."""
    return encode_fields("ssec", f"v{version}", key_id, alg, topology, path)


@quick_init
@dataclass(frozen=True, slots=True)
class Binding:
    """What a version-2 ciphertext is bound to besides its topology and schema path.

    Built by :mod:`streamsec.protection.binding` from the protected record, so the
    reader recomputes it from the record it finds the ciphertext in.
    """

    subject: str = ""
    """The record's data-subject reference ("" when the record has none: shared key)."""
    record: str = ""
    """The record reference (the topology's ``encryption.record_id`` field), or ""."""
    position: str = ""
    """The concrete location with list indices (``orders[1].card``), or "" when list
    items are bound to the record only (``encryption.lists: record``)."""


NO_BINDING = Binding()


def ciphertext_aad(
    *, version: int, key_id: str, alg: str, topology: str, path: str,
    binding: Binding | None = None,
) -> bytes:
    """AAD binding a field ciphertext to its envelope header, topology, schema path
    and (version 2) its record's subject, the record and its position."""
    if version == 1:
        return _header_fields(1, key_id, alg, topology, path)
    b = binding or NO_BINDING
    return _header_fields(version, key_id, alg, topology, path) + encode_fields(
        b.subject, b.record, b.position
    )


def wrapped_key_aad(
    *, key_id: str, purpose: str, owner: str, subject: str | None, version: int
) -> bytes:
    """AAD binding a wrapped data key to its keyring entry (id, purpose, owner...)."""
    return encode_fields("ssec-dek", "v1", key_id, purpose, owner, subject or "", str(version))


def index_key_aad(kek_id: str) -> bytes:
    """AAD of the wrapped key that hashes subject ids."""
    return encode_fields("ssec-index", "v1", kek_id)
