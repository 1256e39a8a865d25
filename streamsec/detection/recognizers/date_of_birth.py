"""Dates of birth: a date right after "born (on)", "DOB", "date of birth", "birthday"."""

from __future__ import annotations

from presidio_analyzer import Pattern

from streamsec.detection.recognizers._base import FastPatternRecognizer
from streamsec.detection.recognizers._fragments import MONTHS

__all__ = ["DateOfBirthRecognizer"]

_CUE = (
    r"\b(?:born(?:[ ]on|[ ]in)?|d\.?o\.?b\.?|date[ ]of[ ]birth|birth[ _-]?date|birthday"
    r"(?:[ ]is)?(?:[ ]on)?)[ \t]*[:=#-]?[ \t]*"
)
_DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"
    rf"|(?:{MONTHS})\.?[ ]\d{{1,2}}(?:st|nd|rd|th)?,?[ ]\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?[ ](?:of[ ])?(?:{MONTHS})\.?,?[ ]\d{{4}})"
)


class DateOfBirthRecognizer(FastPatternRecognizer):
    """Recognize a date that is introduced as a date of birth."""

    ENTITY = "DATE_OF_BIRTH"

    PATTERNS = [Pattern("date after a birth cue", rf"{_CUE}(?P<value>{_DATE})\b", 0.75)]
