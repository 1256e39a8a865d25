"""Key separation by category, enforced where keys are released.

The attacker is a consumer that holds only the PII KEK (a Vault token whose policy
allows ``decrypt`` on the PII Transit key only; for the local provider, a KEK file
with the PII KEK only), the WHOLE key store and EVERY protected record, and runs
its own client code (no role checks at all): it must decrypt 100% of PII fields
and 0% of PCI fields. A forged ``streamsec.entities`` header cannot change that,
and the role view ignores headers altogether.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyfile import FileStore
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import create_keyring
from streamsec.crypto.providers.base import KekProvider
from streamsec.crypto.providers.local import LocalKekProvider
from streamsec.decryption.roles import RoleAccess
from streamsec.decryption.view import RoleDecryptor
from streamsec.errors import StreamsecError
from streamsec.protection.binding import RecordBinder
from streamsec.protection.protector import Protector
from streamsec.testing import FakeDetector
from streamsec.testing.kms_servers import Server
from streamsec.topology import parse_topology
from tests.integration.keys.conftest import ProviderFactory

TOPOLOGY = parse_topology("""
name: shop
input: raw.shop
output: protected.shop
subject: id
encryption: {missing_subject: shared}
key_separation: category
fields:
  id: keep
  email: {action: encrypt, entity: EMAIL_ADDRESS}
  card: {action: encrypt, entity: CREDIT_CARD}
roles:
  support: {categories: [PII]}
  fraud: {entities: [EMAIL_ADDRESS]}
""")
N = 40


def _protect(ring: Keyring) -> list[dict[str, Any]]:
    cipher = KeyringCipher(ring, "shop", separate_by_category=True)
    protector = Protector(TOPOLOGY, detector=FakeDetector(), cipher=cipher)
    return [
        protector.protect({"id": f"c{i}", "email": f"u{i}@example.com",
                           "card": "4111 1111 1111 1111"}).record
        for i in range(N)
    ]  # fmt: skip


def _count(cipher: KeyringCipher, records: list[dict[str, Any]], field: str) -> int:
    opened = 0
    binder = RecordBinder(TOPOLOGY)  # each value is bound to its record's subject
    for record in records:
        try:
            cipher.decrypt(record[field], path=field, binding=binder.of(record).at((field,)))
            opened += 1
        except StreamsecError:
            pass
    return opened


def _attack(tmp_path: Path, worker_ring: Keyring, consumer: KekProvider) -> None:
    records = _protect(worker_ring)
    stolen = tmp_path / "stolen-keyring.json"  # the whole key store
    shutil.copy(worker_ring._state.store.path, stolen)  # type: ignore[attr-defined]
    ring = Keyring(FileStore(stolen), kek_provider=consumer)
    cipher = KeyringCipher(ring, "shop")  # own code: no role checks
    assert _count(cipher, records, "email") == N  # 100% of PII
    assert _count(cipher, records, "card") == 0  # 0% of PCI
    # the role view, fed a record with a forged header, changes nothing either
    forged = dict(records[0])
    view = RoleDecryptor(cipher, RoleAccess(TOPOLOGY, "fraud")).view(forged)
    assert view.record["email"] == "u0@example.com"
    assert view.record["card"] == records[0]["card"]


def test_local_provider_consumer_with_only_the_pii_kek(
    local_factory: ProviderFactory, tmp_path: Path
) -> None:
    worker = local_factory()
    ring = create_keyring(tmp_path / "keyring.json", kek_provider=worker)
    _protect(ring)
    assert isinstance(worker, LocalKekProvider)
    doc = json.loads(worker.path.read_text())
    pii_only = tmp_path / "consumer" / "kek.json"
    pii_only.parent.mkdir()
    pii_only.write_text(json.dumps({**doc, "keks": {"pii": doc["keks"]["pii"]}}))
    pii_only.chmod(0o600)
    _attack(tmp_path, ring, LocalKekProvider(pii_only))


def test_vault_token_with_only_the_pii_policy(
    openbao: Server, vault_factory: ProviderFactory, tmp_path: Path
) -> None:
    """Access control lives in Vault: the PCI Transit key refuses this token."""
    import hvac

    from streamsec.crypto.providers.vault import VaultKekProvider

    worker = vault_factory()
    ring = create_keyring(tmp_path / "keyring.json", kek_provider=worker)
    prefix = worker._prefix  # type: ignore[attr-defined]
    root = hvac.Client(url=openbao.url, token=openbao.env["STREAMSEC_VAULT_TOKEN"])
    policy = f'path "transit/decrypt/{prefix}pii" {{ capabilities = ["update"] }}'
    root.sys.create_or_update_policy(name=f"{prefix}pii-reader", policy=policy)
    token = root.auth.token.create(policies=[f"{prefix}pii-reader"], ttl="10m")
    consumer = VaultKekProvider(
        url=openbao.url, token=token["auth"]["client_token"], key_prefix=prefix
    )
    _attack(tmp_path, ring, consumer)


def test_a_pii_consumer_cannot_even_use_the_default_kek(
    vault_factory: ProviderFactory, tmp_path: Path
) -> None:
    """Fields with no category go under 'unclassified', a KEK no category role gets."""
    ring = create_keyring(tmp_path / "keyring.json", kek_provider=vault_factory())
    cipher = KeyringCipher(ring, "shop", separate_by_category=True)
    token = cipher.encrypt(b"diagnosis", path="diagnosis")
    key_id = cipher.key_id_of(token)
    assert ring.key_info(key_id).kek == "unclassified"
    with pytest.raises(StreamsecError):
        ring.key_info("kzzzzzzzzzz")
