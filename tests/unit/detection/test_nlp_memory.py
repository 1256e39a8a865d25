"""spaCy's vocabulary must not grow with the values a worker reads.

spaCy keeps every token it has not seen (an e-mail address, an order id, a new name)
in its vocabulary and its tokenizer cache for good: ~0.5 kB per free-text record, so a
long-running worker grew without bound. Detection reads texts inside the NLP engine's
memory zone (``NerSpacyNlpEngine.memory_zone``), which frees them after each batch.
"""

from __future__ import annotations

import threading
import uuid

from presidio_analyzer import AnalyzerEngine

from streamsec.detection import PresidioDetector, nlp_busy
from streamsec.topology.model import DetectionConfig


def _tickets(n: int) -> list[tuple[str, str]]:
    """Free texts full of tokens spaCy has never seen (and that NER reads)."""
    items = []
    for i in range(n):
        tag = uuid.uuid4().hex[:10]
        items.append((
            "body",
            f"Escalation: Quorvath{tag} Belzinsky says parcel ZX{tag}-{i} for "
            f"q.{tag}@example.org never reached Trelbourne{tag} Street, call him back.",
        ))  # fmt: skip
    return items


def _strings(analyzer: AnalyzerEngine) -> int:
    return len(analyzer.nlp_engine.nlp["en"].vocab.strings)


def test_detection_leaves_the_vocabulary_as_it_found_it(analyzer: AnalyzerEngine) -> None:
    detector = PresidioDetector(DetectionConfig(), analyzer)
    detector.detect(_tickets(8))  # anything a first call loads for good
    before = _strings(analyzer)
    found = detector.detect(_tickets(200))
    assert sum(len(f) for f in found) >= 200  # NER and the patterns did read them
    assert _strings(analyzer) == before


def test_the_same_texts_outside_a_zone_do_grow_it(analyzer: AnalyzerEngine) -> None:
    """The control: what the zone prevents happens without it."""
    nlp = analyzer.nlp_engine
    before = _strings(analyzer)
    nlp.pipe([text for _, text in _tickets(20)])
    assert _strings(analyzer) > before + 20


def test_findings_read_inside_the_zone_stay_valid_after_it(analyzer: AnalyzerEngine) -> None:
    detector = PresidioDetector(DetectionConfig(), analyzer)
    text = "Escalation: Jane Roe of Springfield called from 415-555-0134 about her parcel."
    first = detector.detect([("body", text)])
    for _ in range(3):  # zones opened and freed in between
        detector.detect(_tickets(20))
    again = PresidioDetector(DetectionConfig(), analyzer).detect([("body", text)])
    assert [(f.entity_type, f.start, f.end) for f in first[0]] == [
        (f.entity_type, f.start, f.end) for f in again[0]
    ]
    assert {f.entity_type for f in first[0]} >= {"PERSON", "PHONE_NUMBER"}


def test_zones_in_two_threads_do_not_overlap(analyzer: AnalyzerEngine) -> None:
    """Two topologies' agents can detect at once in two threads on the one shared
    engine: their zones (and any NLP call outside one) take turns, the results are
    the same as one after the other, and nothing is left in the vocabulary."""
    detector = PresidioDetector(DetectionConfig(), analyzer)
    work = [_tickets(40) for _ in range(4)]
    expected = [
        [[(f.entity_type, f.start, f.end) for f in found] for found in detector.detect(items)]
        for items in work
    ]
    before = _strings(analyzer)
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            own = PresidioDetector(DetectionConfig(), analyzer)
            results[i] = [[(f.entity_type, f.start, f.end) for f in found]
                          for found in own.detect(work[i])]  # fmt: skip
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert [results[i] for i in range(4)] == expected
    assert _strings(analyzer) == before


def test_a_zone_inside_a_zone_is_part_of_it(analyzer: AnalyzerEngine) -> None:
    nlp = analyzer.nlp_engine
    before = _strings(analyzer)
    with nlp.memory_zone():
        with nlp.memory_zone():
            nlp.pipe(["Zorblat Quennick visited Vrelmouth yesterday."])
        nlp.pipe(["Xantrovia Plimsworth met Drelkin Osbury."])
        inside = _strings(analyzer)
    assert inside > before
    assert _strings(analyzer) == before


def test_nlp_busy_while_another_thread_is_in_a_zone(analyzer: AnalyzerEngine) -> None:
    nlp = analyzer.nlp_engine
    inside, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with nlp.memory_zone():
            inside.set()
            leave.wait(10)

    assert not nlp_busy()
    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert inside.wait(10)
        assert nlp_busy()
    finally:
        leave.set()
        holder.join(10)
    assert not nlp_busy()
    with nlp.memory_zone():  # this thread's own zone is not "another thread"
        assert not nlp_busy()
