"""The header lines of a contact card or signature block.

A text that starts with a few short header lines (a name, then perhaps a job
title and a company) followed by contact lines (a street line, a PO box, or
labels such as ``Phone:`` / ``E-mail:`` / ``Address:``) is a contact block: the
first header line is the person's name, a following line in sentence case is a
job title, one in title case an organisation. Quote markers (``>``) and bullets
before the lines are ignored.
"""

from __future__ import annotations

from typing import Final

import regex
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from streamsec.detection.recognizers._base import recognizer_name

__all__ = ["ContactBlockRecognizer"]

_LINE: Final = regex.compile(r"[^\n]*")
_MARKER: Final = regex.compile(r"[ \t>?\u2022*\u00b7\-]*")
_HEADER: Final = regex.compile(r"[\p{L}\p{M}][\p{L}\p{M}.,'\u2019&\- ]{0,58}[\p{L}\p{M}.]")
_NAME: Final = regex.compile(
    r"[\p{L}\p{M}][\p{L}\p{M}'\u2019\-]*\.?(?: [\p{L}\p{M}][\p{L}\p{M}'\u2019\-]*\.?){1,4}"
)
_EVIDENCE: Final = regex.compile(
    r"(?i:phone|mobile|tel|telephone|fax|e-?mail|address|personal info|website|desk|cell)[ \t]*:"
    r"|\d{1,6}(?:[ \t]+\d{1,6})?[ \t]+[\p{L}]"
    r"|(?i:p\.?[ ]?o\.?[ ]?box|psc[ ]\d|unit[ ]\d|usns[ ]|uss[ ]|postbox)"
    r"|[^\s@]+@[^\s@]+\.\w+"
)
_MAX_HEADER_LINES: Final = 4
_SCORES: Final = {"PERSON": 0.6, "TITLE": 0.55, "ORGANIZATION": 0.55}


class ContactBlockRecognizer(LocalRecognizer):
    """Recognize the name, job title and company heading a contact block."""

    ENTITIES: Final = ["PERSON", "TITLE", "ORGANIZATION"]

    def __init__(self, supported_language: str = "en", name: str | None = None) -> None:
        super().__init__(
            supported_entities=list(self.ENTITIES),
            supported_language=supported_language,
            name=name or type(self).__name__,
        )

    def load(self) -> None:
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        lines = [(m.start(), m.end()) for m in _LINE.finditer(text) if m.end() > m.start()]
        header: list[tuple[int, int]] = []
        evidence = False
        for start, end in lines:
            marker = _MARKER.match(text, start, end)
            body_start = marker.end() if marker is not None else start
            body = text[body_start:end].rstrip()
            if not body:
                continue
            if not header or (
                len(header) < _MAX_HEADER_LINES
                and not evidence
                and _HEADER.fullmatch(body)
                and not body.endswith(":")
            ):
                if not header and _NAME.fullmatch(body) is None:
                    return []
                if header and _EVIDENCE.match(body):
                    evidence = True
                    break
                header.append((body_start, body_start + len(body)))
                continue
            evidence = _EVIDENCE.match(body) is not None
            break
        if not evidence or len(header) < 1:
            return []
        lower_text = not any(ch.isupper() for ch in text)
        results = []
        first = text[header[0][0] : header[0][1]]
        for index, (start, end) in enumerate(header):
            line = text[start:end]
            entity = "PERSON" if index == 0 or line == first else self._kind(line, lower_text)
            if entity in entities:
                results.append(self._result(entity, start, end))
        return results

    @staticmethod
    def _kind(line: str, lower_text: bool) -> str:
        words = line.split()
        if lower_text or len(words) == 1:
            return "TITLE" if lower_text or words[0].islower() else "ORGANIZATION"
        capitalised = sum(w[0].isupper() for w in words[1:])
        return "ORGANIZATION" if capitalised * 2 >= len(words) - 1 else "TITLE"

    def _result(self, entity: str, start: int, end: int) -> RecognizerResult:
        score = _SCORES[entity]
        return RecognizerResult(
            entity_type=entity,
            start=start,
            end=end,
            score=score,
            analysis_explanation=AnalysisExplanation(
                recognizer=recognizer_name(self),
                original_score=score,
                textual_explanation="contact block",
            ),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: recognizer_name(self),
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )
