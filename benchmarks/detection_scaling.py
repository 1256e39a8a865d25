"""Detection time against text size: is it linear?

One free-text value of 5k to 1M characters (support tickets of the test corpus,
dense with personal data, repeated to length) goes through the real detector.
Printed per size: CPU seconds, milliseconds per 1k characters, and that cost as
a ratio to the 5k baseline measured in the same run. Linear detection keeps the
ratio near 1 (quadratic overlap resolution made it grow with the size: a 160k
text took 9.8 s before, and 1M did not finish).

    PYTHONPATH=. python benchmarks/detection_scaling.py            # 5k .. 1M
    PYTHONPATH=. python benchmarks/detection_scaling.py --max 200000
"""

from __future__ import annotations

import argparse
import json
import os
import time

# One BLAS thread: spinning helper threads would add their CPU time to the figures.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from streamsec.detection import PresidioDetector, get_analyzer  # noqa: E402
from streamsec.testing.corpus import generate_corpus  # noqa: E402

SIZES = (5_000, 20_000, 100_000, 250_000, 1_000_000)


def text_of(size: int) -> str:
    tickets = [json.dumps(c.record) for c in generate_corpus(40, 3, kinds=("ticket",))]
    block = "\n".join(tickets)
    return (block * (size // len(block) + 1))[:size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=SIZES[-1], help="largest size (characters)")
    args = parser.parse_args()
    analyzer = get_analyzer()
    PresidioDetector(analyzer=analyzer).warm_up()
    base: float | None = None
    print(f"{'chars':>9} {'findings':>8} {'cpu s':>7} {'ms/1k':>7} {'vs 5k':>6}")
    for size in (s for s in SIZES if s <= args.max):
        text = text_of(size)
        detector = PresidioDetector(analyzer=analyzer)  # fresh memo: no cache hits
        started = time.process_time()
        (findings,) = detector.detect([("notes", text)])
        cpu = time.process_time() - started
        per_k = cpu / size * 1000 * 1000
        base = base or per_k
        print(f"{size:>9} {len(findings):>8} {cpu:>7.2f} {per_k:>7.1f} {per_k / base:>6.2f}")


if __name__ == "__main__":
    main()
