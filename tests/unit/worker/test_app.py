from __future__ import annotations

import pytest
from pydantic import SecretStr

from streamsec.errors import ConfigError
from streamsec.kafka import client_options
from streamsec.pipeline.runtime import make_pipeline
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology
from streamsec.worker.app import build_app, faust_options
from streamsec.worker.buffer import ByteBoundedQueue
from streamsec.worker.run import load_factory


def test_faust_options_translate_the_settings() -> None:
    settings = Settings(
        processing_guarantee="exactly_once", web_port=0, topic_partitions=6, app_id="x",
    )
    options = faust_options(settings, "h1:9092, h2:9093")
    assert options["broker"] == ["kafka://h1:9092", "kafka://h2:9093"]
    assert options["processing_guarantee"] == "at_least_once"  # transactions are ours
    assert options["web_enabled"] is False
    assert options["topic_partitions"] == 6
    assert options["consumer_auto_offset_reset"] == "earliest"
    assert "broker_credentials" not in options


def test_sasl_credentials_reach_faust_and_aiokafka_but_not_repr() -> None:
    settings = Settings(
        security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="svc",
        sasl_password=SecretStr("hunter2"),
    )
    options = faust_options(settings, "h:9092")
    credentials = options["broker_credentials"]
    assert credentials.username == "svc"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.ssl_context.check_hostname  # on by default
    client = client_options(settings)
    assert client["sasl_plain_password"] == "hunter2"
    assert client["security_protocol"] == "SASL_SSL"
    assert client["ssl_context"] is not None
    assert "hunter2" not in repr(settings)


def _pipeline(name: str, input_topic: str) -> object:
    topology = parse_topology(f"name: {name}\ninput: {input_topic}\noutput: out.{name}\n")
    return make_pipeline(
        topology, Settings(), worker_id="w", provider=InMemoryKeyProvider(),
        detector=FakeDetector(),
    )


def test_build_app_has_one_agent_per_topology() -> None:
    settings = Settings(web_port=0, app_id="unit-app")
    app = build_app(settings, [_pipeline("a", "in.a"), _pipeline("b", "in.b")],
                    bootstrap="127.0.0.1:1")
    assert set(app.agents) == {"streamsec.a", "streamsec.b"}


def test_each_agents_stream_buffer_is_bounded_by_the_settings_bytes() -> None:
    settings = Settings(web_port=0, app_id="unit-app", stream_buffer_bytes=1_000_000)
    app = build_app(settings, [_pipeline("a", "in.a")], bootstrap="127.0.0.1:1")
    queue = app.agents["streamsec.a"].channel.queue
    assert isinstance(queue, ByteBoundedQueue)
    assert (queue.max_bytes, queue.maxsize) == (1_000_000, 4096)


def test_build_app_refuses_two_topologies_on_one_input() -> None:
    with pytest.raises(ValueError, match="same input"):
        build_app(Settings(web_port=0), [_pipeline("a", "in"), _pipeline("b", "in")],
                  bootstrap="127.0.0.1:1")


def test_detector_factory_is_checked() -> None:
    assert load_factory("streamsec.testing:FakeDetector")().detect([]) == []
    bad = ("nocolon", "streamsec.nope:X", "streamsec.testing:Nope", "streamsec.worker.app:log")
    for spec in bad:
        with pytest.raises(ConfigError):
            load_factory(spec)


def test_a_batch_of_audit_events_fits_one_producer_record_batch() -> None:
    """64 records' audit events (~1.2 kB each) on the audit topic's one partition go out
    as one record batch, one request, not five one after the other (16 kB batches)."""
    from aiokafka.producer.message_accumulator import BatchBuilder

    from streamsec.worker.delivery import PRODUCER_BATCH_BYTES

    options = faust_options(Settings(), "127.0.0.1:9092")
    assert options["producer_max_batch_size"] == PRODUCER_BATCH_BYTES
    event = b"{" + b'"field":"value",' * 75 + b"}"  # 1,202 bytes
    for size, batches in ((16384, 5), (PRODUCER_BATCH_BYTES, 1)):
        builders = [BatchBuilder(size, 0)]
        for _ in range(64):
            if builders[-1].append(timestamp=None, key=b"chain", value=event,
                                   headers=[("h", b"v")]) is None:
                builders.append(BatchBuilder(size, 0))
                builders[-1].append(timestamp=None, key=b"chain", value=event, headers=[])
        assert len(builders) == batches
    assert options["producer_max_batch_size"] < 1_048_588  # the broker's message.max.bytes
