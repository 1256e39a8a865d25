"""Health identifiers and codes (PHI): medical record numbers, health-plan and member
ids after their cue, and ICD-10 codes checked against the packaged ICD-10-CM code
list (:mod:`streamsec.detection.vocabulary`)."""

from __future__ import annotations

from presidio_analyzer import Pattern

from streamsec.detection.recognizers._base import FastPatternRecognizer
from streamsec.detection.recognizers._fragments import CASE_SENSITIVE
from streamsec.detection.vocabulary import icd10_codes

__all__ = ["HealthPlanIdRecognizer", "Icd10Recognizer", "MedicalRecordNumberRecognizer"]

_ID = r"[A-Z0-9][A-Z0-9\-]{4,19}"
_CODE_DOTTED = r"[A-TV-Z]\d[0-9AB]\.[0-9A-KXZ]{1,4}"
_CODE = r"[A-TV-Z]\d[0-9AB](?:\.?[0-9A-KXZ]{1,4})?"


class MedicalRecordNumberRecognizer(FastPatternRecognizer):
    """A medical record number: ``MRN1234567``, or digits after an MRN / chart cue."""

    ENTITY = "MEDICAL_RECORD_NUMBER"
    FLAGS = CASE_SENSITIVE

    PATTERNS = [
        Pattern("MRN-prefixed", r"\bMRN?[-#:]?\d{5,12}\b", 0.85),
        Pattern(
            "after an MRN cue",
            r"\b(?i:MRN|MR[ ]?(?:no|number|#)|medical[ ]record(?:[ ]number|[ ]no\.?|[ ]#)?|"
            r"chart[ ](?:number|no\.?|#)|patient[ ](?:number|no\.?|#|id))[ \t]*[:#=]?[ \t]*"
            rf"(?P<value>(?=[A-Z\-]*\d){_ID})\b",
            0.85,
        ),
    ]
    CONTEXT = ["mrn", "medical record", "chart", "patient"]


class HealthPlanIdRecognizer(FastPatternRecognizer):
    """A health-plan, insurance or member id after its cue."""

    ENTITY = "HEALTH_PLAN_ID"
    FLAGS = CASE_SENSITIVE

    PATTERNS = [
        Pattern(
            "after a member / plan cue",
            r"\b(?i:member|subscriber|beneficiary|insurance|insured|policy|health[ ]plan|plan)"
            r"[ \t]*(?i:id|number|no\.?|#)[ \t]*[:#=]?[ \t]*"
            rf"(?P<value>(?=[A-Z\-]*\d){_ID})\b",
            0.85,
        ),
    ]
    CONTEXT = ["member", "insurance", "health plan", "policy", "subscriber"]


class Icd10Recognizer(FastPatternRecognizer):
    """An ICD-10 code that the ICD-10-CM code list knows. A dotted code stands on its
    own; a bare three-character category needs a context word (ICD, diagnosis, ...)."""

    ENTITY = "ICD10_CODE"
    FLAGS = CASE_SENSITIVE

    PATTERNS = [
        Pattern("dotted code", rf"(?<![\w.\-]){_CODE_DOTTED}(?![\w\-]|\.\d)", 0.6),
        Pattern(
            "code after an ICD cue",
            r"\b(?i:icd[ \-]?10(?:[ \-]?cm)?|icd|dx|diagnosis(?:[ ]code)?)[ \t]*[:#=]?[ \t]*"
            rf"(?P<value>{_CODE})(?![\w\-]|\.\w)",
            0.85,
        ),
        Pattern("code in parentheses", rf"(?<=\()(?P<value>{_CODE})(?=\))", 0.55),
        Pattern("bare code", rf"(?<![\w.\-]){_CODE}(?![\w\-]|\.\w)", 0.2),
    ]
    CONTEXT = ["icd", "icd10", "icd-10", "diagnosis", "diagnoses", "dx", "code", "condition"]

    def load(self) -> None:
        """Read the code list now (when the analyzer is built), not in a batch."""
        icd10_codes()

    def validate_result(self, pattern_text: str) -> bool | None:
        # None keeps the pattern's score (a bare code still needs its context word).
        return None if pattern_text.replace(".", "") in icd10_codes() else False
