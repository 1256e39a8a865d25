"""Connection settings -> client options, for aiokafka and for Faust, in one place.

:func:`client_options` gives the keyword arguments of every aiokafka client
(producer, consumer, admin); :func:`faust_credentials` gives the same connection as
a Faust ``broker_credentials`` object (Faust turns it back into the same aiokafka
options). Both come from one :func:`ssl_context` and one token provider, so the
worker and the commands always connect the same way.

Hostname verification is on unless ``STREAMSEC_SSL_CHECK_HOSTNAME=false``. Without
``STREAMSEC_SSL_CAFILE`` the system's trusted CAs are used (Confluent Cloud, MSK).
A missing or unreadable file raises :class:`SettingsError` naming the setting and the
file; secrets (passwords) never appear in a message or a ``repr``.
"""

from __future__ import annotations

import importlib
import ssl
from pathlib import Path
from typing import Any

from streamsec.errors import SettingsError
from streamsec.settings import Settings

__all__ = ["client_options", "faust_credentials", "load_token_provider", "ssl_context"]


def _readable(path: Path, key: str) -> str:
    if not path.is_file():
        raise SettingsError("file not found", key=key, file=str(path))
    try:
        with path.open("rb"):
            pass
    except OSError:
        raise SettingsError("file cannot be read", key=key, file=str(path)) from None
    return str(path)


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context of ``SSL``/``SASL_SSL`` connections (None for plaintext)."""
    if not settings.security_protocol.endswith("SSL"):
        return None
    cafile = settings.ssl_cafile
    ca = _readable(cafile, "STREAMSEC_SSL_CAFILE") if cafile else None
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    except ssl.SSLError:
        raise SettingsError(
            "not a PEM CA certificate", key="STREAMSEC_SSL_CAFILE", file=str(cafile)
        ) from None
    context.check_hostname = settings.ssl_check_hostname
    context.verify_mode = ssl.CERT_REQUIRED
    if settings.ssl_certfile is not None and settings.ssl_keyfile is not None:
        cert = _readable(settings.ssl_certfile, "STREAMSEC_SSL_CERTFILE")
        key = _readable(settings.ssl_keyfile, "STREAMSEC_SSL_KEYFILE")
        password = settings.ssl_key_password
        try:
            context.load_cert_chain(
                cert, key, password.get_secret_value() if password else None
            )
        except (ssl.SSLError, ValueError):
            raise SettingsError(
                "the client certificate and key do not load (not PEM, not a pair, "
                "or a wrong STREAMSEC_SSL_KEY_PASSWORD)",
                key="STREAMSEC_SSL_KEYFILE", file=str(settings.ssl_keyfile),
            ) from None
    return context


def load_token_provider(spec: str) -> Any:
    """``module:attribute`` -> an aiokafka ``AbstractTokenProvider`` (an instance, or a
    class / zero-argument factory returning one)."""
    from aiokafka.abc import AbstractTokenProvider

    key = "STREAMSEC_SASL_OAUTH_TOKEN_PROVIDER"
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise SettingsError("the token provider must look like 'module:attribute'", key=key)
    try:
        target = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        raise SettingsError("the token provider cannot be imported", key=key) from None
    provider = target if isinstance(target, AbstractTokenProvider) else None
    if provider is None and callable(target):
        try:
            provider = target()
        except Exception as exc:  # noqa: BLE001 - user code; reported by type only
            raise SettingsError(
                f"the token provider failed to start ({type(exc).__name__})", key=key
            ) from None
    if not isinstance(provider, AbstractTokenProvider):
        raise SettingsError("the token provider is not an AbstractTokenProvider", key=key)
    return provider


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``AIOKafkaProducer``/``AIOKafkaConsumer``/the admin client."""
    options: dict[str, Any] = {"security_protocol": settings.security_protocol}
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    mechanism = settings.sasl_mechanism
    if settings.security_protocol.startswith("SASL_") and mechanism is not None:
        options["sasl_mechanism"] = mechanism
        if mechanism == "OAUTHBEARER":
            options["sasl_oauth_token_provider"] = load_token_provider(
                settings.sasl_oauth_token_provider or ""
            )
        else:
            password = settings.sasl_password
            options["sasl_plain_username"] = settings.sasl_username
            options["sasl_plain_password"] = password.get_secret_value() if password else ""
    return options


def faust_credentials(settings: Settings) -> Any:
    """The same connection as Faust ``broker_credentials`` (None for plaintext)."""
    import faust

    options = client_options(settings)
    protocol = settings.security_protocol
    context = options.get("ssl_context")
    if protocol == "PLAINTEXT":
        return None
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    if settings.sasl_mechanism == "OAUTHBEARER":
        return faust.OAuthCredentials(
            oauth_cb=options["sasl_oauth_token_provider"], ssl_context=context
        )
    return faust.SASLCredentials(
        username=options["sasl_plain_username"], password=options["sasl_plain_password"],
        ssl_context=context, mechanism=settings.sasl_mechanism,
    )
