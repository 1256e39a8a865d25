"""One frozen settings object, read from ``STREAMSEC_*`` environment variables.

Secrets are :class:`pydantic.SecretStr` and are masked whenever the settings are
dumped or printed. :func:`Settings.safe_dump` is what logs and ``--show-config`` use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from streamsec.errors import SettingsError

__all__ = ["OTHER_VARIABLES", "Settings", "check_environment", "load_settings"]

DEFAULT_HOME = Path(".streamsec")


class Settings(BaseSettings):
    """All runtime settings. Environment: ``STREAMSEC_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="STREAMSEC_", frozen=True, extra="forbid")

    # --- Kafka -----------------------------------------------------------------
    broker: str | None = Field(
        default=None,
        description="Bootstrap servers of an existing cluster. Unset: the local broker.",
    )
    app_id: str = Field(default="streamsec", description="Faust app id = consumer group.")
    processing_guarantee: Literal["at_least_once", "exactly_once"] = "at_least_once"
    topic_partitions: int = Field(default=1, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1)
    worker_id: str | None = Field(default=None, description="Defaults to host name + pid.")

    # --- Kafka connection (every client is built from these by streamsec.kafka) -----
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="How clients talk to the brokers.",
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    sasl_oauth_token_provider: str | None = Field(
        default=None,
        description="OAUTHBEARER: 'module:callable' returning an aiokafka AbstractTokenProvider.",
    )
    ssl_cafile: Path | None = Field(default=None, description="CA bundle (PEM) to trust.")
    ssl_certfile: Path | None = Field(default=None, description="Client certificate (mTLS).")
    ssl_keyfile: Path | None = Field(default=None, description="Client private key (mTLS).")
    ssl_key_password: SecretStr | None = None
    ssl_check_hostname: bool = Field(
        default=True, description="Verify the broker certificate names the host connected to.",
    )
    kafka_connect_timeout: float = Field(
        default=20.0, gt=0, le=600, description="Seconds to reach and authenticate to Kafka.",
    )
    forward_headers: str = Field(
        default="traceparent",
        description="Input header names carried over to the protected record (comma-separated;"
        " unscanned, so only headers that never hold personal data).",
    )

    # --- Records ----------------------------------------------------------------
    max_record_bytes: int = Field(default=1_048_576, ge=64)
    max_depth: int = Field(default=32, ge=1, le=512)
    max_fields: int = Field(
        default=5_000, ge=1,
        description="Most values (object members and list items) in one record.",
    )
    max_text_chars: int = Field(
        default=262_144, ge=1,
        description="Most characters of text (string values and keys) one record may hold.",
    )
    record_time_budget: float = Field(
        default=10.0, gt=0,
        description="Seconds of detection one record may take before it is dead-lettered.",
    )
    batch_size: int = Field(
        default=64, ge=1, le=10_000,
        description="Most records per batch; a batch is whatever is waiting, up to this.",
    )
    stream_buffer_bytes: int = Field(
        default=33_554_432, ge=65_536,
        description="Bytes of records (keys and values) read ahead for an agent: past "
        "this its partitions leave the fetch until it has worked the buffer down.",
    )
    inline_batch_bytes: int = Field(
        default=32_768, ge=0,
        description="A batch of at most this many bytes (keys and values) is protected on "
        "the worker's event loop, a bigger one in its agent's thread; 0: always the thread.",
    )

    # --- Keys ------------------------------------------------------------------
    keyring: Path = Field(default=DEFAULT_HOME / "keyring.json")
    kek: SecretStr | None = Field(
        default=None,
        description="Base64 key-encryption key; overrides the one stored in the keyring.",
    )

    # --- KEK providers and key store (issue 17; docs/keys.md) ---------------------
    kek_provider: Literal["local", "pkcs11", "vault", "aws-kms"] = Field(
        default="local", description="Who holds the key-encryption keys."
    )
    kek_file: Path | None = Field(
        default=None, description="local provider: KEK file; default kek.json beside the keyring."
    )
    pkcs11_module: Path = Path("/usr/lib/softhsm/libsofthsm2.so")
    pkcs11_token_label: str = "streamsec"  # noqa: S105 - a label, not a secret
    pkcs11_pin: SecretStr | None = None
    vault_addr: str | None = None
    vault_token: SecretStr | None = None
    vault_mount: str = "transit"
    vault_key_prefix: str = "streamsec-"
    aws_kms_endpoint: str | None = Field(default=None, description="Endpoint override.")
    aws_region: str = "us-east-1"
    aws_kms_alias_prefix: str = "alias/streamsec-"
    key_store: Literal["file", "kafka"] = Field(
        default="file", description="Where wrapped keys live: the keyring file or a Kafka topic."
    )
    key_registry_topic: str = Field(
        default="streamsec.keys", description="kafka key store: its compacted topic."
    )

    # --- Audit -----------------------------------------------------------------
    audit_signing_key: Path | None = Field(
        default=None, description="Ed25519 PEM (0600). Default: <home>/audit/signing.key.",
    )
    audit_pseudonym_key: Path | None = Field(
        default=None, description="Base64 HMAC key (0600). Default: <home>/audit/pseudonym.key.",
    )
    audit_trust_store: Path | None = Field(
        default=None, description="Certified audit public keys (for audit verify).",
    )
    audit_digest_interval: float = Field(
        default=60.0, gt=0, le=86_400, description="Seconds between signed audit digests.",
    )
    audit_granularity: Literal["batch", "record"] = Field(
        default="batch",
        description="One audit event per batch and source partition listing every record "
        "(batch), or one event per record (record).",
    )

    # --- Ops -------------------------------------------------------------------
    home: Path = Field(default=DEFAULT_HOME, description="Cache and state directory.")
    metrics_port: int = Field(default=9108, ge=0, le=65535)
    web_port: int = Field(default=6066, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    stop_timeout: float = Field(
        default=30.0, gt=0,
        description="Seconds a worker may take to stop after SIGTERM before it exits anyway.",
    )

    def safe_dump(self) -> dict[str, Any]:
        """A JSON-safe dump with every secret masked."""
        return self.model_dump(mode="json")


OTHER_VARIABLES = frozenset({"STREAMSEC_OPENLINEAGE_SCHEMAS"})
"""``STREAMSEC_*`` variables read outside this model (test tooling)."""

_REPLACED = {
    "STREAMSEC_KAFKA_USERNAME": "STREAMSEC_SASL_USERNAME",
    "STREAMSEC_KAFKA_PASSWORD": "STREAMSEC_SASL_PASSWORD",
}


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """An unknown ``STREAMSEC_*`` variable (a typo would silently change nothing, e.g.
    downgrade security) stops start-up naming it."""
    env = os.environ if environ is None else environ
    known = {f"STREAMSEC_{name.upper()}" for name in Settings.model_fields} | OTHER_VARIABLES
    for raw in sorted(env):
        name = raw.upper()
        if not name.startswith("STREAMSEC_") or name in known:
            continue
        if name in _REPLACED:
            raise SettingsError(
                f"{name} is no longer read: set STREAMSEC_SECURITY_PROTOCOL, "
                f"STREAMSEC_SASL_MECHANISM and {_REPLACED[name]} instead",
                key=name,
            )
        raise SettingsError(f"unknown setting {name}: unset it or fix its name", key=name)


def _check_kafka(settings: Settings) -> None:
    protocol, mechanism = settings.security_protocol, settings.sasl_mechanism
    sasl = protocol.startswith("SASL_")
    if sasl and mechanism is None:
        raise SettingsError(
            f"STREAMSEC_SECURITY_PROTOCOL={protocol} needs STREAMSEC_SASL_MECHANISM",
            key="STREAMSEC_SASL_MECHANISM",
        )
    if not sasl and (mechanism or settings.sasl_username or settings.sasl_password):
        raise SettingsError(
            "SASL settings given but STREAMSEC_SECURITY_PROTOCOL is not SASL_SSL/SASL_PLAINTEXT",
            key="STREAMSEC_SECURITY_PROTOCOL",
        )
    if sasl and mechanism != "OAUTHBEARER":
        for key, value in (("USERNAME", settings.sasl_username),
                           ("PASSWORD", settings.sasl_password)):
            if not value:
                raise SettingsError(
                    f"SASL {mechanism} needs STREAMSEC_SASL_{key}", key=f"STREAMSEC_SASL_{key}"
                )
    if mechanism == "OAUTHBEARER" and not settings.sasl_oauth_token_provider:
        raise SettingsError(
            "SASL OAUTHBEARER needs a token provider",
            key="STREAMSEC_SASL_OAUTH_TOKEN_PROVIDER",
        )
    if not protocol.endswith("SSL") and (settings.ssl_cafile or settings.ssl_certfile):
        raise SettingsError(
            "TLS files given but STREAMSEC_SECURITY_PROTOCOL is not SSL/SASL_SSL",
            key="STREAMSEC_SECURITY_PROTOCOL",
        )
    if (settings.ssl_certfile is None) != (settings.ssl_keyfile is None):
        missing = "KEYFILE" if settings.ssl_keyfile is None else "CERTFILE"
        raise SettingsError(
            "a client certificate needs both STREAMSEC_SSL_CERTFILE and STREAMSEC_SSL_KEYFILE",
            key=f"STREAMSEC_SSL_{missing}",
        )


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; a bad value or an unknown ``STREAMSEC_*`` variable raises
    :class:`SettingsError` naming the variable."""
    check_environment()
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "?"
        raise SettingsError(
            f"invalid setting: {first['msg']}", key=f"STREAMSEC_{name.upper()}"
        ) from None
    _check_kafka(settings)
    return settings
