"""Real KEK servers for the key tests, started once per session on loopback.

SoftHSM2 (a token in a private directory), OpenBao (``bao server -dev``) and moto's
KMS server are launched by :mod:`streamsec.testing.kms_servers`; nothing is mocked.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import streamsec.keystore  # noqa: F401 (registers STREAMSEC_KEY_STORE=kafka, as the CLI does)
from streamsec.crypto.providers.base import KekProvider
from streamsec.testing.kms_servers import (
    SOFTHSM_MODULE,
    Server,
    SoftHsmToken,
    softhsm_token,
    start_moto_kms,
    start_openbao,
)

ProviderFactory = Callable[[], KekProvider]


@pytest.fixture(scope="session")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsmToken:
    if not os.path.exists(SOFTHSM_MODULE):
        pytest.fail("SoftHSM2 is not installed: run scripts/setup.sh (Debian package softhsm2)")
    # test_erasure_backup's own token, made now: SoftHSM2 lists tokens when first loaded
    return softhsm_token(tmp_path_factory.mktemp("softhsm"), extra_labels=("streamsec-erasure",))


@pytest.fixture(scope="session")
def openbao() -> Iterator[Server]:
    server = start_openbao()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto_kms() -> Iterator[Server]:
    server = start_moto_kms()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        os.environ.setdefault(name, server.env[name])
    yield server
    server.stop()


def _unique() -> str:
    return f"t{secrets.token_hex(4)}-"


@pytest.fixture
def pkcs11_factory(hsm: SoftHsmToken) -> ProviderFactory:
    from streamsec.crypto.providers.pkcs11 import Pkcs11KekProvider

    prefix = f"streamsec-kek.{_unique()}"
    return lambda: Pkcs11KekProvider(
        module=SOFTHSM_MODULE, token_label=hsm.label, pin=hsm.pin, label_prefix=prefix
    )


@pytest.fixture
def vault_factory(openbao: Server) -> ProviderFactory:
    from streamsec.crypto.providers.vault import VaultKekProvider

    prefix = f"streamsec-{_unique()}"
    token = openbao.env["STREAMSEC_VAULT_TOKEN"]
    return lambda: VaultKekProvider(url=openbao.url, token=token, key_prefix=prefix)


@pytest.fixture
def kms_factory(moto_kms: Server) -> ProviderFactory:
    from streamsec.crypto.providers.aws_kms import AwsKmsKekProvider

    prefix = f"alias/streamsec-{_unique()}"
    return lambda: AwsKmsKekProvider(
        region="us-east-1", endpoint=moto_kms.url, alias_prefix=prefix
    )


@pytest.fixture
def local_factory(tmp_path: Path) -> ProviderFactory:
    from streamsec.crypto.providers.local import LocalKekProvider

    return lambda: LocalKekProvider(tmp_path / "kek" / "kek.json")


@pytest.fixture(params=["local", "pkcs11", "vault", "aws-kms"])
def provider_factory(request: pytest.FixtureRequest) -> ProviderFactory:
    name = {"local": "local_factory", "pkcs11": "pkcs11_factory", "vault": "vault_factory",
            "aws-kms": "kms_factory"}[request.param]  # fmt: skip
    factory: ProviderFactory = request.getfixturevalue(name)
    return factory
