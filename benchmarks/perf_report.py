"""Pure table, ratio and percentile code of the benchmark harness (and its chart).

A :class:`Figure` is one measured value with the baseline it is compared against
(measured in the same run) and an optional target, either on the ratio
(``ratio>=``: value / baseline must reach the target) or on the value itself
(``value<=``: e.g. a p99 latency bound in ms).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["Figure", "format_table", "percentile", "write_chart"]

TargetKind = Literal["ratio>=", "value<=", "none"]


@dataclass(frozen=True, slots=True)
class Figure:
    section: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: float | None = None
    kind: TargetKind = "none"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        if self.target is None or self.kind == "none":
            return None
        if self.kind == "ratio>=":
            return self.ratio is not None and self.ratio >= self.target
        return self.value <= self.target

    @property
    def gap(self) -> str:
        """How far from the target: '' when met or without target."""
        if self.met is not False or self.target is None:
            return ""
        if self.kind == "ratio>=":
            ratio = self.ratio or 0.0
            return f"short by {self.target - ratio:.2f}x ({ratio / self.target:.0%} of target)"
        return f"over by {self.value - self.target:.1f} {self.unit}"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, ``q`` in [0, 100]; raises ValueError on no values."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be within [0, 100]")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _target_text(f: Figure) -> str:
    if f.target is None or f.kind == "none":
        return "-"
    return f">={f.target:g}x" if f.kind == "ratio>=" else f"<={f.target:g} {f.unit}"


def _status(f: Figure) -> str:
    met = f.met
    if met is None:
        return ""
    return "MET" if met else f"MISSED: {f.gap}"


def _num(value: float) -> str:
    """Two decimals below 100 (ms per record, shares in %), one above."""
    return f"{value:.2f}" if abs(value) < 100 else f"{value:.1f}"


def format_table(figures: Sequence[Figure]) -> str:
    """A fixed-width text table, one line per figure, grouped by section."""
    head = (
        f"{'section':16s} {'figure':40s} {'value':>10s} {'unit':8s} "
        f"{'baseline (same run)':>28s} {'ratio':>7s} {'target':>10s}  status"
    )
    lines = [head, "-" * len(head)]
    section = None
    for f in figures:
        label = f.section if f.section != section else ""
        section = f.section
        base = f"{_num(f.baseline)} {f.baseline_name}" if f.baseline is not None else "-"
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
        lines.append(
            f"{label:16s} {f.name:40s} {_num(f.value):>10s} {f.unit:8s} {base[:28]:>28s} "
            f"{ratio:>7s} {_target_text(f):>10s}  {_status(f)}"
        )
        if f.note:
            lines.append(f"{'':16s}   ({f.note})")
    return "\n".join(lines)


def write_chart(figures: Sequence[Figure], path: Path) -> Path:
    """Two panels: every ratio against its target, and every latency figure in ms."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratios = [f for f in figures if f.ratio is not None and f.unit != "ms"]
    latencies = [f for f in figures if f.unit == "ms"]
    fig, axes = plt.subplots(1, 2, figsize=(14, max(4.0, 0.45 * len(ratios) + 1.5)))
    ax = axes[0]
    labels = [f"{f.section}: {f.name}" for f in ratios]
    colours = [
        "tab:green" if f.met else "tab:red" if f.met is False else "tab:blue" for f in ratios
    ]
    ax.barh(labels, [f.ratio or 0.0 for f in ratios], color=colours)
    for i, f in enumerate(ratios):
        if f.kind == "ratio>=" and f.target is not None:
            ax.plot([f.target, f.target], [i - 0.4, i + 0.4], color="black", linewidth=2)
        ax.text((f.ratio or 0.0), i, f" {f.ratio:.2f}x", va="center", fontsize=8)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_title("ratio vs same-run baseline (black tick = target)")
    ax.tick_params(axis="y", labelsize=8)
    ax = axes[1]
    if latencies:
        ax.barh(
            [f"{f.section}: {f.name}" for f in latencies],
            [f.value for f in latencies],
            color=[
                "tab:red" if f.met is False else "tab:green" if f.met else "tab:blue"
                for f in latencies
            ],
        )
        for i, f in enumerate(latencies):
            if f.kind == "value<=" and f.target is not None:
                ax.plot([f.target, f.target], [i - 0.4, i + 0.4], color="black", linewidth=2)
        ax.invert_yaxis()
        ax.tick_params(axis="y", labelsize=8)
    ax.set_title("latency, ms (black tick = target)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
