"""A ``streamsec worker`` child process: start, stop gracefully, kill (demo, tests, benchmarks)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = ["WorkerProcess", "read_topics", "worker_command"]


def worker_command() -> list[str]:
    """The ``streamsec`` console script of this interpreter, else ``python -m``."""
    script = Path(sys.executable).with_name("streamsec")
    if script.exists():
        return [str(script)]
    found = shutil.which("streamsec")
    return [found] if found else [sys.executable, "-m", "streamsec.cli.main"]


class WorkerProcess:
    def __init__(
        self,
        topologies: Sequence[Path | str],
        *,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        log_file: Path | None = None,
        log_level: str = "INFO",
    ) -> None:
        self.topologies = [str(t) for t in topologies]
        self.env = {**os.environ, **(env or {})}
        self.args = list(args)
        self.log_file = log_file
        self.log_level = log_level
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def command(self) -> list[str]:
        cmd = [*worker_command(), "--log-level", self.log_level, "worker"]
        for topology in self.topologies:
            cmd += ["--topology", topology]
        return cmd + self.args

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> WorkerProcess:
        if self.running:
            raise RuntimeError("the worker is already running")
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_file.open("ab")
        self._proc = subprocess.Popen(
            self.command, env=self.env, stdin=subprocess.DEVNULL,
            stdout=self._log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        return self

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM (graceful: in-flight batch delivered, offsets committed), then wait;
        SIGKILL if it has not exited after ``timeout``. Returns the exit code."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)
        return self._close()

    def kill(self) -> int | None:
        """SIGKILL now: nothing is flushed or committed."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)
        return self._close()

    def _close(self) -> int | None:
        code = self._proc.returncode if self._proc else None
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def read_topics(
    bootstrap: str,
    topics: Sequence[str],
    want: int,
    *,
    timeout: float,
    alive: Callable[[], bool] | None = None,
    settle: float = 0.0,
    client: Mapping[str, Any] | None = None,
) -> dict[str, list[Any]]:
    """All records of ``topics`` from the beginning (``read_committed``), until ``want``
    arrived in all of them or ``timeout``; then ``settle`` seconds more for stragglers.
    Raises ``RuntimeError`` as soon as ``alive()`` turns false."""
    from streamsec.kafka import KafkaConnection, new_consumer

    consumer = new_consumer(
        KafkaConnection(bootstrap, dict(client or {})), *topics, group_id=None,
        enable_auto_commit=False, auto_offset_reset="earliest",
    )
    await consumer.start()
    got: dict[str, list[Any]] = {t: [] for t in topics}
    deadline = time.monotonic() + timeout
    try:
        while sum(map(len, got.values())) < want and time.monotonic() < deadline:
            if alive is not None and not alive():
                raise RuntimeError("the worker exited")
            for tp, records in (await consumer.getmany(timeout_ms=300)).items():
                got[tp.topic].extend(records)
        end = time.monotonic() + settle
        while time.monotonic() < end:
            for tp, records in (await consumer.getmany(timeout_ms=200)).items():
                got[tp.topic].extend(records)
    finally:
        await consumer.stop()
    return got
