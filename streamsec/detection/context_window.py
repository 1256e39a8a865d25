"""Context artifacts from a window of the text instead of all of it.

Presidio's lemma context enhancer looks at the tokens around a weak match: walking
back from the match's token it collects the first ``prefix + 1`` *keywords*, walking
forward the first ``suffix + 1`` (:class:`LemmaContextAwareEnhancer`). A keyword is
a token whose lemma is in the text's keyword list: the lemmas of its tokens that are
neither stop words nor punctuation nor "be", each split on ``:``. Without NER the
batch engine tokenized the whole text for that, and a token it had not seen costs
about 7 us (spaCy caches nothing inside a memory zone).

:func:`window_artifacts` tokenizes only a window around the matches and gives the
enhancer the same words:

* the window starts and ends at whitespace, and spaCy splits every
  whitespace-delimited chunk on its own, so the window's tokens are the text's
  tokens there (same strings, offsets shifted back into the text);
* whether a token is a keyword is decided as for the whole text: a token that
  qualifies is one unless its lemma holds a ``:``; any token is one if its lemma
  is a ``:``-part of a qualifying token elsewhere in the text, and those are read
  from the text's chunks that hold a ``:`` (tokenized on their own);
* the window is widened (doubled) until every match has its ``prefix + 1`` keywords
  before it and ``suffix + 1`` from it inside, or it reaches the text's ends.

Tokenizer-only docs have no lemmas, so a token's lemma is its lower-case form, as in
:meth:`NerSpacyNlpEngine._doc_to_nlp_artifact`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from presidio_analyzer.nlp_engine import NlpArtifacts

__all__ = ["qualifies", "window_artifacts"]

_BACK: Final = 64
_AHEAD: Final = 24


def qualifies(token: Any) -> tuple[str, bool]:
    """(lemma, whether its ``:``-parts are keywords): Presidio's keyword rule."""
    lemma: str = token.lemma_ or token.lower_
    return lemma, not token.is_stop and not token.is_punct and lemma not in ("-PRON-", "be")


def _chunk_start(text: str, at: int) -> int:
    """The start of the whitespace-delimited chunk holding ``text[at]`` (or after it)."""
    at = max(0, min(at, len(text)))
    while at > 0 and not text[at - 1].isspace():
        at -= 1
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def _chunk_end(text: str, at: int, floor: int) -> int:
    """The end of the chunk holding ``text[at]``; inside a run of whitespace, the end
    of the chunk before it (a window never ends inside a run: spaCy makes a run after
    a newline one token, which a cut would split), but never before ``floor``."""
    at = max(0, min(at, len(text)))
    while at < len(text) and not text[at].isspace():
        at += 1
    while at > floor and text[at - 1].isspace():
        at -= 1
    return at


def _colon_parts(text: str, make_doc: Callable[[str], Any]) -> set[str]:
    """The ``:``-parts of qualifying tokens that hold a ``:`` anywhere in ``text``."""
    parts: set[str] = set()
    if ":" not in text:
        return parts
    for chunk in text.split():
        if ":" not in chunk:
            continue
        for token in make_doc(chunk):
            lemma, ok = qualifies(token)
            if ok and ":" in lemma:
                parts.update(lemma.lower().split(":"))
    return parts


def _enough(
    lemmas: list[str], members: list[bool], indices: list[int], lengths: list[int],
    starts: Sequence[int], need: tuple[int, int], open_ends: tuple[bool, bool],
) -> bool:
    """Every match's walk back and forward ends inside the window (or at a text end)."""
    back, ahead = need
    for start in starts:
        at = next(
            (i for i, idx in enumerate(indices) if idx == start or start < idx + lengths[i]),
            None,
        )
        if at is None:
            return False
        if open_ends[0] and sum(members[: at + 1]) < back:
            return False
        if open_ends[1] and sum(members[at:]) < ahead:
            return False
    return True


def window_artifacts(
    text: str, starts: Sequence[int], end: int, make_doc: Callable[[str], Any],
    prefix: int, suffix: int, language: str,
) -> NlpArtifacts:
    """Artifacts for the enhancer's context of matches starting at ``starts`` (the last
    ending at ``end``): the text's own tokens in a window, offsets into ``text``."""
    colon = _colon_parts(text, make_doc)
    back, ahead = _BACK, _AHEAD
    while True:
        cut = _chunk_start(text, min(starts) - back)
        stop = _chunk_end(text, end + ahead, end)
        if text[:cut].isspace():  # the text's leading whitespace is a token of its own
            cut = 0
        if text[stop:].isspace():
            stop = len(text)
        doc = make_doc(text[cut:stop])
        lemmas: list[str] = []
        members: list[bool] = []
        for token in doc:
            lemma, ok = qualifies(token)
            lower = lemma.lower()
            lemmas.append(lemma)
            members.append((ok and ":" not in lower) or lower in colon)
        indices = [cut + token.idx for token in doc]
        whole = cut == 0 and stop == len(text)
        if whole or _enough(
            lemmas, members, indices, [len(token) for token in doc], starts,
            (prefix + 1, suffix + 1), (cut > 0, stop < len(text)),
        ):
            break
        back, ahead = back * 2, ahead * 2
    artifacts = NlpArtifacts(
        entities=[], tokens=doc, tokens_indices=indices, lemmas=lemmas, nlp_engine=None,
        language=language, scores=[],
    )
    artifacts.keywords = sorted(
        {lemma.lower() for lemma, member in zip(lemmas, members, strict=True) if member} | colon
    )
    return artifacts
