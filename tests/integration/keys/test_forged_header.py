"""The attack of issue 17 on the real broker: a ``fraud`` role (granted EMAIL_ADDRESS
only) reads records whose producer forged ``streamsec.entities: EMAIL_ADDRESS``
on records holding a card number and an SSN in detected fields. Before, the header
opened them; now headers grant nothing, and the consumer's Vault token (the
``default`` KEK for audit keys, plus ``pii``) cannot release a PCI key anyway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hvac

from streamsec.consumer.client import ProtectedConsumer
from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyfile import FileStore
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import create_keyring
from streamsec.crypto.providers.vault import VaultKekProvider
from streamsec.events.signing import AuditIdentity
from streamsec.pipeline.headers import CATEGORIES, ENTITIES
from streamsec.protection.protector import Protector
from streamsec.testing import FakeDetector
from streamsec.testing.kms_servers import Server
from streamsec.topology import parse_topology
from tests.integration.keys.conftest import ProviderFactory

N = 20


async def test_forged_header_opens_nothing_and_the_pii_token_gets_no_pci_key(
    openbao: Server, vault_factory: ProviderFactory, tmp_path: Path, kafka_bootstrap: str,
    topic_factory: Any, kafka_produce: Any,
) -> None:
    output, audit = await topic_factory(1), await topic_factory(1)
    topology = parse_topology(f"""
name: pay
input: raw.pay
output: {output}
audit: {audit}
key_separation: category
fields:
  email: {{action: encrypt, entity: EMAIL_ADDRESS}}
roles:
  fraud: {{entities: [EMAIL_ADDRESS]}}
  support: {{categories: [PII]}}
""")
    worker = vault_factory()
    ring = create_keyring(tmp_path / "keyring.json", kek_provider=worker)
    cipher = KeyringCipher(ring, "pay", separate_by_category=True)
    protector = Protector(topology, detector=FakeDetector(), cipher=cipher)
    protected = [
        protector.protect({"email": f"u{i}@x.io", "card": "4111 1111 1111 1111",
                           "ssn": "123-45-6789"}).record
        for i in range(N)
    ]  # fmt: skip
    assert all(r["card"].startswith("ssec:") and r["ssn"].startswith("ssec:") for r in protected)
    forged = [(ENTITIES, b"EMAIL_ADDRESS"), (CATEGORIES, b"PII")]
    await kafka_produce(output, [(f"r{i}".encode(), json.dumps(r).encode(), forged)
                                 for i, r in enumerate(protected)])  # fmt: skip
    prefix = worker._prefix  # type: ignore[attr-defined]
    root = hvac.Client(url=openbao.url, token=openbao.env["STREAMSEC_VAULT_TOKEN"])
    policy = "".join(f'path "transit/decrypt/{prefix}{name}" {{ capabilities = ["update"] }}\n'
                     for name in ("default", "pii"))  # fmt: skip
    root.sys.create_or_update_policy(name=f"{prefix}support", policy=policy)
    token = root.auth.token.create(policies=[f"{prefix}support"], ttl="10m")
    consumer_keys = Keyring(FileStore(tmp_path / "keyring.json"), kek_provider=VaultKekProvider(
        url=openbao.url, token=token["auth"]["client_token"], key_prefix=prefix))  # fmt: skip
    results = {}
    for role in ("fraud", "support"):
        consumer = ProtectedConsumer(
            topology, role, provider=consumer_keys, bootstrap=kafka_bootstrap,
            from_beginning=True, idle_timeout=5, decrypt=True,
            identity=AuditIdentity.ephemeral(),
        )
        async with consumer:
            results[role] = [item async for item in consumer]
    fraud, support = results["fraud"], results["support"]
    assert len(fraud) == len(support) == N
    assert all(i.value["email"].endswith("@x.io") for i in fraud)  # its rule entity
    assert all(i.value["card"].startswith("ssec:") for i in fraud)  # the header opened nothing
    assert all(i.value["ssn"].startswith("ssec:") for i in fraud)
    assert all(i.value["ssn"] == "123-45-6789" for i in support)  # PII by its key's KEK
    assert all(i.value["card"].startswith("ssec:") for i in support)  # PCI: never
    # and even without any role check, the support token cannot release the PCI key
    raw = KeyringCipher(consumer_keys, "pay")
    opened = 0
    for record in protected:
        try:
            raw.decrypt(record["card"], path="card")
            opened += 1
        except Exception:
            pass
    assert opened == 0
