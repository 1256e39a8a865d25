"""features_of counts digits, letters and upper-case letters exactly as the loop over
``str.isdigit`` / ``isalpha`` / ``isupper`` does, ASCII fast path included."""

from __future__ import annotations

from streamsec.detection.features import features_of
from tests.unit.detection.test_gates import _corpus, _variants


def _loop(text: str) -> tuple[int, int, int]:
    digits = letters = upper = 0
    for ch in text:
        if ch.isdigit():
            digits += 1
        elif ch.isalpha():
            letters += 1
            if ch.isupper():
                upper += 1
    return digits, letters, upper


def _counted(text: str) -> tuple[int, int, int]:
    features = features_of(text)
    return features.digits, features.letters, features.upper


def test_every_ascii_character() -> None:
    for code in range(128):
        char = chr(code)
        assert _counted(char) == _loop(char), repr(char)
        assert _counted(char * 3 + "a1Z") == _loop(char * 3 + "a1Z"), repr(char)


def test_corpora_and_hostile_variants() -> None:
    texts = _corpus()
    texts += tuple(_variants(texts, 600, 31))
    ascii_texts = sum(t.isascii() for t in texts)
    assert ascii_texts > 2000 and len(texts) - ascii_texts > 500
    for text in texts:
        assert _counted(text) == _loop(text), text
