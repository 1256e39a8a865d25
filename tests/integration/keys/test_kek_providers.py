"""Every KEK provider against its real server: wrap/unwrap, AAD binding, rotation.

Destruction of an old version is tested on the providers that really destroy:
local (file), SoftHSM2 (object deleted) and OpenBao (min_decryption_version +
trim). moto's KMS does NOT enforce key state (a disabled or pending-deletion key
still decrypts), so for aws-kms only the encryption-context binding is asserted.
"""

from __future__ import annotations

import os

import pytest

from streamsec.errors import KeyAccessError
from tests.integration.keys.conftest import ProviderFactory

AAD = b"ssec-dek|k1|orders"


def test_wrap_unwrap_round_trip_and_aad_binding(provider_factory: ProviderFactory) -> None:
    provider = provider_factory()
    material = os.urandom(32)
    version, wrapped = provider.wrap("default", material, AAD)
    assert material not in wrapped
    assert provider.unwrap("default", version, wrapped, AAD) == material
    with pytest.raises(KeyAccessError) as info:  # moved to another entry
        provider.unwrap("default", version, wrapped, AAD + b"x")
    assert material.hex() not in str(info.value)
    other = provider_factory()  # another process of the same deployment
    assert other.unwrap("default", version, wrapped, AAD) == material
    provider.close()
    other.close()


def test_kek_names_are_separate_keys(provider_factory: ProviderFactory) -> None:
    provider = provider_factory()
    version, wrapped = provider.wrap("pii", os.urandom(32), AAD)
    with pytest.raises(KeyAccessError):
        provider.unwrap("pci", version, wrapped, AAD)
    provider.close()


def test_unknown_name_without_create_is_refused(provider_factory: ProviderFactory) -> None:
    provider = provider_factory()
    with pytest.raises(KeyAccessError):
        provider.wrap("never-made", b"x" * 32, AAD, create=False)
    provider.close()


def test_rotation_keeps_old_version_until_destroyed(provider_factory: ProviderFactory) -> None:
    provider = provider_factory()
    material = os.urandom(32)
    v1, wrapped1 = provider.wrap("default", material, AAD)
    v2 = provider.rotate("default")
    assert v2 != v1
    v_now, wrapped2 = provider.wrap("default", material, AAD)
    assert v_now == v2
    assert provider.unwrap("default", v1, wrapped1, AAD) == material  # still there
    with pytest.raises(KeyAccessError):
        provider.destroy_version("default", v2)  # never the current one
    provider.destroy_version("default", v1)
    assert provider.unwrap("default", v2, wrapped2, AAD) == material
    provider.close()


@pytest.mark.parametrize("name", ["local_factory", "pkcs11_factory", "vault_factory"])
def test_destroyed_version_no_longer_unwraps(request: pytest.FixtureRequest, name: str) -> None:
    """Real destruction (moto would still decrypt with a key pending deletion)."""
    provider = request.getfixturevalue(name)()
    material = os.urandom(32)
    v1, wrapped1 = provider.wrap("default", material, AAD)
    provider.rotate("default")
    provider.destroy_version("default", v1)
    with pytest.raises(KeyAccessError):
        provider.unwrap("default", v1, wrapped1, AAD)
    fresh = request.getfixturevalue(name)  # same prefix: a new process sees it too
    with pytest.raises(KeyAccessError):
        fresh().unwrap("default", v1, wrapped1, AAD)
    provider.close()


def test_hsm_kek_is_not_extractable(pkcs11_factory: ProviderFactory) -> None:
    from pkcs11 import Attribute

    provider = pkcs11_factory()
    version, _ = provider.wrap("default", os.urandom(32), AAD)
    key = provider._key("default", version)  # type: ignore[attr-defined]
    assert key[Attribute.EXTRACTABLE] is False
    assert key[Attribute.SENSITIVE] is True
    from pkcs11.exceptions import PKCS11Error

    with pytest.raises(PKCS11Error):
        key[Attribute.VALUE]
    provider.close()


def test_kms_enforces_encryption_context(kms_factory: ProviderFactory) -> None:
    """moto enforces the context (it does not enforce key state: see module doc)."""
    provider = kms_factory()
    version, wrapped = provider.wrap("default", os.urandom(32), AAD)
    with pytest.raises(KeyAccessError, match="KMS refused"):
        provider.unwrap("default", version, wrapped, b"another entry")
    provider.close()
