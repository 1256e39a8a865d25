"""The field cipher of a topology, with the KEK choice its ``key_separation`` asks for.

* ``none``: every data key under the ``default`` KEK.
* ``category``: under the KEK of the field's category (:func:`~.cipher.kek_name`).
* ``role``: under ``all`` and the KEK of every role the topology grants the field
  (:mod:`streamsec.crypto.readers`), decided by
  :class:`~streamsec.topology.roles.ReaderSets` from the worker's own
  classification (path, entity, category), never from record headers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamsec.crypto.cipher import KekChooser, KeyringCipher, kek_name
from streamsec.crypto.provider import KeyProvider
from streamsec.crypto.readers import reader_label

if TYPE_CHECKING:
    from streamsec.topology.model import Topology

__all__ = ["cipher_for", "field_keks"]


def field_keks(topology: Topology) -> KekChooser | None:
    """``(path, category, entity) -> KEK label`` for ``topology``; ``None`` without
    key separation."""
    if topology.key_separation == "category":
        return lambda path, category, entity: kek_name(category)
    if topology.key_separation == "role":
        from streamsec.topology.roles import ReaderSets

        sets = ReaderSets(topology)
        return lambda path, category, entity: reader_label(sets.readers(path, category, entity))
    return None


def cipher_for(provider: KeyProvider, topology: Topology) -> KeyringCipher:
    """The cipher a worker protects ``topology`` with."""
    return KeyringCipher(provider, topology.name, kek_of=field_keks(topology))
