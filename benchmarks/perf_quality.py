"""Quality guards of the harness: what issue 14's speed-ups must not give up.

* recall on the presidio-research synthetic dataset (``detection_breadth.synth``);
* protection on the project's labelled breadth corpus (``detection_breadth.quality``:
  the share of personal values no longer in clear, and of non-personal leaves kept).

Each is compared with the figure ``main`` printed before issue 14's work (same sizes,
same seeds, deterministic): the references below. Re-measure them only when the
dataset or the corpus changes, never to make a regression pass.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import detection_breadth as db
from perf_report import Figure

__all__ = ["MAIN_PROTECTION", "MAIN_RECALL", "bench_quality"]

MAIN_RECALL = {300: 0.8767857142857143, None: 0.8658749563395041}
"""Synth v2 recall of main at 15170f5 (2026-12-02), by text limit (quick: 300; full: all)."""
MAIN_PROTECTION = {"overall": 0.9996438112199466, "keep": 0.9925346177001806}
"""Breadth corpus (1,000 records, seed 13) of main at 15170f5: personal values protected,
non-personal leaves kept."""
BREADTH_RECORDS, BREADTH_SEED = 1000, 13


def bench_quality(text_limit: int | None) -> tuple[list[Figure], dict[str, Any]]:
    synth: dict[str, float] = {}
    breadth: dict[str, float] = {}
    with contextlib.redirect_stdout(io.StringIO()):
        db.quality(BREADTH_RECORDS, BREADTH_SEED, breadth)
        db.synth(text_limit, synth)
    n = int(synth["texts"])
    figures = [
        Figure(
            "6 quality",
            f"recall, synth v2 ({n} texts)",
            synth["recall"] * 100,
            "%",
            MAIN_RECALL[text_limit] * 100,
            "% main (15170f5)",
            1,
            "ratio>=",
            note=f"char precision {synth['precision']:.4f}",
        ),
        Figure(
            "6 quality",
            "breadth: personal values protected",
            breadth["overall"] * 100,
            "%",
            MAIN_PROTECTION["overall"] * 100,
            "% main (15170f5)",
            1,
            "ratio>=",
            note=f"{BREADTH_RECORDS} records, seed {BREADTH_SEED}; "
            f"{int(breadth['failures'])} dead letters",
        ),
        Figure(
            "6 quality",
            "breadth: non-personal leaves kept",
            breadth["keep"] * 100,
            "%",
            MAIN_PROTECTION["keep"] * 100,
            "% main (15170f5)",
            1,
            "ratio>=",
        ),
    ]
    return figures, {"synth": synth, "breadth": breadth}
