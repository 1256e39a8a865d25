"""The audit trust store: which public keys may sign which writers' audit chains.

A JSON file holding the operator's Ed25519 public key and *certificates*: each
binds one writer public key to a pattern of writer ids (``fnmatch``: ``worker-1``,
``payments-*``, ``*``) and is signed by the operator key. Verifiers need only this
file (and, ideally, the operator key id pinned out of band); it holds no secret,
so handing it to auditors gives them no power to write the trail.

    {"version": 1,
     "operator": {"key_id": "ed25519:...", "public_key": "<base64>"},
     "certificates": [{"key_id": "...", "public_key": "...", "writers": "worker-*",
                       "issued": "2026-...Z", "signature": "<base64>"}]}

A certificate whose signature does not verify under the operator key is an
error when the store is loaded, never silently skipped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from streamsec.errors import ConfigError
from streamsec.events.canonical import canonical_json
from streamsec.events.cloudevents import rfc3339
from streamsec.events.signing import (
    key_id_of,
    public_from_b64,
    public_key_b64,
    signature_ok,
)

__all__ = ["Certificate", "TrustStore", "certify", "new_trust_store"]

VERSION: Final = 1
_CERT_DOMAIN: Final = "streamsec.audit.certificate.v1"


@dataclass(frozen=True, slots=True)
class Certificate:
    key_id: str
    public_key: Ed25519PublicKey
    writers: str
    """fnmatch pattern of the writer ids this key may sign for."""

    def allows(self, writer: str) -> bool:
        return fnmatchcase(writer, self.writers)


def _cert_message(operator_key_id: str, entry: Mapping[str, Any]) -> bytes:
    body = {
        "domain": _CERT_DOMAIN,
        "operator": operator_key_id,
        "key_id": entry.get("key_id"),
        "public_key": entry.get("public_key"),
        "writers": entry.get("writers"),
        "issued": entry.get("issued"),
    }
    return canonical_json(body)


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class TrustStore:
    """Certified writer keys, by key id."""

    def __init__(self, operator_key_id: str, certificates: Mapping[str, Certificate]) -> None:
        self.operator_key_id = operator_key_id
        self.certificates = dict(certificates)

    def __repr__(self) -> str:
        return f"TrustStore(operator={self.operator_key_id}, keys={len(self.certificates)})"

    def key(self, key_id: str, writer: str | None = None) -> Ed25519PublicKey | None:
        """The public key of ``key_id`` if certified (for ``writer``, when given)."""
        cert = self.certificates.get(key_id)
        if cert is None or (writer is not None and not cert.allows(writer)):
            return None
        return cert.public_key

    @classmethod
    def of_signers(cls, *public_keys: bytes, writers: str = "*") -> TrustStore:
        """A store trusting these raw public keys directly (tests, tools)."""
        certs = {
            key_id_of(raw): Certificate(
                key_id_of(raw), Ed25519PublicKey.from_public_bytes(raw), writers
            )
            for raw in public_keys
        }
        return cls("none", certs)

    @classmethod
    def load(cls, path: Path, *, pin: str | None = None) -> TrustStore:
        """Read and check every certificate; ``pin``: the operator key id expected."""
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            raise ConfigError("cannot read the audit trust store (JSON)", file=str(path)) from None
        try:
            return cls.from_document(doc, pin=pin)
        except ValueError as exc:
            raise ConfigError(f"invalid audit trust store: {exc}", file=str(path)) from None

    @classmethod
    def from_document(cls, doc: Any, *, pin: str | None = None) -> TrustStore:
        if not isinstance(doc, dict) or doc.get("version") != VERSION:
            raise ValueError("not a version 1 trust store")
        operator = doc.get("operator")
        if not isinstance(operator, dict) or not isinstance(operator.get("public_key"), str):
            raise ValueError("no operator public key")
        try:
            op_key = public_from_b64(operator["public_key"])
        except ValueError:
            raise ValueError("the operator public key is not base64 Ed25519") from None
        op_id = key_id_of(_raw(op_key))
        if operator.get("key_id") != op_id:
            raise ValueError("the operator key id does not match its public key")
        if pin is not None and pin != op_id:
            raise ValueError(f"the operator key is {op_id}, not the pinned {pin}")
        certs: dict[str, Certificate] = {}
        entries = doc.get("certificates", [])
        if not isinstance(entries, list):
            raise ValueError("certificates is not a list")
        for number, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict):
                raise ValueError(f"certificate {number} is not an object")
            try:
                public = public_from_b64(str(entry.get("public_key", "")))
            except ValueError:
                raise ValueError(f"certificate {number}: bad public key") from None
            key_id = key_id_of(_raw(public))
            writers = entry.get("writers")
            if entry.get("key_id") != key_id or not isinstance(writers, str) or not writers:
                raise ValueError(f"certificate {number}: key id or writers do not match")
            if not signature_ok(op_key, entry.get("signature"), _cert_message(op_id, entry)):
                raise ValueError(f"certificate {number} ({key_id}): not signed by the operator")
            certs[key_id] = Certificate(key_id, public, writers)
        return cls(op_id, certs)


def new_trust_store(path: Path, operator: Ed25519PrivateKey) -> str:
    """Write an empty trust store for ``operator``; returns the operator key id."""
    raw = _raw(operator.public_key())
    doc = {
        "version": VERSION,
        "operator": {"key_id": key_id_of(raw), "public_key": public_key_b64(raw)},
        "certificates": [],
    }
    _write(path, doc)
    return key_id_of(raw)


def certify(
    path: Path, operator: Ed25519PrivateKey, public_key: bytes, writers: str
) -> str:
    """Add (or replace) the certificate of ``public_key`` for ``writers``; its key id."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError("cannot read the audit trust store (JSON)", file=str(path)) from None
    op_raw = _raw(operator.public_key())
    op_id = key_id_of(op_raw)
    if not isinstance(doc, dict) or doc.get("operator", {}).get("key_id") != op_id:
        raise ConfigError("the trust store belongs to another operator key", file=str(path))
    if len(public_key) != 32 or not writers:
        raise ConfigError("an Ed25519 public key is 32 bytes; writers must be set")
    key_id = key_id_of(public_key)
    entry: dict[str, Any] = {
        "key_id": key_id,
        "public_key": public_key_b64(public_key),
        "writers": writers,
        "issued": rfc3339(),
    }
    entry["signature"] = public_key_b64(operator.sign(_cert_message(op_id, entry)))
    kept = [c for c in doc.get("certificates", []) if c.get("key_id") != key_id]
    doc["certificates"] = [*kept, entry]
    _write(path, doc)
    return key_id


def _write(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
