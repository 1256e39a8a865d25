"""Where Kafka is and how to reach it: one :class:`KafkaConnection` from the settings.

Bootstrap resolution, the one way: an explicit ``--bootstrap`` override, else
``STREAMSEC_BROKER``, else the project's local development broker (started when it
is not running; see :mod:`streamsec.broker`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from streamsec.kafka.options import client_options
from streamsec.settings import Settings

__all__ = ["KafkaConnection", "connect", "resolve_bootstrap"]


def resolve_bootstrap(settings: Settings, override: str | None = None) -> str:
    """``override``, ``settings.broker``, or the local broker (started when needed)."""
    if override:
        return override
    if settings.broker:
        return settings.broker
    from streamsec.broker import ensure_broker

    return str(ensure_broker(settings))


@dataclass(frozen=True)
class KafkaConnection:
    """A bootstrap address and the client options (TLS context, SASL) to use it.

    ``options`` hold secrets and never appear in the ``repr``."""

    bootstrap: str
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    settings: Settings | None = field(default=None, repr=False, compare=False)

    @property
    def principal(self) -> str:
        """Who we connect as, for messages (a user name or a certificate, never a secret)."""
        s = self.settings
        if s is None or s.security_protocol == "PLAINTEXT":
            return "this client"
        if s.sasl_mechanism == "OAUTHBEARER":
            return "the OAUTHBEARER principal"
        if s.sasl_username:
            return f"User:{s.sasl_username}"
        if s.ssl_certfile:
            return f"the certificate in {s.ssl_certfile}"
        return "this client"

    def client(self, **extra: Any) -> dict[str, Any]:
        """Keyword arguments of an aiokafka client: bootstrap, security and ``extra``."""
        return {"bootstrap_servers": self.bootstrap, **self.options, **extra}


def connect(settings: Settings, override: str | None = None) -> KafkaConnection:
    """The connection the settings describe (options first: a bad file fails fast)."""
    options = client_options(settings)
    return KafkaConnection(resolve_bootstrap(settings, override), options, settings)
