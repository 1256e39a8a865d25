"""Gates (:mod:`._gate`) of Presidio's patterns that cost the most on free text,
by recognizer and pattern name, each pinned to the regex it was proven for.

Flags are the pattern's own (``IGNORECASE | MULTILINE | DOTALL`` for all of these),
so a class here folds case exactly as the pattern's does (``[a-z]`` also takes the
Kelvin sign, as in the pattern). ``\\d`` is any decimal digit, as in the patterns.
"""

from __future__ import annotations

from typing import Final

from streamsec.detection.recognizers._gate import Gate

__all__ = ["PRESIDIO_GATES"]

_URL_RUN = r"[a-z0-9.\-\d]"

_EMAIL_LOCAL = r"[!#$%&'*+\-/=?^_`{|}~.\w]"

PRESIDIO_GATES: Final[dict[str, dict[str, Gate]]] = {
    "EmailRecognizer": {
        # A match starts with the local part: a run of _EMAIL_LOCAL characters (a
        # superset of both alternatives' classes) that ends right at the "@" (which is
        # not in the class). The starts regex yields each such run from its start.
        "Email (Medium)": Gate(
            "6bf50ee05984af14", starts=rf"(?<!{_EMAIL_LOCAL}){_EMAIL_LOCAL}+(?=@)"
        ),
    },
    "WebUrlRecognizer": {
        # Factor "(?:https?://)".
        "Standard Url": Gate("f7d4322d8b44d9f8", needs=r"https?://"),
        # A match is "(www\d{0,3}[.])?[a-z0-9.\-]{1,253}[.]" + a TLD (each TLD starts
        # with a letter): one run of URL_RUN characters from its start s to a dot k
        # followed by a letter, s < k. The starts regex yields, per run, the span from
        # the run's first character to the run's last such dot: s lies inside it.
        "Non schema URL": Gate(
            "2106a96d29dfaf32", starts=rf"(?<!{_URL_RUN}){_URL_RUN}+(?=\.[a-z])"
        ),
        # Factor "[\"'](?:https?://)".
        "Quoted URL": Gate("d2181dd356f7937c", needs=r"[\"']https?://"),
        # Factor: the quote, the run up to the TLD's dot, the TLD's first letter.
        "Quoted Non-schema URL": Gate("a2e67d7204973762", needs=rf"[\"']{_URL_RUN}+\.[a-z]"),
    },
    "UsLicenseRecognizer": {
        # "\b(" + 23 alternatives + ")\b": each starts with one or two letters then a
        # digit, or 2-9 digits then a letter, or is the literal "A-Z]]" then a digit
        # (Presidio's "A-Z]{2}" typo).
        "Driver License - Alphanumeric (weak)": Gate(
            "e376772d76611559", needs=r"\b(?:[A-Z]{1,2}[0-9]|[0-9]{2,9}[A-Z]|A-Z\]\][0-9])"
        ),
    },
    "MedicalLicenseRecognizer": {
        # Both alternatives: a letter of the class, a letter or "9", seven digits,
        # after the same look-behind.
        "USA DEA Certificate Number (weak)": Gate(
            "d79d58ce8cfe5249",
            needs=r"(?<![\w-])[abcdefghjklmprstuxABCDEFGHJKLMPRSTUX][a-zA-Z9]\d{7}",
        ),
    },
    "IpRecognizer": {
        # Factor "::".
        "IPv4_mapped": Gate("6d62e4b2158cb6b6", needs="::"),
        # Both alternatives end with ":" right before the IPv4 part, whose first
        # octet is 1-3 digits and a dot.
        "IPv4_embedded": Gate("f0fc58c4ef11d9ec", needs=r":[0-9]{1,3}\."),
        # After the look-behind, every alternative starts with "::" or with 1-4 hex
        # digits and ":".
        "IPv6": Gate("d3cf28d20385f0d8", starts=r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:|::)"),
        # Factor "::".
        "IPv6_unspecified": Gate("55d81b4e6cc8987e", needs="::"),
    },
    "UkNinoRecognizer": {
        # Factor: the three digit pairs and the final letter.
        "NINO (medium)": Gate(
            "6c9ac7487daa7d31", needs=r"[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[a-dA-D]\b"
        ),
    },
    "EsNifRecognizer": {
        # Factor "[0-9]{7}[-]?[A-Z]\b".
        "NIF": Gate("e59d22f46d41c7b4", needs=r"[0-9]{7}[-]?[A-Z]\b"),
    },
    "EsNieRecognizer": {
        # Factor "[0-9]{7}[-]?[A-Z]\b".
        "NIE": Gate("791fede7c29d834a", needs=r"[0-9]{7}[-]?[A-Z]\b"),
    },
    "ItFiscalCodeRecognizer": {
        # Sixteen characters: two groups of three letters, then ten digits or
        # letters (every class of the pattern is a subset of "[\dA-Z]").
        "Fiscal Code": Gate("4d9907612a362abe", needs=r"[A-Z]{6}[\dA-Z]{10}"),
    },
}
