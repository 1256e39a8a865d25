"""The password of a URL or DSN (``postgresql://app:SECRET@db:5432/orders``): only the
secret is the entity, so protecting it keeps the URL's scheme, user, host, port and
path as they are (an encrypted token is URL-safe: base64url and colons)."""

from __future__ import annotations

from presidio_analyzer import Pattern

from streamsec.detection.recognizers._base import FastPatternRecognizer
from streamsec.detection.recognizers._fragments import CASE_SENSITIVE

__all__ = ["UrlCredentialRecognizer"]


class UrlCredentialRecognizer(FastPatternRecognizer):
    """Recognize the password in a URL's user information."""

    ENTITY = "PASSWORD"
    FLAGS = CASE_SENSITIVE

    PATTERNS = [
        Pattern(
            "URL user information",
            r"\b[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s:/@]*:(?P<value>[^\s/@]{1,256})@(?=[\w\[])",
            0.95,
        ),
    ]
