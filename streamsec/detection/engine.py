"""Batch analysis of texts with the analyzer's recognizers.

Per batch:

1. every text runs the recognizers whose cheap gates pass on its features (all
   regex, checksum and gazetteer recognizers; no NLP artifacts needed), less those
   that can only score below the threshold on it with no context word there to lift
   them (:mod:`.ceilings`);
2. a text that asked for NER gets it only if it still has a capitalised word
   (other than a stop word) outside the confident matches of step 1: NER cannot
   add anything to the rest;
3. NER runs once for all of those texts (``nlp.pipe`` through Presidio's
   ``process_batch``), and spaCy's entities are read by the SpacyRecognizer;
4. weak matches that a context word could still lift go through Presidio's
   context enhancement (recognizer-level, then the analyzer's context-aware
   enhancer) with the field path's words as extra context; texts without NER get
   tokenizer-only artifacts for this, built only when needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Final

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from streamsec.detection.analyzer import LANGUAGE
from streamsec.detection.ceilings import Analyze, ceilings
from streamsec.detection.entities import canonical
from streamsec.detection.features import TextFeatures
from streamsec.detection.recognizers import RECOGNIZERS, RecognizerSpec, _prefilter
from streamsec.detection.recognizers._base import (
    NO_ARTIFACTS,
    Compiled,
    FastPatternRecognizer,
    compile_patterns,
    match_patterns,
    recognizer_name,
)
from streamsec.detection.segments import has_candidate, ner_segments
from streamsec.frozen import quick_init

__all__ = ["BatchEngine", "Job"]

_NER_BATCH: Final = 64


def _always(features: TextFeatures) -> bool:
    return True


def _no_factory() -> EntityRecognizer:
    raise NotImplementedError("recognizers outside the registry are built by their owner")


_DEFAULT_SPEC: Final = RecognizerSpec(factory=_no_factory, gate=_always)


_Index = tuple[frozenset[int], tuple[int, ...], dict[int, tuple[int, ...]]]
"""For one prefilter database: the recognizers always run, those each pattern id needs."""


def _analyzer_for(
    recognizer: EntityRecognizer, entities: list[str]
) -> tuple[Analyze, frozenset[int] | None]:
    """Presidio's own pattern recognizers run through the lean matcher (same
    semantics); any other recognizer through its ``analyze``. With it, the
    prefilter ids of the patterns when the recognizer does nothing but match them
    (then a text for which the prefilter reports none of them skips it)."""
    if (
        isinstance(recognizer, PatternRecognizer)
        and type(recognizer).analyze is PatternRecognizer.analyze
    ):
        compiled = compile_patterns(recognizer)
        pids = frozenset(c[3] for c in compiled)
        return (lambda text: match_patterns(recognizer, text, compiled)), pids
    analyze: Analyze = lambda text: recognizer.analyze(text, entities, NO_ARTIFACTS)  # noqa: E731
    own: Compiled | None = getattr(recognizer, "_compiled", None)
    if own is not None and (
        type(recognizer).analyze is FastPatternRecognizer.analyze
        or getattr(recognizer, "FINDS_ONLY_THROUGH_PATTERNS", False)
    ):
        return analyze, frozenset(c[3] for c in own)
    return analyze, None


def _haystack(job: Job) -> str:
    """Where a context word is looked for: the lowercased text and the path's words."""
    return " ".join((job.text.lower(), *job.context))


@quick_init
@dataclass(frozen=True, slots=True)
class Job:
    text: str
    features: TextFeatures
    ner: bool
    context: tuple[str, ...] = ()
    free_text: bool = True


@dataclass(slots=True)
class _State:
    raw: list[RecognizerResult] = field(default_factory=list)
    used: list[EntityRecognizer] = field(default_factory=list)


class BatchEngine:
    """Runs the analyzer's recognizers over many texts, NER batched."""

    def __init__(self, analyzer: AnalyzerEngine, allowed: frozenset[str] | None) -> None:
        self._analyzer = analyzer
        self._nlp = analyzer.nlp_engine
        self._cheap: list[
            tuple[EntityRecognizer, RecognizerSpec, Analyze, frozenset[int] | None]
        ] = []
        self._ner: list[tuple[EntityRecognizer, list[str]]] = []
        self._factor = analyzer.context_aware_enhancer.context_similarity_factor
        self._floor = analyzer.context_aware_enhancer.min_score_with_context_similarity
        for recognizer in analyzer.registry.recognizers:
            spec = RECOGNIZERS.get(recognizer_name(recognizer), _DEFAULT_SPEC)
            entities = list(recognizer.supported_entities)
            if allowed is not None and not {canonical(e) for e in entities} & allowed:
                continue
            if spec.ner:
                self._ner.append((recognizer, entities))
            else:
                self._cheap.append((recognizer, spec, *_analyzer_for(recognizer, entities)))
        _prefilter.build(wait=False)  # every pattern above, in one database (background)
        self._index: _Index | None = None
        self._zone: Callable[[], AbstractContextManager[Any]] = getattr(
            self._nlp, "memory_zone", nullcontext
        )
        self._common: frozenset[str] = getattr(self._nlp, "common_words", frozenset())
        self._own_enhancers = {
            recognizer.id
            for recognizer in analyzer.registry.recognizers
            if type(recognizer).enhance_using_context is not EntityRecognizer.enhance_using_context
        }
        self._context_words = {
            recognizer.id: tuple(w.lower() for w in recognizer.context or ())
            for recognizer in analyzer.registry.recognizers
        }
        self._ceilings = ceilings(self._cheap, self._own_enhancers)

    def run(self, jobs: Sequence[Job], threshold: float) -> list[list[RecognizerResult]]:
        states = [self._run_cheap(job, threshold) for job in jobs]
        plans: list[list[tuple[int, int]]] = []
        for job, state in zip(jobs, states, strict=True):
            plans.append(self._plan_ner(job, state, threshold) if self._ner and job.ner else [])
        pieces = [job.text[s:e] for job, plan in zip(jobs, plans, strict=True) for s, e in plan]
        if not pieces:  # no NER: a zone only where a context lift tokenizes (_finish)
            return self._read(jobs, states, plans, pieces, threshold)
        with self._zone():  # what spaCy adds for these texts is freed at its end
            return self._read(jobs, states, plans, pieces, threshold)

    def _read(
        self, jobs: Sequence[Job], states: list[_State], plans: list[list[tuple[int, int]]],
        pieces: list[str], threshold: float,
    ) -> list[list[RecognizerResult]]:
        """NER over ``pieces``, then each job's results; run inside the memory zone when
        there are pieces, so nothing spaCy makes here outlives it."""
        docs = iter(self._pipe(pieces))
        out: list[list[RecognizerResult]] = []
        for job, state, plan in zip(jobs, states, plans, strict=True):
            nlp_artifacts = None
            if plan:
                nlp_artifacts = self._artifacts(job.text, [(s, next(docs)) for s, _ in plan])
                for recognizer, entities in self._ner:
                    found = recognizer.analyze(job.text, entities, nlp_artifacts)
                    if found:
                        state.used.append(recognizer)
                        state.raw.extend(found)
            out.append(self._finish(job, state, nlp_artifacts, threshold))
        return out

    def _plan_ner(self, job: Job, state: _State, threshold: float) -> list[tuple[int, int]]:
        """The segments of the text NER must read (none when nothing is left for it)."""
        covered = [(r.start, r.end) for r in state.raw if r.score >= threshold]
        text = job.text
        if not job.free_text or not hasattr(self._nlp, "segment_artifacts"):
            strict = has_candidate(text, 0, len(text), covered, strict=not job.free_text)
            return [(0, len(text))] if strict else []
        return ner_segments(text, covered, self._common)

    def _pipe(self, texts: list[str]) -> list[Any]:
        if not texts:
            return []
        pipe = getattr(self._nlp, "pipe", None)
        if pipe is not None:
            docs: list[Any] = pipe(texts, LANGUAGE, batch_size=_NER_BATCH)
            return docs
        return [a for _, a in self._nlp.process_batch(texts, LANGUAGE, batch_size=_NER_BATCH)]

    def _artifacts(self, text: str, pieces: list[tuple[int, Any]]) -> NlpArtifacts:
        build = getattr(self._nlp, "segment_artifacts", None)
        if build is not None:
            artifacts: NlpArtifacts = build(text, pieces, LANGUAGE)
            return artifacts
        # A foreign NLP engine yields artifacts per piece; only whole texts are planned.
        only: NlpArtifacts = pieces[0][1]
        return only

    def _run_cheap(self, job: Job, threshold: float) -> _State:
        state = _State()
        decided = _prefilter.scan(job.text)
        cheap = self._cheap
        haystack: str | None = None
        for i in range(len(cheap)) if decided is None else self._candidates(*decided):
            recognizer, spec, analyze, pids = cheap[i]
            if spec.gate(job.features):
                ceiling = self._weak_ceiling(i, pids, decided, job.text, threshold)
                if ceiling is not None:  # too weak: _finish drops all unless a word lifts
                    words = self._lift_words(recognizer.id, ceiling, threshold)
                    if not words:
                        continue
                    if haystack is None:
                        haystack = _haystack(job)
                    if not any(word in haystack for word in words):
                        continue
                found = analyze(job.text)
                if found:
                    state.used.append(recognizer)
                    state.raw.extend(found)
        return state

    def _candidates(self, covered: frozenset[int], reported: frozenset[int]) -> list[int]:
        """The cheap recognizers (indices, in order) a text decided by the prefilter
        must run: those that do more than match patterns the database holds, and
        those with a pattern the scan reported."""
        index = self._index
        if index is None or index[0] is not covered:
            index = self._index = self._reindex(covered)
        chosen = set(index[1])
        for pid in reported:
            chosen.update(index[2].get(pid, ()))
        return sorted(chosen)

    def _reindex(self, covered: frozenset[int]) -> _Index:
        always: list[int] = []
        by_pid: dict[int, list[int]] = {}
        for i, (_, _, _, pids) in enumerate(self._cheap):
            if pids is None or not pids <= covered:
                always.append(i)
                continue
            for pid in pids:
                by_pid.setdefault(pid, []).append(i)
        return covered, tuple(always), {pid: tuple(ix) for pid, ix in by_pid.items()}

    def _finish(
        self, job: Job, state: _State, artifacts: NlpArtifacts | None, threshold: float
    ) -> list[RecognizerResult]:
        if not state.raw:
            return []
        key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        raw = state.raw
        for recognizer in state.used:
            if recognizer.id in self._own_enhancers:
                own = [r for r in raw if r.recognition_metadata[key] == recognizer.id]
                others = [r for r in raw if r.recognition_metadata[key] != recognizer.id]
                recognizer.enhance_using_context(
                    job.text, own, others, artifacts or NO_ARTIFACTS, list(job.context)
                )
        strong = [r for r in raw if r.score >= threshold]
        weak = self._liftable(job, raw, threshold)
        if not weak:
            return strong
        ids = {r.recognition_metadata[key] for r in weak}
        with self._zone():  # re-entrant: inside _read's zone when NER ran
            enhanced: list[RecognizerResult] = (
                self._analyzer.context_aware_enhancer.enhance_using_context(
                    text=job.text,
                    raw_results=weak,
                    nlp_artifacts=artifacts or self._context(job.text, weak),
                    recognizers=[r for r in state.used if r.id in ids],
                    context=list(job.context),
                )
            )
        return strong + [r for r in enhanced if r.score >= threshold]

    def _weak_ceiling(
        self, i: int, pids: frozenset[int] | None,
        decided: tuple[frozenset[int], frozenset[int]] | None, text: str, threshold: float,
    ) -> float | None:
        """The best score cheap recognizer ``i`` can give ``text`` when that is below the
        threshold (:mod:`.ceilings`: its patterns the prefilter reported, and what its
        own ``analyze`` may raise one to); None when it may reach it, or cannot tell."""
        known = self._ceilings[i]
        if known is None or pids is None or decided is None or not pids <= decided[0]:
            return None
        scores, raised = known
        ceiling = max([scores.get(pid, 0.0) for pid in decided[1]], default=0.0)
        if ceiling >= threshold:
            return None
        lift = raised(text)
        if lift is None or lift >= threshold:
            return None
        return max(ceiling, lift)

    def _liftable(
        self, job: Job, raw: list[RecognizerResult], threshold: float
    ) -> list[RecognizerResult]:
        """Weak results a context word could lift over the threshold."""
        key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        haystack: str | None = None
        weak: list[RecognizerResult] = []
        for result in raw:
            if result.score >= threshold:
                continue
            words = self._lift_words(result.recognition_metadata[key], result.score, threshold)
            if not words:
                continue
            if haystack is None:
                haystack = _haystack(job)
            if any(word in haystack for word in words):
                weak.append(result)
        return weak

    def _lift_words(self, recognizer: str, score: float, threshold: float) -> tuple[str, ...]:
        """The context words that could lift a ``score`` of ``recognizer`` over the
        threshold (none when Presidio's lift, ``+factor`` and at least ``floor``, would
        not reach it). Looked for in :func:`_haystack`: a cheap superset of what the
        enhancer checks in its window."""
        if score + self._factor < threshold and self._floor < threshold:
            return ()
        return self._context_words.get(recognizer, ())

    def _context(self, text: str, weak: list[RecognizerResult]) -> NlpArtifacts:
        """Tokens for the enhancer: a window around the weak matches when the NLP
        engine can build one, else the whole text."""
        window = getattr(self._nlp, "window", None)
        if window is None:
            return self._tokenize(text)
        enhancer = self._analyzer.context_aware_enhancer
        artifacts: NlpArtifacts = window(
            text, [r.start for r in weak], max(r.end for r in weak),
            enhancer.context_prefix_count, enhancer.context_suffix_count, LANGUAGE,
        )
        return artifacts

    def _tokenize(self, text: str) -> NlpArtifacts:
        tokenize = getattr(self._nlp, "tokenize", None)
        if tokenize is not None:
            artifacts: NlpArtifacts = tokenize(text, LANGUAGE)
            return artifacts
        processed: NlpArtifacts = self._nlp.process_text(text, LANGUAGE)
        return processed
