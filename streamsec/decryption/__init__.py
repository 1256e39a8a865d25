"""Decryption: the one place that opens envelopes.

* :mod:`~streamsec.decryption.envelopes`: find and open every envelope of a record
  (whole values, envelopes inside free text, the record key).
* :class:`Decryptor`: every envelope of a record restored (operators, tests).
* :class:`RoleAccess`: the pure per-field decision of a consumer role.
* :class:`RoleDecryptor`: a role's view of one record, and its audit events.

See ``docs/keys.md`` (Roles).
"""

from __future__ import annotations

from streamsec.decryption.decryptor import Decryptor
from streamsec.decryption.roles import Access, RoleAccess
from streamsec.decryption.view import FieldRead, RoleDecryptor, RoleView, decrypt_events

__all__ = [
    "Access",
    "Decryptor",
    "FieldRead",
    "RoleAccess",
    "RoleDecryptor",
    "RoleView",
    "decrypt_events",
]
