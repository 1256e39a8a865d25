"""Audit key files are created all at once: two workers starting together both read a
complete key (a worker once read the other's pseudonym key while it was still empty)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from streamsec.events.signing import (
    FileSigner,
    Pseudonymizer,
    create_secret_file,
    load_private_key,
)


def _open_both(folder: str, barrier: Any, out: Any) -> None:
    barrier.wait(10)
    try:
        pseudonyms = Pseudonymizer.open(Path(folder) / "pseudonym.key")
        signer = FileSigner.open(Path(folder) / "signing.pem")
        out.put(f"{pseudonyms.record_key(b'customer-1')}:{signer.public_key().hex()}")
    except Exception as exc:
        out.put(f"error: {exc}")


def test_workers_starting_together_all_read_the_same_complete_keys(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    for round_ in range(4):
        folder = tmp_path / f"round-{round_}"
        barrier, out = ctx.Barrier(6), ctx.Queue()
        procs = [ctx.Process(target=_open_both, args=(str(folder), barrier, out))
                 for _ in range(6)]
        for proc in procs:
            proc.start()
        seen = [out.get(timeout=30) for _ in procs]
        for proc in procs:
            proc.join(10)
        assert len(set(seen)) == 1 and not seen[0].startswith("error"), seen
        assert sorted(p.name for p in folder.iterdir()) == ["pseudonym.key", "signing.pem"]


def test_a_secret_file_is_never_visible_incomplete(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """At the moment it appears under its name it already holds every byte, 0600."""
    import os

    target = tmp_path / "k" / "secret"
    real_link = os.link
    seen: list[tuple[bool, bytes, int]] = []

    def link(src: str | Path, dst: str | Path) -> None:
        seen.append((Path(dst).exists(), Path(src).read_bytes(), Path(src).stat().st_mode & 0o777))
        real_link(src, dst)

    monkeypatch.setattr(os, "link", link)
    create_secret_file(target, b"x" * 44)
    assert seen == [(False, b"x" * 44, 0o600)]
    assert target.read_bytes() == b"x" * 44 and (target.stat().st_mode & 0o777) == 0o600
    with pytest.raises(FileExistsError):
        create_secret_file(target, b"y" * 44)
    assert target.read_bytes() == b"x" * 44
    assert [p.name for p in target.parent.iterdir()] == ["secret"]  # no temporary left


def test_the_signing_key_written_is_the_one_read(tmp_path: Path) -> None:
    signer = FileSigner.open(tmp_path / "s.pem")
    assert load_private_key(tmp_path / "s.pem").public_key().public_bytes_raw() == \
        signer.public_key()
