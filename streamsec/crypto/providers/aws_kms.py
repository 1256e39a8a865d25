"""KEKs in AWS KMS (``boto3``; tested against moto's KMS server on loopback).

Each KEK name is a symmetric KMS key reached by the alias ``<prefix><name>``; a
*version* is the KMS key id. Wrapping is ``Encrypt`` with the keyring entry's
associated data and the KEK name as the encryption context, so KMS
refuses to decrypt a wrapped key moved to another entry. AWS's own rotation
keeps old material forever, so :meth:`rotate` creates a *new* KMS key and moves
the alias; :meth:`destroy_version` disables the old key and schedules its
deletion (7 days, the AWS minimum).

Access control is IAM's: a role allowed ``kms:Decrypt`` on the PII key only
cannot unwrap a PCI key. ``STREAMSEC_AWS_KMS_ENDPOINT`` overrides the endpoint
(moto, LocalStack, a VPC endpoint); credentials come from the usual AWS chain.
Install with ``pip install 'streamsec[aws-kms]'``.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

from streamsec.errors import KeyAccessError

try:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError as exc:  # pragma: no cover - depends on the extra
    raise ImportError(
        "the aws-kms KEK provider needs boto3: pip install 'streamsec[aws-kms]'"
    ) from exc

__all__ = ["AwsKmsKekProvider"]

_Errors = (ClientError, BotoCoreError)


class AwsKmsKekProvider:
    kind = "aws-kms"

    def __init__(
        self, *, region: str, endpoint: str | None = None, alias_prefix: str = "alias/streamsec-"
    ) -> None:
        self._kms = boto3.client("kms", region_name=region, endpoint_url=endpoint)
        self._prefix = alias_prefix
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "AwsKmsKekProvider()"

    def __reduce__(self) -> Any:
        raise TypeError("a KMS client cannot be pickled")

    def _alias(self, name: str) -> str:
        return f"{self._prefix}{name}"

    def _current_key(self, name: str, create: bool) -> str:
        try:  # no cache: another process may have rotated (wraps happen on key creation only)
            key_id = self._kms.describe_key(KeyId=self._alias(name))["KeyMetadata"]["KeyId"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NotFoundException" or not create:
                raise
            key_id = self._new_key(name)
            self._kms.create_alias(AliasName=self._alias(name), TargetKeyId=key_id)
        return str(key_id)

    def _new_key(self, name: str) -> str:
        meta = self._kms.create_key(
            Description=f"streamsec key-encryption key {name}",
            KeyUsage="ENCRYPT_DECRYPT",
            KeySpec="SYMMETRIC_DEFAULT",
        )["KeyMetadata"]
        return str(meta["KeyId"])

    # --- KekProvider -------------------------------------------------------------

    def wrap(
        self, name: str, material: bytes, aad: bytes, *, create: bool = True
    ) -> tuple[str, bytes]:
        try:
            with self._lock:
                key_id = self._current_key(name, create)
            blob = self._kms.encrypt(
                KeyId=key_id, Plaintext=material, EncryptionContext=_context(name, aad)
            )["CiphertextBlob"]
        except _Errors as exc:
            raise KeyAccessError(
                f"KMS refused to wrap: {type(exc).__name__}", key=self._alias(name)
            ) from None
        return key_id, bytes(blob)

    def unwrap(self, name: str, version: str, wrapped: bytes, aad: bytes) -> bytes:
        try:
            reply = self._kms.decrypt(
                CiphertextBlob=wrapped, KeyId=version, EncryptionContext=_context(name, aad)
            )
        except _Errors as exc:
            raise KeyAccessError(
                f"KMS refused to unwrap ({type(exc).__name__}): no access, disabled or "
                "deleted key, or tampered key store",
                key=f"{self._alias(name)}/{version}",
            ) from None
        return bytes(reply["Plaintext"])

    def rotate(self, name: str) -> str:
        try:
            with self._lock:
                self._current_key(name, True)
                key_id = self._new_key(name)
                self._kms.update_alias(AliasName=self._alias(name), TargetKeyId=key_id)
        except _Errors as exc:
            raise KeyAccessError(
                f"KMS refused to rotate: {type(exc).__name__}", key=self._alias(name)
            ) from None
        return key_id

    def destroy_version(self, name: str, version: str) -> None:
        try:
            with self._lock:
                if self._current_key(name, False) == version:
                    raise KeyAccessError("refusing to destroy the current KMS key", key=name)
            self._kms.disable_key(KeyId=version)
            self._kms.schedule_key_deletion(KeyId=version, PendingWindowInDays=7)
        except _Errors as exc:
            raise KeyAccessError(
                f"KMS refused to destroy: {type(exc).__name__}", key=self._alias(name)
            ) from None

    def close(self) -> None:
        self._kms.close()


def _context(name: str, aad: bytes) -> dict[str, str]:
    """The KEK name is in the context too: a version (key id) asked for under another
    name does not decrypt, whatever the IAM policy allows."""
    return {"ssec": base64.b64encode(aad).decode(), "ssec-kek": name}
