"""Background process control: spawn in its own session, pid file, graceful stop.

The broker runs in a new session (its own process group), so it survives the CLI that
started it exiting or being interrupted. A pid file names it; a pid is only trusted
while ``/proc/<pid>/cmdline`` (where there is one) still contains the instance's marker,
so a recycled pid never gets signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from streamsec.errors import BrokerError

__all__ = ["kill_now", "process_alive", "read_pid", "spawn", "terminate"]

# Children started by this interpreter, so they can be reaped (no zombies in pytest).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def read_pid(pid_file: Path) -> int | None:
    try:
        text = pid_file.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def _cmdline(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return "" if not Path("/proc/self").exists() else None  # no procfs: cannot tell
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode("utf-8", "replace")


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def process_alive(pid: int, marker: str | None = None) -> bool:
    """True if ``pid`` runs (not a zombie) and its command line contains ``marker``."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        _CHILDREN.pop(pid, None)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    if _is_zombie(pid):
        return False
    if marker is None:
        return True
    cmdline = _cmdline(pid)
    if cmdline is None:
        return False
    return cmdline == "" or marker in cmdline


def without_secrets(env: Mapping[str, str] | None) -> dict[str, str]:
    """``env`` (default: ours) without any secret STREAMSEC_* setting (a KEK, a PIN, a
    token, a password): the broker's JVM needs none of them and must not inherit them."""
    from pydantic import SecretStr

    from streamsec.settings import Settings

    secret = {
        f"STREAMSEC_{name.upper()}" for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation) or field.annotation is SecretStr
    }  # fmt: skip
    return {k: v for k, v in (os.environ if env is None else env).items()
            if k.upper() not in secret}  # fmt: skip


def spawn(
    command: Sequence[str],
    *,
    pid_file: Path,
    stdout_log: Path,
    cwd: Path,
    env: Mapping[str, str] | None = None,
) -> int:
    """Start ``command`` in a new session, detached from our stdin; returns its pid."""
    stdout_log.parent.mkdir(parents=True, exist_ok=True)
    with stdout_log.open("ab") as out:
        try:
            child = subprocess.Popen(
                list(command),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=without_secrets(env),
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            raise BrokerError(f"cannot start {Path(command[0]).name}: {exc.strerror}") from None
    _CHILDREN[child.pid] = child
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(f"{child.pid}\n", encoding="ascii")
    return child.pid


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, marker: str | None, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_alive(pid, marker):
            return True
        time.sleep(0.1)
    return not process_alive(pid, marker)


def terminate(pid: int, *, marker: str | None = None, timeout: float = 30.0) -> bool:
    """SIGTERM the process group, then SIGKILL after ``timeout``. True if it was graceful."""
    if not process_alive(pid, marker):
        return True
    _signal_group(pid, signal.SIGTERM)
    if _wait_gone(pid, marker, timeout):
        _reap(pid)
        return True
    kill_now(pid, marker=marker)
    return False


def kill_now(pid: int, *, marker: str | None = None, timeout: float = 10.0) -> None:
    """SIGKILL the process group (a crash, for tests) and wait until it is gone."""
    if process_alive(pid, marker):
        _signal_group(pid, signal.SIGKILL)
    if not _wait_gone(pid, marker, timeout):
        raise BrokerError("process did not die after SIGKILL", key=str(pid))
    _reap(pid)


def _reap(pid: int) -> None:
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)
