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

    # --- Keys ------------------------------------------------------------------
    keyring: Path = Field(default=DEFAULT_HOME / "keyring.json")
    kek: SecretStr | None = Field(
        default=None,
        description="Base64 key-encryption key; overrides the one stored in the keyring.",
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
