from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamsec.cli.main import main


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STREAMSEC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STREAMSEC_BROKER", raising=False)


def test_up_with_an_external_cluster_prints_it_last(monkeypatch, fake_kafka: str, capsys) -> None:
    monkeypatch.setenv("STREAMSEC_BROKER", fake_kafka)
    assert main(["broker", "up", "--timeout", "5"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == fake_kafka


def test_up_fails_cleanly_when_the_external_cluster_is_down(monkeypatch, closed_port, capsys):
    monkeypatch.setenv("STREAMSEC_BROKER", f"127.0.0.1:{closed_port}")
    assert main(["broker", "up", "--timeout", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "STREAMSEC_BROKER" in captured.err
    assert "does not answer" in captured.err


def test_down_leaves_an_external_cluster_alone(monkeypatch, fake_kafka: str, capsys) -> None:
    monkeypatch.setenv("STREAMSEC_BROKER", fake_kafka)
    assert main(["broker", "down"]) == 0
    assert "does not stop an external cluster" in capsys.readouterr().out


def test_status_json_and_exit_code(monkeypatch, fake_kafka: str, capsys) -> None:
    assert main(["broker", "status", "--json"]) == 1  # local, never started
    local = json.loads(capsys.readouterr().out)
    assert local["mode"] == "local"
    assert local["running"] is False
    assert local["installed"] is False

    monkeypatch.setenv("STREAMSEC_BROKER", fake_kafka)
    assert main(["broker", "status"]) == 0
    text = capsys.readouterr().out
    assert "mode: external" in text
    assert "reachable: True" in text
    assert "brokers: 1" in text


def test_down_when_nothing_runs(capsys) -> None:
    assert main(["broker", "down"]) == 0
    assert capsys.readouterr().out.strip() == "not running"


def test_up_secure_says_how_to_connect_without_printing_a_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from types import SimpleNamespace

    from streamsec.broker.layout import BrokerLayout
    from streamsec.broker.secure import SecureMaterial
    from streamsec.cli import broker_cmd

    layout = BrokerLayout(home=tmp_path, instance="secure")
    layout.dir.mkdir(parents=True)
    material = SecureMaterial.create(layout.dir)
    fake = SimpleNamespace(
        layout=layout, material=material, mtls_bootstrap="127.0.0.1:2",
        is_running=lambda: True, start=lambda timeout: "127.0.0.1:1",
    )
    monkeypatch.setattr(broker_cmd, "_secure_broker", lambda settings: fake)
    assert main(["broker", "up", "--secure"]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == "127.0.0.1:1"
    assert "STREAMSEC_SECURITY_PROTOCOL=SASL_SSL" in out
    assert str(material.ca_file) in out
    for password in material.passwords.values():
        assert password not in out
