"""The :class:`KekProvider` protocol: who holds the key-encryption keys (KEKs).

A KEK never leaves its provider (HSM, Vault Transit, KMS) except for the local
provider, whose KEKs are bytes in a file. The keyring hands the provider a data
key and its associated data; the provider wraps or unwraps it *inside* itself.

Contract
--------
* KEKs are addressed by a **name** (``default``, or a category/role such as
  ``pii``, ``pci``) and a **version** (an opaque string chosen by the provider).
* :meth:`wrap` always uses the current version of ``name`` and returns it with the
  wrapped bytes, creating version 1 of ``name`` on first use when ``create`` is
  true (else :class:`~streamsec.errors.KeyAccessError`).
* :meth:`unwrap` raises :class:`~streamsec.errors.KeyAccessError` when the
  version is gone (destroyed), access is denied, or authentication fails (wrong
  KEK, different associated data, tampering). Messages never carry material.
* :meth:`rotate` makes a new version current; older ones still unwrap until
  :meth:`destroy_version` destroys them for good, in the provider.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["DEFAULT_KEK", "KEK_NAME_PATTERN", "KekProvider"]

DEFAULT_KEK = "default"
KEK_NAME_PATTERN = r"[a-z][a-z0-9_-]{0,31}"


class KekProvider(Protocol):
    kind: str
    """``local`` | ``pkcs11`` | ``vault`` | ``aws-kms`` (recorded in the key store)."""

    def wrap(
        self, name: str, material: bytes, aad: bytes, *, create: bool = True
    ) -> tuple[str, bytes]:
        """``(version, wrapped)``: ``material`` sealed under the current version of ``name``."""
        ...

    def unwrap(self, name: str, version: str, wrapped: bytes, aad: bytes) -> bytes:
        """The material, or :class:`KeyAccessError` (destroyed, denied, tampered)."""
        ...

    def rotate(self, name: str) -> str:
        """Make a new version of ``name`` current and return it."""
        ...

    def destroy_version(self, name: str, version: str) -> None:
        """Destroy one version of ``name`` in the provider (idempotent)."""
        ...

    def close(self) -> None:
        """Release sessions and clients."""
        ...
