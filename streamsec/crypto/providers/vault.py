"""KEKs in HashiCorp Vault / OpenBao Transit (``hvac``; tested against OpenBao).

Each KEK name is a Transit key ``<prefix><name>`` of type ``aes256-gcm96`` with
``derived=true``: every wrap and unwrap passes the keyring entry's associated
data as the derivation *context*, so a wrapped key moved to another entry does
not unwrap. Transit keeps versions: :meth:`rotate` adds one; destroying a version
raises ``min_decryption_version`` past it and trims it, so Vault itself no longer
holds the material (a backup of Vault's storage taken before still does).

Access control is Vault's: a token whose policy allows ``decrypt`` on
``transit/decrypt/streamsec-pii`` only cannot unwrap a PCI key.
Install with ``pip install 'streamsec[vault]'``.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

from streamsec.errors import KeyAccessError

try:
    import hvac
    from hvac.exceptions import Forbidden, InvalidPath, InvalidRequest, VaultError
    from requests import RequestException
except ImportError as exc:  # pragma: no cover - depends on the extra
    raise ImportError(
        "the vault KEK provider needs hvac: pip install 'streamsec[vault]'"
    ) from exc

__all__ = ["VaultKekProvider"]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class VaultKekProvider:
    kind = "vault"

    def __init__(
        self, *, url: str, token: str, mount: str = "transit", key_prefix: str = "streamsec-"
    ) -> None:
        self._client = hvac.Client(url=url, token=token, timeout=10)
        self._mount = mount
        self._prefix = key_prefix
        self._lock = threading.Lock()
        self._known: set[str] = set()

    def __repr__(self) -> str:
        return f"VaultKekProvider(mount={self._mount!r})"

    def __reduce__(self) -> Any:
        raise TypeError("a Vault client holds a token and cannot be pickled")

    @property
    def _transit(self) -> Any:
        return self._client.secrets.transit

    def _key(self, name: str) -> str:
        return f"{self._prefix}{name}"

    def _ensure(self, name: str, create: bool) -> None:
        if name in self._known:
            return
        try:
            self._transit.read_key(name=self._key(name), mount_point=self._mount)
        except InvalidPath:
            if not create:
                raise KeyAccessError("no such Transit key", key=self._key(name)) from None
            self._transit.create_key(
                name=self._key(name), key_type="aes256-gcm96", derived=True,
                exportable=False, mount_point=self._mount,
            )  # fmt: skip
        self._known.add(name)

    # --- KekProvider -------------------------------------------------------------

    def wrap(
        self, name: str, material: bytes, aad: bytes, *, create: bool = True
    ) -> tuple[str, bytes]:
        try:
            with self._lock:
                self._ensure(name, create)
            reply = self._transit.encrypt_data(
                name=self._key(name), plaintext=_b64(material), context=_b64(aad),
                mount_point=self._mount,
            )  # fmt: skip
        except (VaultError, RequestException) as exc:
            raise KeyAccessError(
                f"Vault refused to wrap: {type(exc).__name__}", key=self._key(name)
            ) from None
        text: str = reply["data"]["ciphertext"]
        version = text.split(":")[1].removeprefix("v")
        return version, text.encode()

    def unwrap(self, name: str, version: str, wrapped: bytes, aad: bytes) -> bytes:
        try:
            reply = self._transit.decrypt_data(
                name=self._key(name), ciphertext=wrapped.decode(), context=_b64(aad),
                mount_point=self._mount,
            )  # fmt: skip
        except (Forbidden, InvalidRequest, InvalidPath, VaultError, RequestException,
                UnicodeDecodeError) as exc:  # fmt: skip
            raise KeyAccessError(
                f"Vault refused to unwrap ({type(exc).__name__}): no access, destroyed "
                "version, or tampered key store",
                key=f"{self._key(name)}/v{version}",
            ) from None
        return base64.b64decode(reply["data"]["plaintext"])

    def rotate(self, name: str) -> str:
        try:
            with self._lock:
                self._ensure(name, True)
            self._transit.rotate_key(name=self._key(name), mount_point=self._mount)
            info = self._transit.read_key(name=self._key(name), mount_point=self._mount)
        except (VaultError, RequestException) as exc:
            raise KeyAccessError(
                f"Vault refused to rotate: {type(exc).__name__}", key=self._key(name)
            ) from None
        return str(info["data"]["latest_version"])

    def destroy_version(self, name: str, version: str) -> None:
        """Refuse decryption with ``version`` and older, then trim them from Vault."""
        key = self._key(name)
        try:
            info = self._transit.read_key(name=key, mount_point=self._mount)["data"]
            floor = int(version) + 1
            if floor > int(info["latest_version"]):
                raise KeyAccessError("refusing to destroy the current Transit key version", key=key)
            latest = int(info["latest_version"])
            if int(info["min_encryption_version"]) < floor:  # trim needs both set
                self._transit.update_key_configuration(
                    name=key, min_encryption_version=latest, mount_point=self._mount
                )
            if int(info["min_decryption_version"]) < floor:
                self._transit.update_key_configuration(
                    name=key, min_decryption_version=floor, mount_point=self._mount
                )
            if int(info.get("min_available_version", 0)) < floor:
                self._transit.trim_key(name=key, min_version=floor, mount_point=self._mount)
        except (VaultError, RequestException) as exc:
            raise KeyAccessError(
                f"Vault refused to destroy: {type(exc).__name__}", key=key
            ) from None

    def close(self) -> None:
        adapter = getattr(self._client, "adapter", None)
        if adapter is not None:
            adapter.close()
