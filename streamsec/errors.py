"""The streamsec exception tree.

Every exception streamsec raises on purpose derives from :class:`StreamsecError`.
Context travels in keyword attributes (``topic``, ``partition``, ``offset``,
``path``, ``key_id``, ``line``, ``file``, ``key``), **never** the raw value, so an
exception can be logged, put in a dead-letter header or counted in a metric
without leaking what it was about. ``reason`` is a short, fixed code that is safe
to use as a metric label.

    StreamsecError
    ├── ConfigError                    bad configuration; stops start-up
    │   ├── TopologyError              a topology file is invalid (file + key named)
    │   └── SettingsError              a STREAMSEC_* setting is invalid
    ├── RecordError                    one input record cannot be processed
    │   ├── DecodeError                not UTF-8 / not JSON / not a JSON object
    │   │   ├── BadNumberError         NaN/Infinity, a float out of range, a huge integer
    │   │   ├── BadUnicodeError        a lone surrogate (not encodable text)
    │   │   └── DuplicateKeyError      an object with the same key twice
    │   ├── RecordTooLargeError        over the byte limit
    │   │   ├── TooManyFieldsError     more fields than the limit
    │   │   └── RecordTooSlowError     over the per-record time budget
    │   ├── RecordTooDeepError         nested deeper than the limit
    │   ├── SensitiveKeyError          an object key (a field name) holds sensitive data
    │   └── MissingSubjectError        no data-subject value (``missing_subject: dead_letter``)
    ├── DetectionError                 the detector failed on a record
    ├── ProtectionError                an action could not be applied
    │   ├── KeyAccessError             a key could not be read, created or unwrapped
    │   │   ├── KeyNotFoundError       no such key id (or version)
    │   │   └── KeyDestroyedError      the key was destroyed (crypto-shredded)
    │   │       └── SubjectForgottenError  a new record of a forgotten data subject
    │   ├── EncryptionError            encryption failed
    │   └── DecryptionError            decryption failed: tampered, moved or wrong key
    │       └── EnvelopeFormatError    the value is not a well-formed ciphertext envelope
    └── BrokerError                    Kafka: the local broker could not be started, or a
        │                              client failed (topic, setting or file named)
        ├── KafkaConnectError          cannot connect: unreachable, TLS or authentication
        └── KafkaAuthorizationError    connected, but an ACL denies the operation
"""

from __future__ import annotations

from typing import Any, Self

__all__ = [
    "BadNumberError",
    "BadUnicodeError",
    "BrokerError",
    "ConfigError",
    "DecodeError",
    "DecryptionError",
    "DetectionError",
    "DuplicateKeyError",
    "EncryptionError",
    "EnvelopeFormatError",
    "KafkaAuthorizationError",
    "KafkaConnectError",
    "KeyAccessError",
    "KeyDestroyedError",
    "KeyNotFoundError",
    "MissingSubjectError",
    "ProtectionError",
    "RecordError",
    "RecordTooDeepError",
    "RecordTooLargeError",
    "RecordTooSlowError",
    "SensitiveKeyError",
    "SettingsError",
    "StreamsecError",
    "SubjectForgottenError",
    "TooManyFieldsError",
    "TopologyError",
]

_CONTEXT_KEYS = ("file", "key", "topic", "partition", "offset", "line", "path", "key_id")


class StreamsecError(Exception):
    """Root of every streamsec error.

    ``message`` must never contain a record value. Context goes in keyword
    arguments, which become attributes and are appended to ``str(exc)``.
    """

    reason: str = "error"
    file: str | None
    key: str | None
    topic: str | None
    partition: int | None
    offset: int | None
    line: int | None
    path: str | None
    key_id: str | None

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context: dict[str, Any] = {k: v for k, v in context.items() if v is not None}
        for name in _CONTEXT_KEYS:
            setattr(self, name, self.context.get(name))

    def detached(self) -> Self:
        """This error without its traceback and the exceptions it was raised in. A
        record's failure is kept as data (a dead letter's reason) after its ``except``
        block has ended: its traceback holds the frames it passed, those frames hold the
        batch and this error, and that cycle kept every record of the batch in memory
        until the next full collection (a backlog of 500 kB records took a worker past
        1 GB)."""
        self.__traceback__ = None
        self.__context__ = None
        self.__cause__ = None
        return self

    def __str__(self) -> str:
        if not self.context:
            return self.message
        ctx = ", ".join(f"{k}={v}" for k, v in self.context.items())
        return f"{self.message} ({ctx})"


class ConfigError(StreamsecError):
    reason = "config"


class TopologyError(ConfigError):
    reason = "topology"


class SettingsError(ConfigError):
    reason = "settings"


class RecordError(StreamsecError):
    reason = "bad_record"


class DecodeError(RecordError):
    reason = "decode"


class RecordTooLargeError(RecordError):
    reason = "too_large"


class TooManyFieldsError(RecordTooLargeError):
    reason = "too_many_fields"


class RecordTooSlowError(RecordTooLargeError):
    """Detection did not finish within the record's time budget."""

    reason = "too_slow"


class RecordTooDeepError(RecordError):
    reason = "too_deep"


class BadNumberError(DecodeError):
    """NaN, Infinity, a number outside the float range (``1e400``) or an integer too
    long to convert: no valid JSON output could carry it unchanged."""

    reason = "bad_number"


class BadUnicodeError(DecodeError):
    """A lone surrogate escape (``\\ud800``): not text that UTF-8 can encode."""

    reason = "bad_unicode"


class DuplicateKeyError(DecodeError):
    """An object names the same key twice: which value is meant is unknowable."""

    reason = "duplicate_key"


class SensitiveKeyError(RecordError):
    """Field names end up in paths, audit and lineage events and metrics, so a record
    that uses personal data as an object key cannot be protected: it is dead-lettered."""

    reason = "sensitive_key"


class MissingSubjectError(RecordError):
    """The topology names a data subject, the record has none, and the topology says
    such records are dead-lettered (``encryption.missing_subject: dead_letter``)."""

    reason = "no_subject"


class DetectionError(StreamsecError):
    reason = "detection"


class ProtectionError(StreamsecError):
    reason = "protection"


class KeyAccessError(ProtectionError):
    reason = "key_access"


class KeyNotFoundError(KeyAccessError):
    reason = "key_not_found"


class KeyDestroyedError(KeyAccessError):
    reason = "key_destroyed"


class SubjectForgottenError(KeyDestroyedError):
    """A new record of a data subject whose keys were destroyed: it must reach no topic
    in clear, so its dead letter carries no key and no value."""

    reason = "subject_forgotten"


class EncryptionError(ProtectionError):
    reason = "encryption"


class DecryptionError(ProtectionError):
    reason = "decryption"


class EnvelopeFormatError(DecryptionError):
    reason = "envelope_format"


class BrokerError(StreamsecError):
    reason = "broker"


class KafkaConnectError(BrokerError):
    """Kafka could not be reached or refused the connection (TLS, authentication)."""

    reason = "kafka_connect"


class KafkaAuthorizationError(BrokerError):
    """Authenticated, but the principal is not allowed the operation on the topic/group."""

    reason = "kafka_authorization"
