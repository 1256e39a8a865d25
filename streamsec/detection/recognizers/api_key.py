"""API keys and tokens: well-known vendor formats (AWS, GitHub, GitLab, Slack, Stripe,
Google, OpenAI-style ``sk-``), JWTs, PEM private keys, and a long random-looking
value right after an "api key" / "token" / "secret" cue."""

from __future__ import annotations

from presidio_analyzer import Pattern

from streamsec.detection.recognizers._base import FastPatternRecognizer
from streamsec.detection.recognizers._fragments import CASE_SENSITIVE

__all__ = ["ApiKeyRecognizer"]


class ApiKeyRecognizer(FastPatternRecognizer):
    """Recognize credentials by format or by cue."""

    ENTITY = "API_KEY"
    FLAGS = CASE_SENSITIVE

    PATTERNS = [
        Pattern("AWS access key id", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b", 0.85),
        Pattern(
            "GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_\w{22,255})\b", 0.9
        ),
        Pattern("GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}(?![\w-])", 0.9),
        Pattern("Slack token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}(?![\w-])", 0.9),
        Pattern("Stripe key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b", 0.9),
        Pattern("Google API key", r"\bAIza[0-9A-Za-z_-]{35}(?![\w-])", 0.9),
        Pattern("sk- secret key", r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}(?![\w-])", 0.8),
        Pattern("JWT", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", 0.85),
        Pattern(
            "PEM private key",
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
            0.95,
        ),
        Pattern(
            "value after a key cue",
            r"\b(?i:api[ _-]?key|apikey|access[ _-]?key|secret(?:[ _-]?key)?|token|bearer|"
            r"auth(?:orization)?)"
            r"[\"']?[ \t]*(?:is[ \t]+|[:=][ \t]*)?[\"']?(?=[A-Za-z0-9_\-./+=]*\d)"
            r"(?=[A-Za-z0-9_\-./+=]*[A-Za-z])"
            r"(?P<value>[A-Za-z0-9_\-./+=]{16,512})",
            0.7,
        ),
    ]
