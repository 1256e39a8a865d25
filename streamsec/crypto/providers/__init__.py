"""KEK providers, one module each, chosen by ``STREAMSEC_KEK_PROVIDER``.

* ``local`` (:mod:`.local`): KEKs in a file of their own (the embedded default).
* ``pkcs11`` (:mod:`.pkcs11`): an HSM through PKCS#11 (extra ``pkcs11``).
* ``vault`` (:mod:`.vault`): HashiCorp Vault / OpenBao Transit (extra ``vault``).
* ``aws-kms`` (:mod:`.aws_kms`): AWS KMS (extra ``aws-kms``).

Optional dependencies are imported only when their provider is chosen; a missing
one is a :class:`~streamsec.errors.SettingsError` naming the extra.
"""

from __future__ import annotations

from pathlib import Path

from streamsec.crypto.providers.base import DEFAULT_KEK, KEK_NAME_PATTERN, KekProvider
from streamsec.errors import SettingsError
from streamsec.settings import Settings

__all__ = ["DEFAULT_KEK", "KEK_NAME_PATTERN", "KekProvider", "kek_file_of", "open_kek_provider"]


def kek_file_of(settings: Settings, keyring: Path | None = None) -> Path:
    """The local provider's KEK file: ``STREAMSEC_KEK_FILE`` or ``kek.json`` beside the keyring."""
    if settings.kek_file is not None:
        return settings.kek_file
    return (keyring or settings.keyring).with_name("kek.json")


def _secret(settings: Settings, field: str, env: str) -> str:
    value = getattr(settings, field)
    if value is None or not value.get_secret_value():
        raise SettingsError(f"{env} is required by STREAMSEC_KEK_PROVIDER", key=env)
    return str(value.get_secret_value())


def open_kek_provider(settings: Settings, *, keyring: Path | None = None) -> KekProvider:
    """The provider named by ``STREAMSEC_KEK_PROVIDER``, configured from the settings."""
    kind = settings.kek_provider
    try:
        if kind == "pkcs11":
            from streamsec.crypto.providers.pkcs11 import Pkcs11KekProvider

            return Pkcs11KekProvider(
                module=str(settings.pkcs11_module),
                token_label=settings.pkcs11_token_label,
                pin=_secret(settings, "pkcs11_pin", "STREAMSEC_PKCS11_PIN"),
            )
        if kind == "vault":
            from streamsec.crypto.providers.vault import VaultKekProvider

            if not settings.vault_addr:
                raise SettingsError("STREAMSEC_VAULT_ADDR is required", key="STREAMSEC_VAULT_ADDR")
            return VaultKekProvider(
                url=settings.vault_addr,
                token=_secret(settings, "vault_token", "STREAMSEC_VAULT_TOKEN"),
                mount=settings.vault_mount,
                key_prefix=settings.vault_key_prefix,
            )
        if kind == "aws-kms":
            from streamsec.crypto.providers.aws_kms import AwsKmsKekProvider

            return AwsKmsKekProvider(
                region=settings.aws_region,
                endpoint=settings.aws_kms_endpoint,
                alias_prefix=settings.aws_kms_alias_prefix,
            )
    except ImportError as exc:
        raise SettingsError(str(exc), key="STREAMSEC_KEK_PROVIDER") from None
    from streamsec.crypto.providers.local import LocalKekProvider

    return LocalKekProvider(kek_file_of(settings, keyring))
