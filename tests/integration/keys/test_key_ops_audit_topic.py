"""``keys destroy`` and ``keys rotate-kek`` on the Kafka key registry, audited to an
audit topic through the Kafka edge (no ``--audit-out``): the topic's chain verifies
with the trust store, and it names the destroyed key and the KEK versions."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from streamsec.cli.main import main
from streamsec.crypto.keyring_setup import init_keyring, open_keyring
from streamsec.crypto.keys import KeyPurpose, KeyState
from streamsec.events.signing import FileSigner, public_key_b64
from streamsec.kafka import KafkaConnection, read_topic
from streamsec.settings import Settings


async def test_key_operations_reach_the_audit_topic_and_verify(
    kafka_bootstrap: str, topic_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: Any, closing: Callable[[Any], Any],
) -> None:
    registry, audit = await topic_factory(1), await topic_factory(1)
    monkeypatch.setenv("STREAMSEC_BROKER", kafka_bootstrap)
    monkeypatch.setenv("STREAMSEC_KEY_STORE", "kafka")
    monkeypatch.setenv("STREAMSEC_KEY_REGISTRY_TOPIC", registry)
    monkeypatch.setenv("STREAMSEC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STREAMSEC_KEK_FILE", str(tmp_path / "kek.json"))  # local provider
    closing(await asyncio.to_thread(init_keyring, settings=Settings()))  # the registry's reader
    ring = closing(await asyncio.to_thread(open_keyring, Settings()))
    key = await asyncio.to_thread(ring.current_key, "orders", KeyPurpose.ENCRYPT, "C-1")

    store, op = tmp_path / "trust.json", tmp_path / "operator.key"
    signer = FileSigner.open(Path(os.environ["STREAMSEC_AUDIT_SIGNING_KEY"]), create=True)
    assert main(["audit", "operator-key", "--out", str(op), "--trust-store", str(store)]) == 0
    assert main(["audit", "certify", "--operator-key", str(op), "--trust-store", str(store),
                 "--public-key", public_key_b64(signer.public_key()),
                 "--writers", "keys-*"]) == 0  # fmt: skip

    destroy = ["keys", "destroy", key.info.id, "--yes", "--audit-topic", audit]
    assert await asyncio.to_thread(main, destroy) == 0
    rotate = ["keys", "rotate-kek", "--yes", "--audit-topic", audit]
    assert await asyncio.to_thread(main, rotate) == 0
    assert f"written to topic {audit}" in capsys.readouterr().out
    fresh = closing(await asyncio.to_thread(open_keyring, Settings()))
    assert fresh.key_info(key.info.id).state is KeyState.DESTROYED

    events = [json.loads(m.value) for m in await read_topic(KafkaConnection(kafka_bootstrap),
                                                            audit)]  # fmt: skip
    ops = [(e["data"]["operation"], e["data"]["outcome"], e["data"]["key"]["id"],
            e["data"]["key"]["kek_id"]) for e in events
           if e["type"] == "io.streamsec.key.operation"]  # fmt: skip
    assert ops == [
        ("destroy", "requested", key.info.id, "default"), ("destroy", "ok", key.info.id, "default"),
        ("rotate-kek", "requested", "default", "default@1"),
        ("rotate-kek", "ok", "default", "default@2"),
        ("destroy-kek-version", "ok", "default", "default@1"),
    ]
    verify = ["audit", "verify", "--topic", audit, "--trust-store", str(store)]
    assert await asyncio.to_thread(main, verify) == 0
