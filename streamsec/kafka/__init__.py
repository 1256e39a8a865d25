"""The Kafka edge: every Kafka client streamsec uses is built here, from the settings.

* :mod:`~streamsec.kafka.options`: settings -> aiokafka options and Faust credentials
  (TLS context, SASL PLAIN/SCRAM/OAUTHBEARER), in one place;
* :mod:`~streamsec.kafka.connection`: bootstrap resolution and :class:`KafkaConnection`;
* :mod:`~streamsec.kafka.clients`: producer, consumer and admin factories, a connection
  check;
* :mod:`~streamsec.kafka.reader`: the one "read a topic to its end";
* :mod:`~streamsec.kafka.sinks`: audit events to a topic;
* :mod:`~streamsec.kafka.failures`: a failure -> one clear line (never a secret);
* :mod:`~streamsec.kafka.acls`: least-privilege ACLs derived from a topology.

Nothing else in streamsec imports aiokafka to build a client; ``worker/`` holds
Faust-only code and gets its options from here.
"""

from __future__ import annotations

from streamsec.kafka.clients import (
    admin_client,
    check_connection,
    create_topics,
    new_admin,
    new_consumer,
    new_producer,
    topic_partitions,
    track_topics,
)
from streamsec.kafka.connection import KafkaConnection, connect, resolve_bootstrap
from streamsec.kafka.failures import diagnosed, translate
from streamsec.kafka.options import client_options, faust_credentials, ssl_context
from streamsec.kafka.reader import TopicRecord, read_to_end, read_topic
from streamsec.kafka.sinks import KafkaAuditSink

__all__ = [
    "KafkaAuditSink",
    "KafkaConnection",
    "TopicRecord",
    "admin_client",
    "check_connection",
    "client_options",
    "connect",
    "create_topics",
    "diagnosed",
    "faust_credentials",
    "new_admin",
    "new_consumer",
    "new_producer",
    "read_to_end",
    "read_topic",
    "resolve_bootstrap",
    "ssl_context",
    "topic_partitions",
    "track_topics",
    "translate",
]
