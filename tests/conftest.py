"""Shared by every test: no test writes audit keys into the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _audit_keys_in_tmp(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Audit signing and pseudonym keys default to ``<home>/audit/`` (the working
    directory's ``.streamsec`` when nothing sets a home): point both at a per-test
    directory (worker subprocesses inherit it)."""
    keys: Path = tmp_path_factory.mktemp("audit-keys")
    monkeypatch.setenv("STREAMSEC_AUDIT_SIGNING_KEY", str(keys / "signing.key"))
    monkeypatch.setenv("STREAMSEC_AUDIT_PSEUDONYM_KEY", str(keys / "pseudonym.key"))
