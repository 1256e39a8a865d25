"""Finding a record's data subject after protection.

A topology's ``subject:`` path names the data-subject id; the protector encrypts
the record's values under that subject's own keys. Once protected, the subject
field itself may be kept, hashed or encrypted, so:

* :meth:`SubjectResolver.subject_of` recovers the id from a protected record
  (kept: as is; encrypted: decrypted; hashed or masked: not recoverable). Re-keying
  needs it to re-encrypt under the same subject's current key.
* :meth:`SubjectResolver.belongs` tells whether a protected record is one given
  subject's, even after that subject was forgotten: its subject field equals the
  id (kept), equals the id's pseudonym under the named hash key (hashed), decrypts
  to the id, or any envelope of the record names one of the subject's keys.

The subject id is compared, never logged or put in an error.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from streamsec.actions.encrypt import is_envelope
from streamsec.crypto.cipher import PSEUDONYM_RE, KeyringCipher, pseudonym
from streamsec.crypto.plaintext import decode_value
from streamsec.crypto.provider import KeyProvider
from streamsec.decryption.envelopes import key_ids_in
from streamsec.errors import ProtectionError
from streamsec.protection.analysis import CompiledRules
from streamsec.protection.binding import RecordBinder
from streamsec.records.paths import JsonValue, Location, format_path, get_at, parse_path
from streamsec.topology.model import Topology

__all__ = ["SubjectHasher", "SubjectResolver", "subject_key_ids"]


@runtime_checkable
class SubjectHasher(Protocol):
    """A provider that can name a subject's keys (``KeyInfo.subject``) from its id."""

    def subject_hash(self, owner: str, subject: str) -> str: ...


def subject_key_ids(provider: KeyProvider, owner: str, subject: str) -> frozenset[str] | None:
    """Ids of every key version (any state) of ``subject``; ``None`` if the provider cannot say."""
    if not isinstance(provider, SubjectHasher):
        return None
    hashed = provider.subject_hash(owner, subject)
    return frozenset(k.id for k in provider.list_keys(owner) if k.subject == hashed)


def _as_id(value: JsonValue) -> str | None:
    """The subject id the protector derives from a value (``str(value)`` of a scalar)."""
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


class SubjectResolver:
    def __init__(self, topology: Topology, provider: KeyProvider) -> None:
        if topology.subject is None:
            raise ValueError("the topology names no subject path")
        self.topology = topology
        self.provider = provider
        self.cipher = KeyringCipher(provider, topology.name)
        self._rules = CompiledRules(topology)
        self._pattern = parse_path(topology.subject)
        self._binder = RecordBinder(topology)

    def _values(self, record: dict[str, Any]) -> Iterator[tuple[Location, JsonValue]]:
        for location in self._rules.expand(record, self._pattern):
            value = get_at(record, location)
            if value is not None and not isinstance(value, dict | list):
                yield location, value

    def _decrypt(self, record: dict[str, Any], location: Location, token: str) -> bytes:
        binding = self._binder.of(record).at(location)
        return self.cipher.decrypt(token, path=format_path(location), binding=binding)

    def subject_of(self, record: dict[str, Any]) -> str | None:
        """The subject id of a protected record, or ``None`` when it cannot be recovered.

        Raises a :class:`ProtectionError` when the subject field is encrypted under a
        key that cannot be used (destroyed, tampered).
        """
        for location, value in self._values(record):
            if isinstance(value, str) and is_envelope(value):
                plain = self._decrypt(record, location, value)
                try:
                    return _as_id(decode_value(plain))
                except ValueError:
                    raise ProtectionError(
                        "malformed subject plaintext", path=format_path(location)
                    ) from None
            if isinstance(value, str) and PSEUDONYM_RE.fullmatch(value):
                return None
            return _as_id(value)
        return None

    def belongs(
        self, record: dict[str, Any], subject: str, key_ids: frozenset[str] | None,
        record_key: str | None = None,
    ) -> bool:
        """Whether ``record`` (with its Kafka key, if any) is ``subject``'s."""
        if key_ids and (key_ids_in(record) | key_ids_in(record_key or "")) & key_ids:
            return True
        return any(
            self._matches(record, location, value, subject)
            for location, value in self._values(record)
        )

    def _matches(
        self, record: dict[str, Any], location: Location, value: JsonValue, subject: str
    ) -> bool:
        if isinstance(value, str) and is_envelope(value):
            try:
                plain = decode_value(self._decrypt(record, location, value))
            except (ProtectionError, ValueError):
                return False  # another forgotten subject, or not decryptable here
            return _as_id(plain) == subject
        if isinstance(value, str) and (match := PSEUDONYM_RE.fullmatch(value)):
            try:
                key = self.provider.key_by_id(match["key_id"])
            except ProtectionError:
                return False
            expected = pseudonym(key, subject.encode("utf-8", "surrogatepass"))
            return hmac.compare_digest(expected, value)
        return _as_id(value) == subject
