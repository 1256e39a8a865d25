"""Long texts are read in overlapping windows, so no step of detection sees more
than a few thousand characters at once.

Several steps that are fine on a sentence grow faster than linearly on a huge text
(Presidio's context enhancer walks every token for every weak match). Windows of
``size`` characters, cut at a line break or a space near the edge, with ``overlap``
characters shared by neighbours, bound each of them; an entity shorter than the
overlap is seen whole by at least one window. Their findings are shifted back and
merged (same-type overlaps merge, the rest is resolved by score).
"""

from __future__ import annotations

from typing import Final

__all__ = ["CHUNK_CHARS", "CHUNK_OVERLAP", "windows"]

CHUNK_CHARS: Final = 8_000
CHUNK_OVERLAP: Final = 400


def _cut(text: str, lo: int, hi: int) -> int:
    """A cut point in ``(lo, hi]``: after the last line break, else after the last
    space, else ``hi``."""
    for sep in ("\n", " "):
        at = text.rfind(sep, lo + 1, hi)
        if at > lo:
            return at + 1
    return hi


def windows(
    text: str, size: int = CHUNK_CHARS, overlap: int = CHUNK_OVERLAP
) -> list[tuple[int, int]]:
    """``[(start, end)]`` covering ``text``; one window when it is short."""
    n = len(text)
    if n <= size:
        return [(0, n)]
    out: list[tuple[int, int]] = []
    start = 0
    while True:
        hard = start + size
        if hard >= n:
            out.append((start, n))
            return out
        end = _cut(text, hard - overlap // 2, hard)
        out.append((start, end))
        nxt = _cut(text, end - overlap, end - overlap // 2)
        start = nxt if start < nxt < end else end - overlap // 2
