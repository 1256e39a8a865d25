"""One frozen settings object, read from ``STREAMSEC_*`` environment variables.

Secrets are :class:`pydantic.SecretStr` and are masked whenever the settings are
dumped or printed. :func:`Settings.safe_dump` is what logs and ``--show-config`` use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from streamsec.errors import SettingsError

__all__ = ["Settings", "load_settings"]

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
    kafka_username: str | None = None
    kafka_password: SecretStr | None = None

    # --- Records ----------------------------------------------------------------
    max_record_bytes: int = Field(default=1_048_576, ge=64)
    max_depth: int = Field(default=32, ge=1, le=512)
    batch_size: int = Field(
        default=64, ge=1, le=10_000,
        description="Most records per batch; a batch is whatever is waiting, up to this.",
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
    key_store: Literal["file"] = Field(default="file", description="Where wrapped keys live.")

    # --- Ops -------------------------------------------------------------------
    home: Path = Field(default=DEFAULT_HOME, description="Cache and state directory.")
    metrics_port: int = Field(default=9108, ge=0, le=65535)
    web_port: int = Field(default=6066, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    def safe_dump(self) -> dict[str, Any]:
        """A JSON-safe dump with every secret masked."""
        return self.model_dump(mode="json")


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; a bad value raises :class:`SettingsError` naming the variable."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "?"
        raise SettingsError(
            f"invalid setting: {first['msg']}", key=f"STREAMSEC_{name.upper()}"
        ) from None
