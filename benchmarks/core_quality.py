"""Issue 2 figures on the generated mixed corpus, with the real detector and keyring:

1. round trip: with default_action encrypt, decrypt(protect(x)) == x exactly (values and types);
2. minimal topology: share of sensitive values no longer in clear, share of benign values intact.

    .venv/bin/python benchmarks/core_quality.py [--records 2000] [--seed 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import dumps, minimal_topology, strict_equal, temp_settings

from streamsec.decryption.decryptor import Decryptor
from streamsec.protection.protector import Protector
from streamsec.protection.result import ProtectionFailure
from streamsec.records.paths import get_at
from streamsec.testing.corpus import generate_corpus


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show-misses", type=int, default=10)
    args = parser.parse_args()

    corpus = generate_corpus(args.records, seed=args.seed)
    settings = temp_settings()
    topology = minimal_topology()
    protector = Protector.from_topology(topology, settings=settings)
    decryptor = Decryptor.from_topology(topology, settings=settings)

    started = time.perf_counter()
    results = []
    for i in range(0, len(corpus), 256):
        results.extend(protector.protect_many([c.record for c in corpus[i : i + 256]]))
    elapsed = time.perf_counter() - started
    failures = sum(isinstance(r, ProtectionFailure) for r in results)

    exact = 0
    sens_total = sens_clear = ben_total = ben_intact = 0
    misses: Counter[str] = Counter()
    over: Counter[str] = Counter()
    for item, result in zip(corpus, results, strict=True):
        if isinstance(result, ProtectionFailure):
            continue
        if strict_equal(decryptor.decrypt(result.record), item.record):
            exact += 1
        text = dumps(result.record)
        for value in item.sensitive:
            sens_total += 1
            if value in text:
                sens_clear += 1
                misses[f"{item.kind}: {value}"] += 1
        for location, value in item.benign:
            ben_total += 1
            try:
                kept = strict_equal(get_at(result.record, location), value)
            except (KeyError, IndexError, TypeError):
                kept = False
            ben_intact += kept
            if not kept:
                over[f"{item.kind}: {'.'.join(map(str, location))}"] += 1

    ok = len(results) - failures
    print(f"records: {len(corpus)}  protected: {ok}  failed: {failures}  "
          f"({len(corpus) / elapsed:,.0f} records/s incl. cold caches)")
    print(f"round trip exact (values and types): {exact}/{ok} = {exact / max(ok, 1):.4f}")
    print(f"sensitive values protected: {sens_total - sens_clear}/{sens_total} = "
          f"{(sens_total - sens_clear) / max(sens_total, 1):.4f}  (target >= 0.995)")
    print(f"benign values intact:       {ben_intact}/{ben_total} = "
          f"{ben_intact / max(ben_total, 1):.4f}  (target >= 0.98)")
    if misses and args.show_misses:
        print("sensitive values left in clear (synthetic data):")
        for miss, n in misses.most_common(args.show_misses):
            print(f"  {n:4d}  {miss}")
    if over and args.show_misses:
        print("benign paths changed:")
        for path, n in over.most_common(args.show_misses):
            print(f"  {n:4d}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
