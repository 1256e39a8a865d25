"""``rotate-kek`` against real providers: every data key is wrapped again under a new
KEK version and the old version is destroyed in the provider, so a copy of the key
store taken before the rotation no longer unwraps anything.

Destruction is asserted with local, SoftHSM2 and OpenBao. moto's KMS does not
enforce key state (a key pending deletion still decrypts), so for aws-kms only the
re-wrapping is asserted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.envelope import b64url_decode
from streamsec.crypto.kek_rotation import rotate_kek
from streamsec.crypto.keyfile import FileStore
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import create_keyring
from streamsec.crypto.keys import KeyPurpose
from streamsec.errors import KeyAccessError
from tests.integration.keys.conftest import ProviderFactory


def _fill(ring: Keyring) -> tuple[KeyringCipher, list[tuple[str, str]]]:
    cipher = KeyringCipher(ring, "orders")
    tokens = [(f"v{i}", cipher.encrypt(f"v{i}".encode(), path="p", subject=f"s{i}"))
              for i in range(20)]  # fmt: skip
    tokens.append(("plain", cipher.encrypt(b"plain", path="p")))
    return cipher, tokens


def test_rotate_kek_rewraps_everything(provider_factory: ProviderFactory, tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    ring = create_keyring(path, kek_provider=provider_factory())
    ring.destroy_subject("orders", "gone")  # a tombstone has nothing to re-wrap
    _, tokens = _fill(ring)
    before = path.read_bytes()
    result = rotate_kek(ring)
    assert result.rewrapped == 21
    reader = Keyring(FileStore(path), kek_provider=provider_factory())  # another process
    cipher = KeyringCipher(reader, "orders")
    assert [cipher.decrypt(t, path="p").decode() for _, t in tokens] == [v for v, _ in tokens]
    assert path.read_bytes() != before
    assert {k.kek_version for k in reader._state.document.keys if k.wrapped} == {  # type: ignore[union-attr]
        result.new_versions["default"]
    }


@pytest.mark.parametrize("name", ["local_factory", "pkcs11_factory", "vault_factory"])
def test_backup_from_before_rotate_kek_is_dead(
    request: pytest.FixtureRequest, name: str, tmp_path: Path
) -> None:
    """The erasure property rotate-kek gives: an old copy of the key store is useless."""
    factory: ProviderFactory = request.getfixturevalue(name)
    path = tmp_path / "keyring.json"
    ring = create_keyring(path, kek_provider=factory())
    _fill(ring)
    backup = tmp_path / "backup.json"
    backup.write_bytes(path.read_bytes())
    backup.chmod(0o600)
    result = rotate_kek(ring)
    assert result.destroyed, "old KEK versions must be destroyed in the provider"
    with pytest.raises(KeyAccessError, match="does not unlock"):
        Keyring(FileStore(backup), kek_provider=factory())  # its index key is dead too
    old = json.loads(backup.read_text())["keys"][0]
    provider = factory()
    with pytest.raises(KeyAccessError):  # and so is each data key it holds
        provider.unwrap("default", old["kek_version"], b64url_decode(old["wrapped"]), b"any")


def test_rotate_kek_twice(vault_factory: ProviderFactory, tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    ring = create_keyring(path, kek_provider=vault_factory())
    _, tokens = _fill(ring)
    rotate_kek(ring)
    second = rotate_kek(ring)
    assert second.new_versions["default"] == "3"
    cipher = KeyringCipher(Keyring(FileStore(path), kek_provider=vault_factory()), "orders")
    assert cipher.decrypt(tokens[-1][1], path="p") == b"plain"
    assert cipher.provider.current_key("orders", KeyPurpose.ENCRYPT).id  # still usable
