from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamsec.broker import process

SLEEPER = "import time; print('ready', flush=True); time.sleep(60)"
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[int]]:
    pids: list[int] = []
    yield pids
    for pid in pids:
        process.kill_now(pid)


def _spawn(tmp_path: Path, code: str, started: list[int]) -> int:
    log = tmp_path / "out.log"
    pid = process.spawn(
        [sys.executable, "-c", code, "marker-xyz"],
        pid_file=tmp_path / "p.pid",
        stdout_log=log,
        cwd=tmp_path,
    )
    started.append(pid)
    deadline = time.monotonic() + 20
    while "ready" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, "child did not start"
        time.sleep(0.05)
    return pid


def test_spawn_runs_in_its_own_session_with_a_pid_file(tmp_path: Path, started) -> None:
    pid = _spawn(tmp_path, SLEEPER, started)
    assert process.read_pid(tmp_path / "p.pid") == pid
    assert os.getpgid(pid) == pid != os.getpgid(0)
    assert os.getsid(pid) == pid
    assert process.process_alive(pid, "marker-xyz")
    assert not process.process_alive(pid, "some-other-instance")


def test_terminate_is_graceful_for_a_cooperative_process(tmp_path: Path, started) -> None:
    pid = _spawn(tmp_path, SLEEPER, started)
    assert process.terminate(pid, marker="marker-xyz", timeout=10) is True
    assert not process.process_alive(pid)


def test_terminate_escalates_to_sigkill(tmp_path: Path, started) -> None:
    pid = _spawn(tmp_path, STUBBORN, started)
    began = time.monotonic()
    assert process.terminate(pid, marker="marker-xyz", timeout=0.5) is False
    assert not process.process_alive(pid)
    assert time.monotonic() - began < 10


def test_kill_now_and_pid_file_edge_cases(tmp_path: Path, started) -> None:
    pid = _spawn(tmp_path, STUBBORN, started)
    process.kill_now(pid, marker="marker-xyz")
    assert not process.process_alive(pid)
    assert process.terminate(pid) is True  # already gone: nothing to do
    assert process.read_pid(tmp_path / "missing.pid") is None
    (tmp_path / "junk.pid").write_text("not-a-pid")
    assert process.read_pid(tmp_path / "junk.pid") is None


def test_a_recycled_pid_is_not_trusted() -> None:
    # This test process is alive but is not a broker: its marker is absent.
    assert process.process_alive(os.getpid())
    assert not process.process_alive(os.getpid(), "server.properties-of-no-broker")
