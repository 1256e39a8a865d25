from __future__ import annotations

import pytest

from streamsec.cli.main import main
from streamsec.consumer.client import ProtectedConsumer
from streamsec.errors import ConfigError
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology

TOPOLOGY = parse_topology("name: t\ninput: a\noutput: b\nroles:\n  r: {paths: [x]}\n")


def test_decrypt_needs_a_role(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consume", "-t", "unused.yaml", "--decrypt"]) == 2
    assert "--decrypt needs --as ROLE" in capsys.readouterr().err
    with pytest.raises(ConfigError):
        ProtectedConsumer(TOPOLOGY, None, provider=InMemoryKeyProvider(), bootstrap="x:1")


def test_unknown_role_is_refused_before_connecting() -> None:
    with pytest.raises(ConfigError, match="no role 'admin'"):
        ProtectedConsumer(TOPOLOGY, "admin", provider=InMemoryKeyProvider(), bootstrap="x:1")
    consumer = ProtectedConsumer(TOPOLOGY, "r", provider=InMemoryKeyProvider(), bootstrap="x:1")
    assert consumer.topic == "b"
