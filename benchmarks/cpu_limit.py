"""A CPU limit for one benchmark process: the kernel's CFS bandwidth control, the
mechanism behind a Kubernetes CPU limit (``resources.limits.cpu``) or
``docker run --cpus``, set through the cgroup filesystem.

The harness uses it to measure scale-out as workers are deployed: each worker with a
CPU budget of its own, so that two of them plus the broker and the load generator fit
on the machine. Without limits, on 2 cores, "two workers against one" measures the
machine (two workers need the 2 CPUs the broker and the load generator share).

Works with the cgroup v2 unified hierarchy when its ``cpu`` controller is enabled for
children of the root (``cpu.max``), else with the v1 ``cpu`` hierarchy
(``cpu.cfs_quota_us``). Needs root. :func:`unavailable` says why when neither is.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Final

__all__ = ["PERIOD_US", "CpuLimit", "unavailable"]

PERIOD_US: Final = 100_000
"""The CFS period (the kernel's and Kubernetes' default, 100 ms)."""
_V2: Final = Path("/sys/fs/cgroup")
_V1: Final = Path("/sys/fs/cgroup/cpu")


def _root() -> tuple[Path, bool]:
    """Where to create a limited group, and whether it is cgroup v2."""
    controllers = _V2 / "cgroup.subtree_control"
    if controllers.is_file() and "cpu" in controllers.read_text().split():
        return _V2, True
    return _V1, False


def unavailable() -> str | None:
    """Why no CPU limit can be set here (None: it can)."""
    root, v2 = _root()  # v2 only when its cpu controller is there
    if not v2 and not (root / "cpu.cfs_quota_us").is_file():
        return "no cgroup cpu controller (v2 cpu.max or v1 cpu.cfs_quota_us)"
    if not os.access(root, os.W_OK):
        return f"{root} is not writable (needs root)"
    return None


class CpuLimit:
    """A cgroup of its own whose processes together get at most ``cpus`` CPUs."""

    def __init__(self, name: str, cpus: float) -> None:
        if cpus <= 0:
            raise ValueError("a CPU limit is positive")
        root, v2 = _root()
        self.path = root / name
        self.path.mkdir()
        quota = max(1_000, round(cpus * PERIOD_US))
        if v2:
            (self.path / "cpu.max").write_text(f"{quota} {PERIOD_US}")
        else:
            (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))

    def add(self, pid: int) -> None:
        """Move a process (all its threads) into the group."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def close(self) -> None:
        """Remove the group (once its processes have exited)."""
        with contextlib.suppress(OSError):  # a process still in it: the group stays
            self.path.rmdir()
