"""Offline figures of the harness: the protection core and free-text detection.

Both call the existing scripts' functions (``protect_throughput``,
``detection_eval``) so the harness measures exactly what they measure, and return
:class:`perf_report.Figure` rows instead of printing.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections.abc import Callable
from typing import Any

import detection_eval as de
import protect_throughput as pt
from _common import minimal_topology, temp_settings, warm_like_worker
from perf_report import Figure

from streamsec.protection.protector import Protector
from streamsec.testing.corpus import generate_corpus

__all__ = ["bench_core", "bench_free_text", "pipeline_cpu", "profile_core"]

STRUCTURED = ("customer", "payment", "event")


def _cpu_and_wall(run: Callable[[], float]) -> tuple[float, float]:
    cpu = time.process_time()
    wall = run()
    return wall, time.process_time() - cpu


def bench_core(same: int, longer: int, seed: int = 11) -> tuple[list[Figure], dict[str, Any]]:
    """streamsec protect vs plain Presidio analyze+anonymize on every string leaf."""
    corpus = [c.record for c in generate_corpus(max(same, longer), seed)]
    records = corpus[:same]
    analyzer, anonymizer = pt.plain_presidio()
    analyzer.analyze(text="warm up Jane Roe", language="en")
    settings = temp_settings()
    plain_wall, plain_cpu = _cpu_and_wall(lambda: pt.run_plain(records, analyzer, anonymizer))
    cold = Protector.from_topology(minimal_topology(), settings=settings)
    cold.detector.detect([("warm", "warm up Jane Roe")])
    ours_wall, ours_cpu = _cpu_and_wall(lambda: pt.run_streamsec(records, cold))
    fresh = Protector.from_topology(minimal_topology(), settings=settings)
    long_wall, long_cpu = _cpu_and_wall(lambda: pt.run_streamsec(corpus[:longer], fresh))
    structured = [c.record for c in generate_corpus(longer, seed + 1, kinds=STRUCTURED)]
    fresh = Protector.from_topology(minimal_topology(), settings=settings)
    st_wall, st_cpu = _cpu_and_wall(lambda: pt.run_streamsec(structured, fresh))
    plain = same / plain_wall
    base = "rec/s plain Presidio"
    figures = [
        Figure(
            "1 offline core",
            "plain Presidio analyze+anonymize (base)",
            plain,
            "rec/s",
            note=f"{same} mixed records, wall; CPU {same / plain_cpu:.1f} rec/s",
        ),
        Figure(
            "1 offline core",
            "streamsec protect, same records, cold",
            same / ours_wall,
            "rec/s",
            plain,
            base,
            20,
            "ratio>=",
            note=f"CPU-time ratio {plain_cpu / ours_cpu:.1f}x",
        ),
        Figure(
            "1 offline core",
            f"streamsec protect, {longer} mixed",
            longer / long_wall,
            "rec/s",
            plain,
            base,
            note=f"{long_cpu * 1e3 / longer:.2f} ms CPU/record",
        ),
        Figure(
            "1 offline core",
            f"streamsec protect, {longer} structured",
            longer / st_wall,
            "rec/s",
            plain,
            base,
            note=f"{st_cpu * 1e3 / longer:.2f} ms CPU/record",
        ),
    ]
    extra = {
        "core_cpu_ms_mixed": long_cpu * 1e3 / longer,
        "core_cpu_ms_structured": st_cpu * 1e3 / longer,
    }
    return figures, extra


def bench_free_text(limit: int | None, rounds: int) -> list[Figure]:
    """streamsec PresidioDetector vs BatchAnalyzerEngine on the synthetic dataset (CPU time)."""
    from streamsec.detection import PresidioDetector, get_analyzer
    from streamsec.detection.analyzer import use_bundled_suffix_list

    use_bundled_suffix_list()
    docs = de.load(de.DATASET, limit)
    texts = [d["full_text"] for d in docs]
    plain, batch = de.plain_engines()
    analyzer = get_analyzer()
    warm = "Warm up John Smith in Paris."
    plain.analyze(warm, language="en")
    PresidioDetector(analyzer=analyzer).detect([("text", warm)])

    def run_batch() -> list[de.Spans]:
        out = batch.analyze_iterator(texts, language="en", batch_size=de.BATCH)
        return [[(r.start, r.end) for r in results] for results in out]

    def run_streamsec() -> list[de.Spans]:
        detector = PresidioDetector(analyzer=analyzer)
        found: list[de.Spans] = []
        for i in range(0, len(texts), de.BATCH):
            chunk = [("text", t) for t in texts[i : i + de.BATCH]]
            found.extend([(f.start, f.end) for f in fs] for fs in detector.detect(chunk))
        return found

    batch_spans, batch_s = de.timed(run_batch, rounds)
    ours_spans, ours_s = de.timed(run_streamsec, rounds)
    base_score, ours_score = de.score(docs, batch_spans), de.score(docs, ours_spans)
    n = len(texts)
    base = n / batch_s
    note = f"{n} texts, CPU time, best of {rounds}"
    return [
        Figure("2 free text", "BatchAnalyzerEngine docs/s (base)", base, "docs/s", note=note),
        Figure(
            "2 free text",
            "streamsec PresidioDetector docs/s",
            n / ours_s,
            "docs/s",
            base,
            "docs/s batch",
            2,
            "ratio>=",
        ),
        Figure(
            "2 free text",
            "recall, streamsec vs batch",
            ours_score["recall"] * 100,
            "%",
            base_score["recall"] * 100,
            "% batch recall",
            1,
            "ratio>=",
            note=f"char precision {ours_score['precision']:.3f} vs {base_score['precision']:.3f}",
        ),
    ]


def profile_core(n: int, seed: int = 5, kinds: tuple[str, ...] | None = None, top: int = 15) -> str:
    """cProfile of ``Protector.protect_many`` (cold caches), top functions by own time."""
    kw = {"kinds": kinds} if kinds else {}
    records = [c.record for c in generate_corpus(n, seed, **kw)]
    protector = Protector.from_topology(minimal_topology(), settings=temp_settings())
    protector.detector.detect([("warm", "warm up Jane Roe")])
    profiler = cProfile.Profile()
    profiler.enable()
    pt.run_streamsec(records, protector)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    return "\n".join(line.replace(str(_site()), "<site>") for line in lines)


def _site() -> str:
    import sysconfig

    return sysconfig.get_paths()["purelib"]


def pipeline_cpu(n: int, kinds: tuple[str, ...] | None, seed: int = 9) -> tuple[float, str]:
    """CPU ms/record of the worker's executor step (``RecordPipeline.process``: decode,
    protect, audit and lineage events; no Kafka), batches of 64 as the worker takes them,
    and its cProfile (top 12 by own time)."""
    import json

    from e2e_kafka import RULES

    from streamsec.pipeline.model import SourceRecord
    from streamsec.pipeline.runtime import open_pipeline
    from streamsec.topology import parse_topology

    settings = temp_settings()
    topology = parse_topology("name: perf\ninput: raw.perf\noutput: out.perf\n" + RULES)
    kw = {"kinds": kinds} if kinds else {}
    sources = [
        SourceRecord("raw.perf", 0, i, f"k-{i}".encode(), json.dumps(c.record).encode(), 0.0)
        for i, c in enumerate(generate_corpus(n, seed, **kw))
    ]
    warm = [
        SourceRecord("raw.perf", 1, i, b"w", json.dumps(c.record).encode())
        for i, c in enumerate(generate_corpus(64, seed + 100, **kw))
    ]

    def run(profiler: cProfile.Profile | None) -> float:
        pipeline = open_pipeline(topology, settings, worker_id="perf")
        pipeline.process(warm)  # loads the models; the memo stays cold for ``sources``
        warm_like_worker([pipeline])  # the prefilter built, the collector as in a worker
        cpu = time.process_time()
        if profiler:
            profiler.enable()
        for i in range(0, n, 64):
            pipeline.process(sources[i : i + 64])
        if profiler:
            profiler.disable()
        return time.process_time() - cpu

    cpu = run(None)
    profiler = cProfile.Profile()
    run(profiler)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    text = "\n".join(line.replace(_site(), "<site>") for line in lines)
    return cpu * 1000 / n, text
