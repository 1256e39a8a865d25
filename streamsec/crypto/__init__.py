"""Keys, the ciphertext envelope and the field cipher.

* :mod:`~streamsec.crypto.envelope`: ``ssec:v2:<key id>:<alg>:<payload>`` format.
* :mod:`~streamsec.crypto.aad`: canonical associated-data encoding.
* :mod:`~streamsec.crypto.plaintext`: type-tagged plaintext (exact JSON round trips).
* :mod:`~streamsec.crypto.keys`: key metadata and material holders.
* :mod:`~streamsec.crypto.provider`: the :class:`KeyProvider` protocol.
* :mod:`~streamsec.crypto.keyring` (with :mod:`~streamsec.crypto.keyring_state` and
  :mod:`~streamsec.crypto.keyring_edits`), :mod:`~streamsec.crypto.keyfile`: the local keyring.
* :mod:`~streamsec.crypto.cipher`: :class:`KeyringCipher`, the ``FieldCipher``.

See ``docs/envelope.md`` for formats and test vectors.
"""

from __future__ import annotations

from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import create_keyring, init_keyring, open_cipher, open_keyring
from streamsec.crypto.keys import KeyInfo, KeyPurpose, KeyState
from streamsec.crypto.provider import KeyProvider

__all__ = [
    "KeyInfo",
    "KeyProvider",
    "KeyPurpose",
    "KeyState",
    "Keyring",
    "KeyringCipher",
    "create_keyring",
    "init_keyring",
    "open_cipher",
    "open_keyring",
]
