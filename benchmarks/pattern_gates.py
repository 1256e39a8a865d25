"""CPU of the cheap recognizers (every regex, checksum and gazetteer recognizer; no
NER) with the pattern gates (``streamsec/detection/recognizers/_gate.py``) against
the same recognizers without them, in one process, alternating, on the same texts:
the string leaves of the harness's records (``generate_corpus``; structured =
customer/payment/event, mixed = + free-text tickets). Without gates also means the
features gates the gates replaced (Date and StreetAddress: any digit). Checks the
findings are the same and prints microseconds per text and the ratio. The
Hyperscan prefilter is off on both sides (``benchmarks/prefilter.py`` measures it).

    .venv/bin/python benchmarks/pattern_gates.py [--records 1000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from typing import Any

from streamsec.detection import engine as eng
from streamsec.detection.analyzer import get_analyzer
from streamsec.detection.features import TextFeatures, features_of
from streamsec.detection.recognizers import _prefilter
from streamsec.detection.recognizers._base import compile_patterns
from streamsec.testing.corpus import generate_corpus

KINDS = {
    "structured": ("customer", "payment", "event"),
    "mixed": ("customer", "payment", "ticket", "event"),
}
NARROWED = ("DateRecognizer", "StreetAddressRecognizer")


def _any_digit(features: TextFeatures) -> bool:
    return features.digits > 0


def _leaves(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in _leaves(v)]
    if isinstance(value, list):
        return [s for v in value for s in _leaves(v)]
    return []


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    analyzer = get_analyzer()
    gated = eng.BatchEngine(analyzer, None)
    original = eng.compile_patterns
    eng.compile_patterns = lambda r: original(r, gated=False)  # type: ignore[assignment]
    plain = eng.BatchEngine(analyzer, None)
    eng.compile_patterns = original
    plain._cheap = [
        (r, dataclasses.replace(s, gate=_any_digit) if r.name in NARROWED else s, a, p)
        for r, s, a, p in plain._cheap
    ]
    own = [r for r in analyzer.registry.recognizers if hasattr(r, "_compiled")]
    tables = {
        "gated": {id(r): r._compiled for r in own},
        "plain": {id(r): compile_patterns(r, gated=False) for r in own},
    }

    def run(engine: eng.BatchEngine, table: str, jobs: list[eng.Job]) -> tuple[float, Any]:
        for r in own:
            r._compiled = tables[table][id(r)]
        cpu = time.process_time()
        found = [engine._run_cheap(job).raw for job in jobs]
        spent = time.process_time() - cpu
        return spent, [[(x.entity_type, x.start, x.end, x.score) for x in f] for f in found]

    print(f"cheap recognizers, CPU us per text, best of {args.rounds}, alternating")
    print(f"{'records':10s} {'texts':>7s} {'no gates':>10s} {'gates':>10s} {'ratio':>7s}")
    for name, kinds in KINDS.items():
        texts = [s for c in generate_corpus(args.records, 9, kinds) for s in _leaves(c.record)]
        jobs = [eng.Job(t, features_of(t), True) for t in texts]
        best = {"plain": float("inf"), "gated": float("inf")}
        for _ in range(args.rounds):
            a, without = run(plain, "plain", jobs)
            b, with_gates = run(gated, "gated", jobs)
            if without != with_gates:
                raise SystemExit(f"{name}: the gates changed the findings")
            best["plain"], best["gated"] = min(best["plain"], a), min(best["gated"], b)
        n = len(jobs)
        us = {k: v / n * 1e6 for k, v in best.items()}
        print(
            f"{name:10s} {n:7d} {us['plain']:10.1f} {us['gated']:10.1f} "
            f"{us['gated'] / us['plain']:6.2f}x",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    with _prefilter.disabled():
        sys.exit(main())
