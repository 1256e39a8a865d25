"""Settings -> aiokafka options and Faust credentials, one TLS context, clear errors."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from aiokafka.abc import AbstractTokenProvider
from pydantic import SecretStr

from streamsec.broker.tls import issue_client_cert, new_ca
from streamsec.errors import SettingsError
from streamsec.kafka import KafkaConnection, client_options, faust_credentials, ssl_context
from streamsec.settings import Settings


class Tokens(AbstractTokenProvider):
    async def token(self) -> str:
        return "t"


TOKENS = Tokens()


def test_plaintext_has_no_tls_and_no_credentials() -> None:
    assert client_options(Settings()) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(Settings()) is None


def test_ssl_uses_the_ca_and_checks_hostnames(tmp_path: Path) -> None:
    ca = new_ca(tmp_path)
    settings = Settings(security_protocol="SSL", ssl_cafile=ca.cert_file)
    context = ssl_context(settings)
    assert context is not None
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert [c["subject"] for c in context.get_ca_certs()] == [ca.subject_tuple()]
    assert faust_credentials(settings).context.check_hostname
    off = ssl_context(settings.model_copy(update={"ssl_check_hostname": False}))
    assert off is not None and not off.check_hostname


def test_a_client_certificate_is_loaded_for_mtls(tmp_path: Path) -> None:
    ca = new_ca(tmp_path)
    cert, key = issue_client_cert(ca, "worker", tmp_path)
    settings = Settings(
        security_protocol="SSL", ssl_cafile=ca.cert_file, ssl_certfile=cert, ssl_keyfile=key
    )
    options = client_options(settings)
    assert options["security_protocol"] == "SSL"
    assert isinstance(options["ssl_context"], ssl.SSLContext)


@pytest.mark.parametrize("field", ["ssl_cafile", "ssl_certfile", "ssl_keyfile"])
def test_a_missing_file_names_the_setting_and_the_file(tmp_path: Path, field: str) -> None:
    ca = new_ca(tmp_path)
    cert, key = issue_client_cert(ca, "worker", tmp_path)
    values: dict[str, Any] = {"ssl_cafile": ca.cert_file, "ssl_certfile": cert, "ssl_keyfile": key}
    values[field] = tmp_path / "nope.pem"
    with pytest.raises(SettingsError) as info:
        ssl_context(Settings(security_protocol="SSL", **values))
    assert info.value.key == f"STREAMSEC_{field.upper()}"
    assert info.value.file == str(tmp_path / "nope.pem")


def test_a_wrong_key_password_names_the_setting_not_the_password(tmp_path: Path) -> None:
    ca = new_ca(tmp_path)
    cert, key = issue_client_cert(ca, "worker", tmp_path, password=b"right-pass")
    settings = Settings(
        security_protocol="SSL", ssl_cafile=ca.cert_file, ssl_certfile=cert, ssl_keyfile=key,
        ssl_key_password=SecretStr("wrong-pass"),
    )
    with pytest.raises(SettingsError) as info:
        ssl_context(settings)
    assert "STREAMSEC_SSL_KEY_PASSWORD" in str(info.value)
    assert "wrong-pass" not in str(info.value)
    good = settings.model_copy(update={"ssl_key_password": SecretStr("right-pass")})
    assert ssl_context(good) is not None


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_reaches_aiokafka_and_faust_the_same_way(mechanism: str) -> None:
    settings = Settings(
        security_protocol="SASL_SSL", sasl_mechanism=mechanism, sasl_username="svc",
        sasl_password=SecretStr("pw"),
    )
    options = client_options(settings)
    creds = faust_credentials(settings)
    assert (options["sasl_mechanism"], creds.mechanism.value) == (mechanism, mechanism)
    assert (options["sasl_plain_username"], creds.username) == ("svc", "svc")
    assert creds.protocol.value == "SASL_SSL"
    conn = KafkaConnection("h:9093", options, settings)
    assert "pw" not in repr(conn)
    assert conn.principal == "User:svc"
    assert conn.client()["bootstrap_servers"] == "h:9093"


def test_oauthbearer_takes_a_token_provider_hook() -> None:
    settings = Settings(
        security_protocol="SASL_SSL", sasl_mechanism="OAUTHBEARER",
        sasl_oauth_token_provider=f"{__name__}:TOKENS",
    )
    assert client_options(settings)["sasl_oauth_token_provider"] is TOKENS
    assert faust_credentials(settings).oauth_cb is TOKENS
    by_class = settings.model_copy(update={"sasl_oauth_token_provider": f"{__name__}:Tokens"})
    assert isinstance(client_options(by_class)["sasl_oauth_token_provider"], Tokens)


@pytest.mark.parametrize("spec", ["nomodule", "no.such.module:x", f"{__name__}:Settings"])
def test_a_bad_token_provider_is_a_settings_error(spec: str) -> None:
    settings = Settings(
        security_protocol="SASL_SSL", sasl_mechanism="OAUTHBEARER", sasl_oauth_token_provider=spec
    )
    with pytest.raises(SettingsError) as info:
        client_options(settings)
    assert info.value.key == "STREAMSEC_SASL_OAUTH_TOKEN_PROVIDER"
