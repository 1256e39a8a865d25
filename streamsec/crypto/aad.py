"""The canonical byte encoding of associated data (AAD).

Every field is written as a 4-byte big-endian length followed by its UTF-8 bytes,
so no two different field lists encode to the same bytes (``"a|b" + "c"`` can
never equal ``"a" + "b|c"``). The first field is always a fixed domain label, so
the AAD of a field ciphertext can never be mistaken for that of a wrapped key.

Field ciphertext (see ``docs/envelope.md``)::

    LP("ssec") LP("v1") LP(key_id) LP(alg) LP(topology) LP(path)

Wrapped data key (inside the keyring file)::

    LP("ssec-dek") LP("v1") LP(key_id) LP(purpose) LP(owner) LP(subject or "") LP(version)

Wrapped subject-index key (inside the keyring file)::

    LP("ssec-index") LP("v1") LP(kek_id)
"""

from __future__ import annotations

import struct

__all__ = ["ciphertext_aad", "encode_fields", "index_key_aad", "wrapped_key_aad"]

_MAX_FIELD = 0xFFFFFFFF


def encode_fields(*fields: str) -> bytes:
    """Length-prefix each field: ``uint32_be(len(utf8)) || utf8``, concatenated."""
    out = bytearray()
    for text in fields:
        data = text.encode("utf-8")
        if len(data) > _MAX_FIELD:
            raise ValueError("associated-data field too long")
        out += struct.pack(">I", len(data))
        out += data
    return bytes(out)


def ciphertext_aad(*, version: int, key_id: str, alg: str, topology: str, path: str) -> bytes:
    """AAD binding a field ciphertext to its envelope header, topology and schema path."""
    return encode_fields("ssec", f"v{version}", key_id, alg, topology, path)


def wrapped_key_aad(
    *, key_id: str, purpose: str, owner: str, subject: str | None, version: int
) -> bytes:
    """AAD binding a wrapped data key to its keyring entry (id, purpose, owner...)."""
    return encode_fields("ssec-dek", "v1", key_id, purpose, owner, subject or "", str(version))


def index_key_aad(kek_id: str) -> bytes:
    """AAD of the wrapped key that hashes subject ids."""
    return encode_fields("ssec-index", "v1", kek_id)
