"""``PresidioDetector``: streamsec's :class:`~streamsec.detection.base.Detector`.

Per item, cheapest first:

1. ignored paths and blank values: nothing;
2. a value this path already showed to be benign (digest memo): nothing;
3. a field name (or the path's settled NER history) that implies an entity, with
   a value plausible for it: the whole value is that entity, no NER;
4. otherwise the recognizers whose cheap gates pass, with the path's words as
   context; NER only for free text or a value that could hold a name or place,
   never for benign fields (ids, enums, timestamps, amounts, codes). NER for all
   items of a call runs as one ``nlp.pipe`` batch.

Structured (non-free-text) values drop bare DATE_TIME findings (a record's own
timestamps are not personal data; dates of birth come from their field name or a
birth cue), and benign fields keep only validated, high-risk types.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from presidio_analyzer import AnalyzerEngine, RecognizerResult

from streamsec.classification.model import Finding
from streamsec.detection import budget
from streamsec.detection.analyzer import get_analyzer, use_bundled_suffix_list
from streamsec.detection.base import Detector, TextItem
from streamsec.detection.chunks import CHUNK_CHARS, windows
from streamsec.detection.engine import BatchEngine, Job
from streamsec.detection.entities import canonical
from streamsec.detection.features import features_of
from streamsec.detection.fields import FieldHint, field_hint
from streamsec.detection.memo import PathMemo
from streamsec.detection.normalize import Normalized, normalize
from streamsec.detection.recognizers import _prefilter
from streamsec.detection.shapes import (
    could_be_named_entity,
    followed_by_model,
    is_benign_token,
    plausible,
)
from streamsec.detection.spans import Span, resolve, spans_from_results
from streamsec.errors import DetectionError, RecordTooSlowError
from streamsec.records.paths import ANY_INDEX, Segment, parse_path
from streamsec.topology.model import DetectionConfig, Topology

__all__ = ["FIELD_NAME_RECOGNIZER", "PresidioDetector", "build_detector"]

log = logging.getLogger(__name__)

FIELD_NAME_RECOGNIZER: Final = "FieldNameContext"
PREFILTER_WAIT_SECONDS: Final = 60.0
"""How long a warm-up waits for the prefilter's database (3-6 s to compile, in the
background from the moment the engine is built, beside the NLP warm-up)."""
LEARNED_RECOGNIZER: Final = "PathHistory"
_HINT_SCORE: Final = 0.85
_NER: Final = "SpacyRecognizer"
_FREE_TEXT_WORDS: Final = 6
_WHOLE_SHARE: Final = 0.9
_BENIGN_FIELD_KEEPS: Final = frozenset(
    {
        "EMAIL_ADDRESS",
        "CREDIT_CARD",
        "IBAN_CODE",
        "US_SSN",
        "US_ITIN",
        "IP_ADDRESS",
        "CRYPTO",
        "API_KEY",
        "PASSWORD",
        "PHONE_NUMBER",
        "STREET_ADDRESS",
        "MEDICAL_RECORD_NUMBER",
        "HEALTH_PLAN_ID",
    }
)


@dataclass(frozen=True, slots=True)
class _Profile:
    hint: FieldHint
    ignored: bool
    free_text: bool


def _covers(pattern: tuple[Segment, ...], path: tuple[Segment, ...]) -> bool:
    if len(pattern) > len(path):
        return False
    return all(
        (want is ANY_INDEX and have is ANY_INDEX) or want == have
        for want, have in zip(pattern, path, strict=False)
    )


class PresidioDetector:
    """Presidio-based detector with field-name context, batching and memoisation."""

    def __init__(
        self, config: DetectionConfig | None = None, analyzer: AnalyzerEngine | None = None
    ) -> None:
        use_bundled_suffix_list()
        self._config = config if config is not None else DetectionConfig()
        self._analyzer = analyzer
        self._engine: BatchEngine | None = None
        entities = self._config.entities
        self._allowed = frozenset(canonical(e) for e in entities) if entities is not None else None
        self._ignored = frozenset(canonical(e) for e in self._config.ignore_entities)
        self._ignore_paths = [parse_path(p) for p in self._config.ignore_paths]
        self._free_text_paths = [parse_path(p) for p in self._config.free_text]
        self._memo = PathMemo()
        self._profile = functools.lru_cache(maxsize=8192)(self._build_profile)

    @property
    def memo(self) -> PathMemo:
        return self._memo

    def warm_up(self) -> None:
        """Load the NLP model and the recognizers now (seconds), not on the first batch:
        a worker does this before it joins its consumer group (and waits for the prefilter
        database, compiling meanwhile). The e-mail address loads
        the public-suffix trie its validation reads (~130 ms on the first address)."""
        text = ("Jane Roe of Paris called +1 415-555-0134 about card 4111 1111 1111 1111, "
                "reply to jane.roe@example.com.")
        self._batch_engine().run([Job(text, features_of(text), True)], 1.0)
        if not _prefilter.ready(PREFILTER_WAIT_SECONDS):  # compiling since the engine was built
            log.warning("the detection prefilter is not built yet; every pattern runs until it is")

    def detect(self, items: Sequence[TextItem]) -> list[tuple[Finding, ...]]:
        """Findings per item, in order. Any failure is a :class:`DetectionError` that
        names only the exception type: library messages can quote the text.

        Detection reads each text's normalised copy (:mod:`.normalize`: NFKC, digits,
        no zero-width or control characters, homoglyphs folded); the findings are
        mapped back onto the original characters. A text that cannot be normalised
        safely (a lone surrogate) fails the record: fail closed."""
        try:
            copies = [normalize(_scannable(text)) for _, text in items]
            found = self._detect(
                [(path, n.text) for (path, _), n in zip(items, copies, strict=True)]
            )
            return [
                _restore(n, findings) if n.changed and findings else findings
                for n, findings in zip(copies, found, strict=True)
            ]
        except (DetectionError, RecordTooSlowError):
            raise
        except Exception as exc:  # noqa: BLE001 - re-raised without the value-bearing message
            raise DetectionError(f"detection failed ({type(exc).__name__})") from None

    def _detect(self, items: Sequence[TextItem]) -> list[tuple[Finding, ...]]:
        results: list[tuple[Finding, ...]] = [()] * len(items)
        jobs: list[Job] = []
        pending: list[tuple[int, bool]] = []
        for index, (path, text) in enumerate(items):
            profile = self._profile(path)
            value = text.strip()
            if profile.ignored or not value or self._memo.is_benign(path, text):
                continue
            hinted = self._from_hint(path, text, value, profile)
            if hinted is not None:
                results[index] = hinted
                continue
            if not profile.free_text and is_benign_token(value):
                self._memo.add_benign(path, text)
                continue
            features = features_of(text)
            free = profile.free_text or features.words >= _FREE_TEXT_WORDS
            ner = not profile.hint.benign and (free or could_be_named_entity(value, features))
            jobs.append(Job(text, features, ner, profile.hint.words, free))
            pending.append((index, free))
        if jobs:
            raw = self._run_jobs(jobs)
            for (index, free), job, found in zip(pending, jobs, raw, strict=True):
                path, text = items[index]
                findings = self._finish(text, found, self._profile(path), free)
                if job.ner and not free:
                    self._memo.record_ner(path, _whole_entity(text, findings))
                if findings:
                    results[index] = findings
                else:
                    self._memo.add_benign(path, text)
        return results

    def _run_jobs(self, jobs: list[Job]) -> list[list[RecognizerResult]]:
        """The engine over ``jobs`` in groups of at most :data:`CHUNK_CHARS` characters
        (a long text in overlapping windows, shifted back), with the record's time
        budget checked between groups: work grows linearly with the text."""
        engine = self._batch_engine()
        threshold = self._config.score_threshold
        units: list[tuple[int, int, Job]] = []  # (job index, offset, unit)
        for index, job in enumerate(jobs):
            spans = windows(job.text)
            if len(spans) == 1:
                units.append((index, 0, job))
                continue
            for start, end in spans:
                piece = job.text[start:end]
                chunk = Job(piece, features_of(piece), job.ner, job.context, job.free_text)
                units.append((index, start, chunk))
        out: list[list[RecognizerResult]] = [[] for _ in jobs]
        group: list[tuple[int, int, Job]] = []
        size = 0
        for unit in [*units, None]:
            if unit is not None and (not group or size + len(unit[2].text) <= CHUNK_CHARS):
                group.append(unit)
                size += len(unit[2].text)
                continue
            budget.check()
            for (index, offset, _), found in zip(
                group, engine.run([u[2] for u in group], threshold), strict=True
            ):
                for result in found:
                    result.start += offset
                    result.end += offset
                out[index].extend(found)
            if unit is not None:
                group, size = [unit], len(unit[2].text)
        budget.check()
        return out

    def _from_hint(
        self, path: str, text: str, value: str, profile: _Profile
    ) -> tuple[Finding, ...] | None:
        if profile.free_text:
            return None
        entity = profile.hint.entity
        recognizer = FIELD_NAME_RECOGNIZER
        if entity is None and not profile.hint.benign:
            entity = self._memo.learned(path)
            recognizer = LEARNED_RECOGNIZER
            if entity is not None and not could_be_named_entity(value, features_of(value)):
                return None
        if entity is None or not self._wants(entity) or not plausible(entity, value):
            return None
        if self._config.score_threshold > _HINT_SCORE:
            return None
        start = len(text) - len(text.lstrip())
        return (Finding(entity, start, start + len(value), _HINT_SCORE, recognizer),)

    def _finish(
        self, text: str, found: list[RecognizerResult], profile: _Profile, free: bool
    ) -> tuple[Finding, ...]:
        spans: list[Span] = []
        for span in spans_from_results(text, found):
            if not self._wants(span.entity_type):
                continue
            if not free and span.entity_type == "DATE_TIME":
                continue
            if profile.hint.benign and span.entity_type not in _BENIGN_FIELD_KEEPS:
                continue
            if not free and span.recognizer == _NER and _partial_single_word(text, span):
                continue
            if span.recognizer == _NER and followed_by_model(text, span.start, span.end):
                continue  # a product name
            spans.append(span)
        return resolve(text, spans) if spans else ()

    def _wants(self, entity: str) -> bool:
        if entity in self._ignored:
            return False
        return self._allowed is None or entity in self._allowed

    def _batch_engine(self) -> BatchEngine:
        if self._engine is None:
            analyzer = self._analyzer if self._analyzer is not None else get_analyzer()
            self._engine = BatchEngine(analyzer, self._allowed)
        return self._engine

    def _build_profile(self, path: str) -> _Profile:
        try:
            segments = parse_path(path)
        except ValueError:
            segments = ()
        return _Profile(
            hint=field_hint(path),
            ignored=any(_covers(p, segments) for p in self._ignore_paths),
            free_text=field_hint(path).free_text
            or any(_covers(p, segments) for p in self._free_text_paths),
        )


def _scannable(text: str) -> str:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise DetectionError("a value holds a lone surrogate and cannot be scanned") from None
    return text


def _restore(copy: Normalized, findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Findings on the normalised copy, as spans of the original characters."""
    return tuple(
        Finding(f.entity_type, copy.start(f.start), copy.end(f.end), f.score, f.recognizer)
        for f in findings
    )


def _partial_single_word(text: str, span: Span) -> bool:
    """One NER word inside a longer short value ("Order" in "Order ORD-1"): unreliable."""
    word = text[span.start : span.end]
    return " " not in word and word != text.strip()


def _whole_entity(text: str, findings: tuple[Finding, ...]) -> str | None:
    letters = sum(not ch.isspace() for ch in text)
    for finding in findings:
        covered = sum(not ch.isspace() for ch in text[finding.start : finding.end])
        if letters and covered >= _WHOLE_SHARE * letters:
            return finding.entity_type
    return None


def build_detector(topology: Topology, analyzer: AnalyzerEngine | None = None) -> Detector:
    """The detector for one topology (its own path memo; the analyzer is shared)."""
    return PresidioDetector(topology.detection, analyzer)
