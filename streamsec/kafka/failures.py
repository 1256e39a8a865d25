"""Kafka client failures -> one clear line (a :class:`BrokerError` subclass).

aiokafka reports *why* a connection failed only in its log (``Unable connect to
...: [SSL: CERTIFICATE_VERIFY_FAILED] ...``) and then raises a bare
``KafkaConnectionError``. Inside :func:`diagnosed` those log records are kept
(and not printed), so :func:`translate` can say which setting or file to fix:

* an untrusted broker certificate -> ``STREAMSEC_SSL_CAFILE``;
* a certificate that does not name the host -> the bootstrap address;
* a refused or missing client certificate -> ``STREAMSEC_SSL_CERTFILE``;
* bad SASL credentials -> ``STREAMSEC_SASL_USERNAME``/``STREAMSEC_SASL_PASSWORD``;
* an ACL denial -> :class:`KafkaAuthorizationError` naming the topic or group.

Messages name settings, files, hosts, topics and the user name; never a password.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING

from aiokafka import errors as kerr

from streamsec.errors import BrokerError, KafkaAuthorizationError, KafkaConnectError

if TYPE_CHECKING:
    from streamsec.kafka.connection import KafkaConnection

__all__ = ["diagnosed", "translate"]

_LOGGERS = (
    "aiokafka", "aiokafka.client", "aiokafka.cluster", "aiokafka.conn", "aiokafka.consumer.fetcher",
    "aiokafka.consumer.consumer", "aiokafka.consumer.group_coordinator",
    "aiokafka.producer.sender", "aiokafka.producer.producer",
)
_NOISE = (
    "Unable connect", "Unable to update metadata", "Not authorized", "authoriz",
    "Authentication", "SSL", "certificate", "Failed fetch", "Group Coordinator",
    "FindCoordinator", "Heartbeat", "InitProducerId", "Connection", "Could not send",
)


class _Recorder(logging.Filter):
    """Keeps aiokafka's recent warnings; drops them while a diagnosis is active."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: deque[str] = deque(maxlen=32)
        self.active = 0
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed log call
            return True
        self.messages.append(text)
        return not (self.active and any(n.lower() in text.lower() for n in _NOISE))


_RECORDER = _Recorder()
for _name in _LOGGERS:
    logging.getLogger(_name).addFilter(_RECORDER)


@contextlib.contextmanager
def diagnosed() -> Iterator[None]:
    """While active, aiokafka's connection warnings are kept for :func:`translate`
    instead of printed (the caller reports one line)."""
    with _RECORDER.lock:
        _RECORDER.active += 1
        _RECORDER.messages.clear()
    try:
        yield
    finally:
        with _RECORDER.lock:
            _RECORDER.active -= 1


def _recent() -> str:
    return " | ".join(_RECORDER.messages).lower()


_AUTHZ = (
    kerr.TopicAuthorizationFailedError, kerr.GroupAuthorizationFailedError,
    kerr.ClusterAuthorizationFailedError, kerr.TransactionalIdAuthorizationFailed,
)


def _connect_reason(conn: KafkaConnection, seen: str) -> tuple[str, dict[str, str]]:
    s = conn.settings
    if "hostname mismatch" in seen or "ip address mismatch" in seen or "doesn't match" in seen:
        return (f"TLS: the broker certificate does not name the host in {conn.bootstrap} "
                "(connect by a name the certificate holds)", {"key": "STREAMSEC_BROKER"})
    if "certificate_verify_failed" in seen or "certificate verify failed" in seen:
        cafile = s.ssl_cafile if s is not None else None
        where = {"key": "STREAMSEC_SSL_CAFILE"} | ({"file": str(cafile)} if cafile else {})
        return "TLS: the broker certificate is not signed by a trusted CA", where
    if "certificate required" in seen or "alert_certificate_required" in seen or (
        "bad certificate" in seen or "alert_bad_certificate" in seen
    ):
        return ("TLS: the broker requires a valid client certificate",
                {"key": "STREAMSEC_SSL_CERTFILE"})
    if "authentication" in seen or "sasl" in seen:
        user = s.sasl_username if s is not None else None
        mech = s.sasl_mechanism if s is not None else "SASL"
        who = f" of user '{user}'" if user else ""
        return (f"authentication failed: the broker refused the {mech} credentials{who}",
                {"key": "STREAMSEC_SASL_PASSWORD"})
    if "closed" in seen and s is not None and s.security_protocol.endswith("SSL") and (
        s.ssl_certfile is None
    ):
        return ("the broker closed the TLS connection: does it require a client certificate?",
                {"key": "STREAMSEC_SSL_CERTFILE"})
    if "wrong version number" in seen or "unexpected eof" in seen or "record layer" in seen:
        return ("TLS handshake failed: does the listener speak "
                f"{s.security_protocol if s else 'this protocol'}?",
                {"key": "STREAMSEC_SECURITY_PROTOCOL"})
    return f"cannot connect to Kafka at {conn.bootstrap}", {"key": "STREAMSEC_BROKER"}


def translate(
    exc: BaseException, conn: KafkaConnection, *, topic: str | None = None,
    group: str | None = None, doing: str = "",
) -> BrokerError:
    """One clear :class:`BrokerError` for a Kafka client failure (raise it ``from None``)."""
    if isinstance(exc, BrokerError):
        return exc
    where: dict[str, str] = {}
    if topic:
        where["topic"] = topic
    action = f" ({doing})" if doing else ""
    if isinstance(exc, _AUTHZ):
        kind = {
            kerr.GroupAuthorizationFailedError: f"consumer group '{group}'",
            kerr.ClusterAuthorizationFailedError: "the cluster",
            kerr.TransactionalIdAuthorizationFailed: "its transactional id",
        }.get(type(exc), f"topic '{topic}'" if topic else "the topic")
        user = conn.principal
        return KafkaAuthorizationError(
            f"not authorized: {user} has no ACL allowing this on {kind}{action}", **where
        )
    seen = _recent()
    if isinstance(exc, (kerr.KafkaConnectionError, kerr.NodeNotReadyError, OSError,
                        TimeoutError, kerr.KafkaTimeoutError, kerr.RequestTimedOutError)) or (
        "unable connect" in seen
    ):
        if "not authorized" in seen or "authorization" in seen:
            return KafkaAuthorizationError(
                f"not authorized: {conn.principal} has no ACL allowing this{action}", **where
            )
        message, context = _connect_reason(conn, seen)
        return KafkaConnectError(message, **context, **where)
    return BrokerError(f"Kafka failed: {type(exc).__name__}{action}", **where)
