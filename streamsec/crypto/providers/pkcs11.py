"""KEKs held in a PKCS#11 HSM (``python-pkcs11``; tested against SoftHSM2).

Each KEK version is an AES-256 secret-key object on the token, generated inside
the HSM with ``CKA_EXTRACTABLE=false`` and ``CKA_SENSITIVE=true``, labelled
``<prefix><name>.v<version>``. Wrapping is ``CKM_AES_GCM`` encryption inside the
HSM (random 96-bit nonce, the keyring entry as associated data); the material of
the KEK never reaches this process. Destroying a version deletes the object.

The token is found by its **label** (slots are renumbered as tokens come and
go). For SoftHSM2, ``SOFTHSM2_CONF`` must name its configuration before the
module is loaded: :class:`Pkcs11KekProvider` refuses to start otherwise.
Install with ``pip install 'streamsec[pkcs11]'``.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from streamsec.errors import KeyAccessError, SettingsError

try:
    import pkcs11
    from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
    from pkcs11.exceptions import PKCS11Error
    from pkcs11.mechanisms import GCMParams
except ImportError as exc:  # pragma: no cover - depends on the extra
    raise ImportError(
        "the pkcs11 KEK provider needs python-pkcs11: pip install 'streamsec[pkcs11]'"
    ) from exc

__all__ = ["Pkcs11KekProvider"]

_SESSIONS: dict[tuple[str, str], tuple[Any, threading.Lock]] = {}
_SESSIONS_LOCK = threading.Lock()


def _session(module: str, token_label: str, pin: str) -> tuple[Any, threading.Lock]:
    """One logged-in session per module and token in this process (PKCS#11 logins are
    per application: a second C_Login fails), with the lock that serialises its use."""
    with _SESSIONS_LOCK:
        found = _SESSIONS.get((module, token_label))
        if found is None:
            token = pkcs11.lib(module).get_token(token_label=token_label)
            found = _SESSIONS[(module, token_label)] = (
                token.open(user_pin=pin, rw=True),
                threading.Lock(),
            )
        return found


class Pkcs11KekProvider:
    kind = "pkcs11"

    def __init__(
        self, *, module: str, token_label: str, pin: str, label_prefix: str = "streamsec-kek."
    ) -> None:
        if "softhsm" in module and not os.environ.get("SOFTHSM2_CONF"):
            raise SettingsError(
                "SoftHSM2 needs SOFTHSM2_CONF set before its module loads", key="SOFTHSM2_CONF"
            )
        if not os.path.exists(module):
            raise SettingsError("PKCS#11 module not found", key="STREAMSEC_PKCS11_MODULE")
        self._prefix = label_prefix
        try:
            self._session, self._lock = _session(module, token_label, pin)
        except (PKCS11Error, StopIteration, RuntimeError) as exc:
            raise KeyAccessError(
                f"cannot open the PKCS#11 token: {type(exc).__name__}",
                key="STREAMSEC_PKCS11_TOKEN_LABEL",
            ) from None
        self._keys: dict[tuple[str, str], Any] = {}

    def __repr__(self) -> str:
        return "Pkcs11KekProvider()"

    def __reduce__(self) -> Any:
        raise TypeError("an HSM session cannot be pickled")

    # --- KekProvider -------------------------------------------------------------

    def wrap(
        self, name: str, material: bytes, aad: bytes, *, create: bool = True
    ) -> tuple[str, bytes]:
        with self._lock:
            versions = self._versions(name)
            if not versions:
                if not create:
                    raise KeyAccessError("no such key-encryption key in the HSM", key=name)
                self._generate(name, "1")
                versions = ["1"]
            version = max(versions, key=int)
            key = self._key(name, version)
            nonce = os.urandom(12)
            try:
                sealed = key.encrypt(
                    material, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, aad)
                )
            except PKCS11Error as exc:
                raise KeyAccessError(f"HSM wrap failed: {type(exc).__name__}", key=name) from None
            return version, nonce + bytes(sealed)

    def unwrap(self, name: str, version: str, wrapped: bytes, aad: bytes) -> bytes:
        if len(wrapped) < 12 + 16:
            raise KeyAccessError("wrapped key is too short", key=name)
        with self._lock:
            key = self._key(name, version)
            try:
                return bytes(
                    key.decrypt(
                        wrapped[12:],
                        mechanism=Mechanism.AES_GCM,
                        mechanism_param=GCMParams(wrapped[:12], aad),
                    )
                )
            except PKCS11Error:
                raise KeyAccessError(
                    "HSM refused to unwrap: wrong key-encryption key or tampered key store",
                    key=f"{name}/v{version}",
                ) from None

    def rotate(self, name: str) -> str:
        with self._lock:
            version = str(max([0, *(int(v) for v in self._versions(name))]) + 1)
            self._generate(name, version)
            return version

    def destroy_version(self, name: str, version: str) -> None:
        with self._lock:
            if version == max(self._versions(name), key=int, default=None):
                raise KeyAccessError("refusing to destroy the current HSM key", key=name)
            self._keys.pop((name, version), None)
            label = self._label(name, version)
            query = {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: label}
            for obj in list(self._session.get_objects(query)):
                obj.destroy()

    def close(self) -> None:
        """Forget the key handles; the process-wide session stays open for others."""
        with self._lock:
            self._keys.clear()

    # --- helpers -----------------------------------------------------------------

    def _label(self, name: str, version: str) -> str:
        return f"{self._prefix}{name}.v{version}"

    def _versions(self, name: str) -> list[str]:
        stem = f"{self._prefix}{name}.v"
        found = []
        for obj in self._session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}):
            label = str(obj.label)
            if label.startswith(stem) and label[len(stem) :].isdigit():
                found.append(label[len(stem) :])
        return found

    def _generate(self, name: str, version: str) -> None:
        self._session.generate_key(
            KeyType.AES,
            256,
            label=self._label(name, version),
            store=True,
            template={
                Attribute.EXTRACTABLE: False,
                Attribute.SENSITIVE: True,
                Attribute.ENCRYPT: True,
                Attribute.DECRYPT: True,
                Attribute.WRAP: False,
                Attribute.UNWRAP: False,
            },
        )

    def _key(self, name: str, version: str) -> Any:
        key = self._keys.get((name, version))
        if key is None:
            try:
                key = self._session.get_key(
                    object_class=ObjectClass.SECRET_KEY, label=self._label(name, version)
                )
            except (PKCS11Error, KeyError, ValueError):
                raise KeyAccessError(
                    "key-encryption key version not in the HSM (destroyed?)",
                    key=f"{name}/v{version}",
                ) from None
            self._keys[(name, version)] = key
        return key
