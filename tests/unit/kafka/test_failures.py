"""Kafka failures -> one clear line naming what to fix, never a secret."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from aiokafka import errors as kerr
from pydantic import SecretStr

from streamsec.errors import KafkaAuthorizationError, KafkaConnectError
from streamsec.kafka import KafkaConnection, diagnosed, translate
from streamsec.settings import Settings

SCRAM = Settings(
    security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="svc",
    sasl_password=SecretStr("pw-123"), ssl_cafile=Path("/etc/ca.pem"),
)
CONN = KafkaConnection("b:9093", {}, SCRAM)


def failed(log_line: str) -> KafkaConnectError:
    with diagnosed():
        logging.getLogger("aiokafka.client").error('Unable connect to "b:9093": %s', log_line)
        error = translate(kerr.KafkaConnectionError("Unable to bootstrap"), CONN)
    assert isinstance(error, KafkaConnectError)
    assert "pw-123" not in str(error)
    return error


@pytest.mark.parametrize(
    ("log_line", "key", "says"),
    [
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate",
         "STREAMSEC_SSL_CAFILE", "not signed by a trusted CA"),
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch",
         "STREAMSEC_BROKER", "does not name the host"),
        ("SaslAuthenticationFailed: Authentication failed during authentication",
         "STREAMSEC_SASL_PASSWORD", "user 'svc'"),
        ("[Errno 111] Connect call failed", "STREAMSEC_BROKER",
         "cannot connect to Kafka at b:9093"),
    ],
)
def test_the_log_tells_which_setting_to_fix(log_line: str, key: str, says: str) -> None:
    error = failed(log_line)
    assert error.key == key
    assert says in str(error)


def test_the_diagnosed_warnings_are_not_printed(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        failed("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
        logging.getLogger("aiokafka.client").error("Unable connect to x: outside a diagnosis")
    assert [r.getMessage() for r in caplog.records] == ["Unable connect to x: outside a diagnosis"]


def test_an_acl_denial_names_the_topic_and_the_principal() -> None:
    error = translate(kerr.TopicAuthorizationFailedError(), CONN, topic="raw", doing="reading")
    assert isinstance(error, KafkaAuthorizationError)
    assert error.topic == "raw"
    assert str(error) == (
        "not authorized: User:svc has no ACL allowing this on topic 'raw' (reading) (topic=raw)"
    )
    group = translate(kerr.GroupAuthorizationFailedError(), CONN, topic="p", group="g1")
    assert "consumer group 'g1'" in str(group)
