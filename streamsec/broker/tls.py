"""Throwaway TLS material for the secured local broker, made with ``cryptography``.

One CA (EC P-256, valid 30 days) signs the broker certificate (``subjectAltName``
``IP:127.0.0.1`` only, so a client that connects to ``localhost`` sees a hostname
mismatch, as it must) and one client certificate per principal (``CN=<name>``, which
the broker maps to ``User:<name>``). The broker reads a PKCS#12 keystore and a PEM
truststore; clients read PEM files. Private keys are written ``0600``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertificateAuthority", "issue_client_cert", "issue_server_cert", "new_ca"]

_VALID = dt.timedelta(days=30)


def _write(path: Path, data: bytes, *, private: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


def _key_pem(key: ec.EllipticCurvePrivateKey, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


@dataclass(frozen=True)
class CertificateAuthority:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_file: Path

    @property
    def name(self) -> str:
        return str(self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)

    def subject_tuple(self) -> tuple[tuple[tuple[str, str], ...], ...]:
        """The subject as :meth:`ssl.SSLContext.get_ca_certs` reports it."""
        return ((("commonName", self.name),),)


def _builder(subject: str, issuer: x509.Name, public: ec.EllipticCurvePublicKey
             ) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALID)
    )


def new_ca(folder: Path, name: str = "streamsec dev CA") -> CertificateAuthority:
    """A new CA; its certificate goes to ``<folder>/ca.pem`` (its key stays in memory)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        _builder(name, subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    path = _write(folder / "ca.pem", cert.public_bytes(serialization.Encoding.PEM))
    return CertificateAuthority(cert, key, path)


def _issue(
    ca: CertificateAuthority, name: str, *, hosts: tuple[str, ...] = ()
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = _builder(name, ca.cert.subject, key.public_key()).add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True
    ).add_extension(
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
        critical=False,
    ).add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False
    )
    if hosts:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca.key, hashes.SHA256()), key


def issue_server_cert(
    ca: CertificateAuthority, folder: Path, password: bytes, *, name: str = "broker",
    hosts: tuple[str, ...] = ("127.0.0.1",),
) -> Path:
    """The broker's PKCS#12 keystore (certificate, key and CA) at ``<folder>/<name>.p12``.
    Its ``CN`` is ``name`` (the broker's own principal on mTLS listeners)."""
    cert, key = _issue(ca, name, hosts=hosts)
    data = pkcs12.serialize_key_and_certificates(
        name.encode(), key, cert, [ca.cert], serialization.BestAvailableEncryption(password)
    )
    return _write(folder / f"{name}.p12", data, private=True)


def issue_client_cert(
    ca: CertificateAuthority, name: str, folder: Path, *, password: bytes | None = None
) -> tuple[Path, Path]:
    """``(<name>.pem, <name>.key)``: a client certificate with ``CN=<name>`` and its key
    (PKCS#8, encrypted when ``password`` is given)."""
    cert, key = _issue(ca, name)
    cert_file = _write(folder / f"{name}.pem", cert.public_bytes(serialization.Encoding.PEM))
    key_file = _write(folder / f"{name}.key", _key_pem(key, password), private=True)
    return cert_file, key_file
