"""Clear-text output files (decrypted records, dead letters) are written 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from streamsec.cli.io import open_output


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_output_file_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        target = tmp_path / "out" / "clear.jsonl"
        with open_output(str(target)) as out:
            assert out is not None
            out.write("{}\n")
    finally:
        os.umask(old)
    assert _mode(target) == 0o600
    assert target.read_text() == "{}\n"


def test_an_existing_wider_file_is_narrowed_and_truncated(tmp_path: Path) -> None:
    target = tmp_path / "clear.jsonl"
    target.write_text("old secret\n")
    target.chmod(0o644)
    with open_output(str(target)) as out:
        assert out is not None
        out.write("new\n")
    assert _mode(target) == 0o600
    assert target.read_text() == "new\n"
