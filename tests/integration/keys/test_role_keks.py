"""Key separation by role (``key_separation: role``), enforced where keys are released.

The attacker is the ``support`` role's consumer: a Vault (OpenBao) token whose policy
allows ``decrypt`` on the ``role-support`` Transit key only, the WHOLE key store (the
key registry on Kafka, entries authenticated, format 2 with the readers' copies) and
EVERY protected record, read from the real broker with forged
``streamsec.entities``/``streamsec.categories`` headers claiming the card and the
diagnosis are PII. It decrypts 100% of what the topology grants support (the email
by category, the SSN its worker detected as PII) and 0% of the rest (cards: fraud
only; diagnoses: doctor's path only), with the role view and with its own code that
checks no role at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import hvac

from streamsec.consumer.client import ProtectedConsumer
from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import create_keyring
from streamsec.crypto.providers.vault import VaultKekProvider
from streamsec.errors import StreamsecError
from streamsec.events.signing import AuditIdentity
from streamsec.kafka import KafkaConnection
from streamsec.keystore.kafka_store import KafkaKeyStore
from streamsec.pipeline.headers import CATEGORIES, ENTITIES
from streamsec.pipeline.model import SourceRecord
from streamsec.pipeline.runtime import make_pipeline
from streamsec.protection.binding import RecordBinder
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.testing.kms_servers import Server
from streamsec.topology import parse_topology
from streamsec.topology.model import Topology
from tests.integration.keys.conftest import ProviderFactory

N = 20
SUPPORT = ("email", "ssn")
OTHERS = ("card", "diagnosis")


def _topology(output: str, audit: str) -> Topology:
    return parse_topology(f"""
name: care
input: raw.care
output: {output}
audit: {audit}
subject: id
encryption: {{missing_subject: shared}}
key_separation: role
fields:
  id: keep
  email: {{action: encrypt, entity: EMAIL_ADDRESS}}
  card: {{action: encrypt, entity: CREDIT_CARD}}
  diagnosis: encrypt
roles:
  support: {{categories: [PII]}}
  fraud: {{entities: [CREDIT_CARD]}}
  doctor: {{paths: [diagnosis]}}
""")


def _opened(cipher: KeyringCipher, topology: Topology, records: list[dict[str, Any]],
            field: str) -> int:  # fmt: skip
    """How many of ``field`` this cipher decrypts: own code, no role check at all."""
    binder, opened = RecordBinder(topology), 0
    for record in records:
        try:
            cipher.decrypt(record[field], path=field, binding=binder.of(record).at((field,)))
            opened += 1
        except StreamsecError:  # the provider refused the key: not opened
            pass
    return opened


async def test_support_kek_in_openbao_reads_100_percent_of_its_fields_and_0_of_the_others(
    openbao: Server, vault_factory: ProviderFactory, kafka_bootstrap: str,
    topic_factory: Any, kafka_produce: Any,
) -> None:
    output, audit = await topic_factory(1), await topic_factory(1)
    registry = await topic_factory(1, config={"cleanup.policy": "compact"})
    stores: list[KafkaKeyStore] = []

    def store() -> KafkaKeyStore:
        stores.append(KafkaKeyStore(KafkaConnection(kafka_bootstrap), registry))
        return stores[-1]

    try:
        await _attack(openbao, vault_factory, kafka_bootstrap, kafka_produce, store,
                      _topology(output, audit))  # fmt: skip
    finally:
        for opened in stores:
            opened.close()


async def _attack(
    openbao: Server, vault_factory: ProviderFactory, kafka_bootstrap: str, kafka_produce: Any,
    store: Callable[[], KafkaKeyStore], topology: Topology,
) -> None:
    output = topology.output
    worker = vault_factory()  # the worker: wrap for every role KEK, unwrap with 'all'
    ring = create_keyring(store(), kek_provider=worker)
    pipeline = make_pipeline(topology, Settings(), worker_id="w", provider=ring,
                             detector=FakeDetector())  # fmt: skip
    raw = [{"id": f"p{i}", "email": f"u{i}@x.io", "card": "4111 1111 1111 1111",
            "ssn": "123-45-6789", "diagnosis": f"J{i:02d}.9"} for i in range(N)]  # fmt: skip
    outcomes = pipeline.process([
        SourceRecord("raw.care", 0, i, None, json.dumps(r).encode()) for i, r in enumerate(raw)
    ])  # fmt: skip
    protected = [json.loads(m.value or b"") for o in outcomes for m in o.messages
                 if m.topic == output]  # fmt: skip
    assert len(protected) == N
    assert all(r[f].startswith("ssec:") for r in protected for f in (*SUPPORT, *OTHERS))
    forged = [(ENTITIES, b"EMAIL_ADDRESS,CREDIT_CARD"), (CATEGORIES, b"PII")]
    await kafka_produce(output, [(f"r{i}".encode(), json.dumps(r).encode(), forged)
                                 for i, r in enumerate(protected)])  # fmt: skip

    root = hvac.Client(url=openbao.url, token=openbao.env["STREAMSEC_VAULT_TOKEN"])

    def keys_of(role: str) -> Keyring:
        """The whole key store, opened with a token that may decrypt role-<role> only."""
        prefix = worker._prefix  # type: ignore[attr-defined]
        policy = f'path "transit/decrypt/{prefix}role-{role}" {{ capabilities = ["update"] }}'
        root.sys.create_or_update_policy(name=f"{prefix}{role}", policy=policy)
        token = root.auth.token.create(policies=[f"{prefix}{role}"], ttl="10m")
        return Keyring(store(), kek_provider=VaultKekProvider(
            url=openbao.url, token=token["auth"]["client_token"], key_prefix=prefix))  # fmt: skip

    # its own code, the whole key store, every record, no role check: what Vault releases
    support_keys = keys_of("support")
    own = KeyringCipher(support_keys, "care")
    card = support_keys.key_info(own.key_id_of(protected[0]["card"]))
    assert (card.kek, card.readers) == ("all", ("fraud",))  # read back from the registry
    counts = {f: _opened(own, topology, protected, f) for f in (*SUPPORT, *OTHERS)}
    print(f"support KEK only, own code: {counts} of {N} each")
    assert counts == {"email": N, "ssn": N, "card": 0, "diagnosis": 0}
    fraud = KeyringCipher(keys_of("fraud"), "care")  # the control: fraud's KEK, cards only
    counts = {f: _opened(fraud, topology, protected, f) for f in (*SUPPORT, *OTHERS)}
    print(f"fraud KEK only, own code: {counts} of {N} each")
    assert counts == {"email": 0, "ssn": 0, "card": N, "diagnosis": 0}

    # the role view over the real broker, headers forged: the same, and nothing more
    consumer = ProtectedConsumer(
        topology, "support", provider=support_keys, bootstrap=kafka_bootstrap,
        from_beginning=True, idle_timeout=3, decrypt=True, identity=AuditIdentity.ephemeral(),
    )
    async with consumer:
        items = [item async for item in consumer]
    assert len(items) == N
    clear = {f: sum(1 for i in items if not str(i.value[f]).startswith("ssec:"))
             for f in (*SUPPORT, *OTHERS)}  # fmt: skip
    print(f"support consumer, forged headers: {clear} of {N} each in clear")
    assert clear == {"email": N, "ssn": N, "card": 0, "diagnosis": 0}
    assert [i.value["email"] for i in items] == [r["email"] for r in raw]

    # and 'all' over support's token: everything Vault releases, i.e. the same
    everything = ProtectedConsumer(
        topology, "all", provider=support_keys, bootstrap=kafka_bootstrap,
        from_beginning=True, idle_timeout=3, decrypt=True, identity=AuditIdentity.ephemeral(),
    )
    async with everything:
        items = [item async for item in everything]
    assert sum(1 for i in items for f in OTHERS if not i.value[f].startswith("ssec:")) == 0
