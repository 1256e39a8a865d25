"""Kafka connection settings: exact names, fail-fast checks, unknown variables."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from streamsec.errors import SettingsError
from streamsec.settings import Settings, check_environment, load_settings


def test_the_connection_settings_have_the_documented_names() -> None:
    names = set(Settings.model_fields)
    assert {
        "security_protocol", "sasl_mechanism", "sasl_username", "sasl_password",
        "ssl_cafile", "ssl_certfile", "ssl_keyfile", "ssl_key_password",
        "ssl_check_hostname", "sasl_oauth_token_provider",
    } <= names
    settings = Settings()
    assert settings.ssl_check_hostname is True
    assert settings.security_protocol == "PLAINTEXT"


def test_secrets_are_masked() -> None:
    settings = Settings(
        security_protocol="SASL_SSL", sasl_mechanism="PLAIN", sasl_username="u",
        sasl_password=SecretStr("s3cret-pw"), ssl_key_password=SecretStr("k3y-pw"),
    )
    dumped = repr(settings) + str(settings.safe_dump())
    assert "s3cret-pw" not in dumped
    assert "k3y-pw" not in dumped


def test_a_mistyped_variable_stops_start_up_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMSEC_SECURTY_PROTOCOL", "SASL_SSL")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert info.value.key == "STREAMSEC_SECURTY_PROTOCOL"
    assert "STREAMSEC_SECURTY_PROTOCOL" in str(info.value)


def test_every_model_field_and_the_allow_list_pass() -> None:
    env = {f"STREAMSEC_{name.upper()}": "x" for name in Settings.model_fields}
    env["STREAMSEC_OPENLINEAGE_SCHEMAS"] = "/x"
    env["streamsec_broker"] = "h:1"  # case-insensitive, like the settings
    env["OTHER"] = "y"
    check_environment(env)


@pytest.mark.parametrize("old", ["STREAMSEC_KAFKA_USERNAME", "STREAMSEC_KAFKA_PASSWORD"])
def test_the_old_credentials_name_the_new_settings(old: str) -> None:
    with pytest.raises(SettingsError) as info:
        check_environment({old: "svc"})
    assert info.value.key == old
    assert "STREAMSEC_SECURITY_PROTOCOL" in info.value.message
    assert "STREAMSEC_SASL_" in info.value.message
    assert "svc" not in str(info.value)


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"STREAMSEC_SECURITY_PROTOCOL": "SASL_SSL"}, "STREAMSEC_SASL_MECHANISM"),
        ({"STREAMSEC_SECURITY_PROTOCOL": "SASL_SSL", "STREAMSEC_SASL_MECHANISM": "SCRAM-SHA-512",
          "STREAMSEC_SASL_USERNAME": "u"}, "STREAMSEC_SASL_PASSWORD"),
        ({"STREAMSEC_SECURITY_PROTOCOL": "SASL_SSL", "STREAMSEC_SASL_MECHANISM": "OAUTHBEARER"},
         "STREAMSEC_SASL_OAUTH_TOKEN_PROVIDER"),
        ({"STREAMSEC_SASL_USERNAME": "u"}, "STREAMSEC_SECURITY_PROTOCOL"),
        ({"STREAMSEC_SSL_CAFILE": "/ca.pem"}, "STREAMSEC_SECURITY_PROTOCOL"),
        ({"STREAMSEC_SECURITY_PROTOCOL": "SSL", "STREAMSEC_SSL_CERTFILE": "/c.pem"},
         "STREAMSEC_SSL_KEYFILE"),
        ({"STREAMSEC_SECURITY_PROTOCOL": "TLS"}, "STREAMSEC_SECURITY_PROTOCOL"),
        ({"STREAMSEC_SASL_MECHANISM": "GSSAPI"}, "STREAMSEC_SASL_MECHANISM"),
    ],
)
def test_incomplete_connection_settings_name_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], key: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert info.value.key == key


def test_every_streamsec_variable_in_docker_compose_is_a_setting() -> None:
    from pathlib import Path

    import yaml

    compose = yaml.safe_load((Path(__file__).parents[3] / "docker-compose.yml").read_text())
    env: dict[str, str] = {}
    for service in compose["services"].values():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) for item in environment)
        env |= {k: str(v) for k, v in environment.items()}
    assert any(k.startswith("STREAMSEC_") for k in env)
    check_environment(env)
