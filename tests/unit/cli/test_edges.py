"""The command line's edges: closed pipe, --version, bad option values, progress bars,
and ``streamsec demo``'s topology from any directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from streamsec.cli.main import EXIT_BROKEN_PIPE, main
from streamsec.crypto.keyring_setup import create_keyring
from tests.unit.lifecycle.conftest import CRM

REPO = Path(__file__).resolve().parents[3]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture
def keyring(tmp_path: Path) -> Path:
    path = tmp_path / "keyring.json"
    create_keyring(path)
    return path


@pytest.fixture
def topology(tmp_path: Path) -> Path:
    path = tmp_path / "crm.yaml"
    path.write_text(CRM.format(subject_rule="keep"))
    return path


@pytest.mark.parametrize("command", ["decrypt", "rekey"])
def test_a_closed_pipe_ends_quietly(
    command: str, tmp_path: Path, keyring: Path, topology: Path
) -> None:
    data = tmp_path / "many.jsonl"
    data.write_text('{"customer_id": "C-1", "tier": "gold"}\n' * 20_000)
    args = [sys.executable, "-m", "streamsec.cli.main", command, "-t", str(topology),
            "--keyring", str(keyring), "--in", str(data)]
    if command == "decrypt":
        args += ["--as", "all"]
    if command == "rekey":
        args += ["--out", "-"]
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=tmp_path
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert json.loads(first) == {"customer_id": "C-1", "tier": "gold"}
    assert code == EXIT_BROKEN_PIPE
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert "Exception ignored" not in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("streamsec ") and len(out.split()) == 2


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--log-level", "LOUD", "topology", "validate", "x.yaml"], "--log-level"),
        (["protect", "-t", "x.yaml", "--batch-size", "many"], "--batch-size"),
        (["nosuch"], "COMMAND"),
    ],
)
def test_a_bad_option_value_is_one_line(
    argv: list[str], names: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and names in err and "Traceback" not in err


def test_log_level_is_case_insensitive(topology: Path) -> None:
    assert main(["--log-level", "debug", "topology", "validate", str(topology)]) == 0


def test_demo_topology_is_found_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamsec.cli.demo_cmd import DEFAULT_TOPOLOGY
    from streamsec.topology.loader import load_topology

    monkeypatch.chdir(tmp_path)
    assert DEFAULT_TOPOLOGY.is_absolute()
    assert load_topology(DEFAULT_TOPOLOGY).name == "customers"
    assert DEFAULT_TOPOLOGY.read_bytes() == (REPO / "topologies" / "customers.yaml").read_bytes()
    parser_default = _demo_default()
    assert parser_default == DEFAULT_TOPOLOGY


def _demo_default() -> Path:
    from streamsec.cli.main import build_parser

    args = build_parser().parse_args(["demo"])
    return Path(args.topology)


def _rekey_args(keyring: Path, topology: Path, data: Path, out: Path) -> list[str]:
    return ["rekey", "-t", str(topology), "--keyring", str(keyring), "--in", str(data),
            "--out", str(out)]


@pytest.mark.parametrize("tty", [True, False])
def test_progress_bar_on_stderr_only_on_a_terminal(
    tty: bool, tmp_path: Path, keyring: Path, topology: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("streamsec.cli.progress.is_terminal", lambda: tty)
    data = tmp_path / "in.jsonl"
    data.write_text('{"customer_id": "C-1"}\n' * 200)
    out = tmp_path / "out.jsonl"
    assert main(_rekey_args(keyring, topology, data, out)) == 0
    captured = capsys.readouterr()
    assert ("re-keying" in captured.err) is tty
    assert "re-keying" not in captured.out
    assert out.read_text() == data.read_text().replace(" ", "")


@pytest.mark.parametrize("tty", [True, False])
def test_prove_forgotten_shows_progress_on_a_terminal(
    tty: bool, tmp_path: Path, keyring: Path, topology: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("streamsec.cli.progress.is_terminal", lambda: tty)
    data = tmp_path / "in.jsonl"
    data.write_text('{"customer_id": "C-1"}\n' * 50)
    code = main(["keys", "prove-forgotten", "-t", str(topology), "--keyring", str(keyring),
                 "--in", str(data), "--subject", "C-9", "--json"])
    captured = capsys.readouterr()
    assert code in (0, 1)
    json.loads(captured.out)  # stdout holds the report only
    assert ("checking" in captured.err) is tty
