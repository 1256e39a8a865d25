"""URLs, as Presidio's ``UrlRecognizer`` finds them, less what is not personal:

* public documentation (a ``docs.`` / ``developer.`` / ``help.`` ... host, or a
  ``/docs/``, ``/documentation/``, ``/manual/`` ... path);
* a container image reference (``registry.example.com/app@sha256:...``);
* a match cut inside a word (``db.int`` of ``db.internal``) or right after a URL's
  ``@`` (a service's host, after the credentials that are protected on their own).
"""

from __future__ import annotations

from typing import Final

import regex
from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import UrlRecognizer

from streamsec.detection.recognizers._base import compile_patterns, match_patterns

__all__ = ["WebUrlRecognizer", "is_documentation_url"]

_DOC_HOST: Final = frozenset(
    [
        "docs",
        "doc",
        "developer",
        "developers",
        "learn",
        "help",
        "support",
        "wiki",
        "kb",
        "manual",
        "reference",
        "devdocs",
    ]
)
_DOC_PATH: Final = regex.compile(
    r"/(?:docs?|documentation|developerguide|userguide|manual|reference|guides?|library|help|"
    r"kb|faq|tutorials?|api-docs)(?:/|$|[#?])",
    regex.IGNORECASE,
)
_IMAGE_DIGEST: Final = regex.compile(r"@sha(?:256|384|512):[0-9a-f]{32,}")
_HOST: Final = regex.compile(r"(?:[a-z][a-z0-9+.\-]*://)?([^/\s?#:@]+)", regex.IGNORECASE)


def is_documentation_url(url: str) -> bool:
    """A public documentation page: nobody's personal data."""
    host = _HOST.match(url)
    if host is None or "@" in url:
        return False
    if host.group(1).split(".")[0].lower() in _DOC_HOST:
        return True
    return _DOC_PATH.search(url, host.end()) is not None


class WebUrlRecognizer(UrlRecognizer):
    """Presidio's URL recognizer without documentation links and cut-off hosts."""

    FINDS_ONLY_THROUGH_PATTERNS = True
    """Every result comes from ``match_patterns`` over ``_compiled`` (the engine may
    skip this recognizer when the prefilter rules out all its patterns)."""

    def __init__(self) -> None:
        super().__init__(supported_language="en", name="WebUrlRecognizer")
        self._compiled = compile_patterns(self)

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        kept: list[RecognizerResult] = []
        for result in match_patterns(self, text, self._compiled):
            start, end = result.start, result.end
            if end < len(text) and (text[end].isalnum() or text[end] in "-_"):
                continue
            if start > 0 and text[start - 1] == "@":
                continue
            url = text[start:end]
            if is_documentation_url(url) or _IMAGE_DIGEST.search(url):
                continue
            kept.append(result)
        return kept
