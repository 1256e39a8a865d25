"""``streamsec protect`` throughput against plain Presidio, same records, same run.

Baseline: Presidio ``AnalyzerEngine`` (default recognizers, the same spaCy model)
``analyze`` + ``AnonymizerEngine.anonymize`` on every string leaf of each record.
streamsec: the protection core as ``streamsec protect`` runs it (batches of 256,
minimal topology, real keyring), from cold caches. Both engines are built before
timing starts. The figure that counts is the ratio.

    .venv/bin/python benchmarks/protect_throughput.py [--records 300] [--streamsec-records 3000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import minimal_topology, temp_settings

from streamsec.protection.protector import Protector
from streamsec.records.paths import iter_leaves
from streamsec.testing.corpus import generate_corpus


def plain_presidio():  # type: ignore[no-untyped-def]
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    from streamsec.detection.analyzer import nlp_configuration, use_bundled_suffix_list

    use_bundled_suffix_list()  # offline: no suffix-list download for either side
    nlp = NlpEngineProvider(nlp_configuration=nlp_configuration()).create_engine()
    return AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"]), AnonymizerEngine()


def run_plain(records: list[dict], analyzer, anonymizer) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for record in records:
        for _, value in iter_leaves(record):
            if isinstance(value, str):
                results = analyzer.analyze(text=value, language="en")
                anonymizer.anonymize(text=value, analyzer_results=results)
    return time.perf_counter() - started


def run_streamsec(records: list[dict], protector: Protector) -> float:
    started = time.perf_counter()
    for i in range(0, len(records), 256):
        protector.protect_many(records[i : i + 256])
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--records", type=int, default=300, help="records for the same-records ratio"
    )
    parser.add_argument(
        "--streamsec-records",
        type=int,
        default=3000,
        help="a longer streamsec-only run (steady state)",
    )
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    corpus = [
        c.record for c in generate_corpus(max(args.records, args.streamsec_records), args.seed)
    ]
    same = corpus[: args.records]
    analyzer, anonymizer = plain_presidio()
    analyzer.analyze(text="warm up Jane Roe", language="en")
    settings = temp_settings()

    plain_s = run_plain(same, analyzer, anonymizer)
    cold = Protector.from_topology(minimal_topology(), settings=settings)
    cold.detector.detect([("warm", "warm up Jane Roe")])
    ours_s = run_streamsec(same, cold)
    fresh = Protector.from_topology(minimal_topology(), settings=settings)
    long_s = run_streamsec(corpus[: args.streamsec_records], fresh)

    plain_rps, ours_rps = len(same) / plain_s, len(same) / ours_s
    long_rps = args.streamsec_records / long_s
    print(f"{'engine':46s} {'records':>8s} {'seconds':>8s} {'rec/s':>9s} {'ratio':>7s}")
    print(
        f"{'plain Presidio analyze+anonymize, every leaf':46s} {len(same):8d} {plain_s:8.2f} "
        f"{plain_rps:9.1f} {1.0:7.2f}"
    )
    print(
        f"{'streamsec protect, same records (cold cache)':46s} {len(same):8d} {ours_s:8.2f} "
        f"{ours_rps:9.1f} {ours_rps / plain_rps:7.2f}"
    )
    print(
        f"{'streamsec protect, longer run':46s} {args.streamsec_records:8d} {long_s:8.2f} "
        f"{long_rps:9.1f} {long_rps / plain_rps:7.2f}"
    )
    print("target: >= 20x plain Presidio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
