from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from streamsec.broker.lease import acquire_lease, live_leases, release_lease


def test_the_last_live_holder_is_told_so(tmp_path: Path) -> None:
    first = acquire_lease(tmp_path)
    second = acquire_lease(tmp_path)
    assert set(live_leases(tmp_path)) == {first, second}
    assert release_lease(first) is False
    assert release_lease(second) is True
    assert live_leases(tmp_path) == []


def test_leases_of_dead_processes_are_stale(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / f"{dead.stdout.strip()}-old.lease"
    stale.write_text(dead.stdout)
    (tmp_path / "garbage.lease").write_text("nope")
    mine = acquire_lease(tmp_path)
    assert live_leases(tmp_path) == [mine]
    assert not stale.exists()
    assert release_lease(mine) is True
