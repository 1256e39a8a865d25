"""The broker's JVM (any child ``spawn`` starts) never inherits a secret setting."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from streamsec.broker.process import spawn, without_secrets


def test_secret_settings_are_not_inherited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMSEC_KEK", "a-kek-for-this-test")
    monkeypatch.setenv("STREAMSEC_VAULT_TOKEN", "a-token-for-this-test")
    monkeypatch.setenv("STREAMSEC_PKCS11_PIN", "a-pin-for-this-test")
    monkeypatch.setenv("STREAMSEC_APP_ID", "kept")
    env = without_secrets(None)
    assert "STREAMSEC_APP_ID" in env
    assert not {"STREAMSEC_KEK", "STREAMSEC_VAULT_TOKEN", "STREAMSEC_PKCS11_PIN"} & set(env)
    log = tmp_path / "child.log"
    code = "import os; print(sorted(k for k in os.environ if k.startswith('STREAMSEC_')))"
    spawn([sys.executable, "-c", code], pid_file=tmp_path / "child.pid", stdout_log=log,
          cwd=tmp_path)  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "STREAMSEC_APP_ID" not in log.read_text():
        time.sleep(0.05)
    text = log.read_text()
    assert "STREAMSEC_APP_ID" in text
    assert "a-kek" not in text and "STREAMSEC_KEK'" not in text
    assert "STREAMSEC_VAULT_TOKEN" not in text and "STREAMSEC_PKCS11_PIN" not in text
