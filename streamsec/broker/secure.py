"""The secured variant of the local broker (``streamsec broker up --secure``, tests).

Three listeners on loopback, all TLS with a throwaway CA (:mod:`streamsec.broker.tls`):

* ``SASL_SSL`` (the instance's main port): SCRAM-SHA-512 users, whose credentials
  are written into the KRaft metadata when the storage is formatted (KIP-900);
* ``MTLS`` (``mtls_port``): TLS that requires a client certificate; ``CN=<name>``
  becomes ``User:<name>`` (``ssl.principal.mapping.rules``); also the inter-broker
  listener;
* ``CONTROLLER``: TLS with client certificates; the broker talks to its controller
  as ``User:broker``.

``StandardAuthorizer`` with ``allow.everyone.if.no.acl.found=false``: only
``User:admin`` and ``User:broker`` are super users; every other principal needs
ACLs (``streamsec acls --apply``). The same names exist as SCRAM users and as client
certificates, so one set of ACLs serves both listeners.

Files under ``<instance>/tls/``: ``ca.pem``, ``<user>.pem`` + ``<user>.key`` per user,
``broker.p12``; ``<instance>/credentials.json`` (0600) holds the SCRAM passwords and
the keystore password. All are throwaway: delete the instance to make new ones.
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
from dataclasses import dataclass
from pathlib import Path

from streamsec.broker.tls import issue_client_cert, issue_server_cert, new_ca
from streamsec.errors import BrokerError

__all__ = [
    "ADMIN",
    "DEFAULT_USERS",
    "SCRAM_MECHANISM",
    "SecureMaterial",
    "secure_properties",
]

ADMIN = "admin"
BROKER = "broker"
SCRAM_MECHANISM = "SCRAM-SHA-512"
DEFAULT_USERS = ("streamsec", "reader")


@dataclass(frozen=True)
class SecureMaterial:
    """The TLS files and SCRAM credentials of one secured instance."""

    dir: Path
    passwords: dict[str, str]
    keystore_password: str

    @property
    def tls_dir(self) -> Path:
        return self.dir / "tls"

    @property
    def ca_file(self) -> Path:
        return self.tls_dir / "ca.pem"

    @property
    def keystore(self) -> Path:
        return self.tls_dir / f"{BROKER}.p12"

    def cert(self, user: str) -> tuple[Path, Path]:
        """``(certificate, key)`` of ``user``'s client certificate."""
        if user not in self.passwords:
            raise BrokerError("no such user on the secured broker", key=user)
        return self.tls_dir / f"{user}.pem", self.tls_dir / f"{user}.key"

    @property
    def users(self) -> tuple[str, ...]:
        return tuple(self.passwords)

    @classmethod
    def path(cls, folder: Path) -> Path:
        return folder / "credentials.json"

    @classmethod
    def load(cls, folder: Path) -> SecureMaterial | None:
        try:
            raw = json.loads(cls.path(folder).read_text(encoding="utf-8"))
            return cls(folder, dict(raw["passwords"]), str(raw["keystore_password"]))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            raise BrokerError(
                "corrupt credentials file: delete the instance", file=str(cls.path(folder))
            ) from None

    @classmethod
    def create(cls, folder: Path, users: tuple[str, ...] = DEFAULT_USERS) -> SecureMaterial:
        """New CA, broker keystore, one client certificate and SCRAM password per user."""
        names = tuple(dict.fromkeys((ADMIN, *users)))
        material = cls(folder, {u: secrets.token_hex(16) for u in names}, secrets.token_hex(16))
        ca = new_ca(material.tls_dir)
        issue_server_cert(ca, material.tls_dir, material.keystore_password.encode())
        for user in names:
            issue_client_cert(ca, user, material.tls_dir)
        path = cls.path(folder)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"passwords": material.passwords,
                       "keystore_password": material.keystore_password}, handle, indent=2)
        return material

    def scram_arguments(self) -> list[str]:
        """``kafka-storage format`` arguments that create the SCRAM users (KIP-900)."""
        out: list[str] = []
        for user, password in self.passwords.items():
            out += ["--add-scram", f"{SCRAM_MECHANISM}=[name={user},password={password}]"]
        return out

    def admin_context(self) -> ssl.SSLContext:
        """A client TLS context authenticated as ``User:admin`` (readiness probe)."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        cert, key = self.cert(ADMIN)
        context.load_cert_chain(str(cert), str(key))
        return context

    def environment(self, user: str, *, bootstrap: str, mtls_bootstrap: str,
                    mtls: bool = False) -> dict[str, str]:
        """The ``STREAMSEC_*`` variables that connect as ``user`` (SCRAM or mTLS)."""
        if mtls:
            cert, key = self.cert(user)
            return {
                "STREAMSEC_BROKER": mtls_bootstrap, "STREAMSEC_SECURITY_PROTOCOL": "SSL",
                "STREAMSEC_SSL_CAFILE": str(self.ca_file),
                "STREAMSEC_SSL_CERTFILE": str(cert), "STREAMSEC_SSL_KEYFILE": str(key),
            }
        return {
            "STREAMSEC_BROKER": bootstrap, "STREAMSEC_SECURITY_PROTOCOL": "SASL_SSL",
            "STREAMSEC_SASL_MECHANISM": SCRAM_MECHANISM, "STREAMSEC_SASL_USERNAME": user,
            "STREAMSEC_SASL_PASSWORD": self.passwords[user],
            "STREAMSEC_SSL_CAFILE": str(self.ca_file),
        }


def secure_properties(
    material: SecureMaterial, *, host: str, port: int, mtls_port: int, controller_port: int
) -> dict[str, str]:
    """The ``server.properties`` entries of the secured listeners and the authorizer."""
    controller = f"{host}:{controller_port}"
    listeners = f"SASL_SSL://{host}:{port},MTLS://{host}:{mtls_port},CONTROLLER://{controller}"
    return {
        "listeners": listeners,
        "advertised.listeners": listeners,
        "inter.broker.listener.name": "MTLS",
        "listener.security.protocol.map": "SASL_SSL:SASL_SSL,MTLS:SSL,CONTROLLER:SSL",
        "sasl.enabled.mechanisms": SCRAM_MECHANISM,
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config":
            "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        "ssl.keystore.type": "PKCS12",
        "ssl.keystore.location": str(material.keystore),
        "ssl.keystore.password": material.keystore_password,
        "ssl.key.password": material.keystore_password,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(material.ca_file),
        "ssl.endpoint.identification.algorithm": "https",
        "listener.name.mtls.ssl.client.auth": "required",
        "listener.name.controller.ssl.client.auth": "required",
        "ssl.principal.mapping.rules": "RULE:^CN=([^,]+)$/$1/,DEFAULT",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{ADMIN};User:{BROKER}",
    }
