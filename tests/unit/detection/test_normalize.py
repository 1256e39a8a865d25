from __future__ import annotations

import pytest

from streamsec.detection.normalize import normalize

FULLWIDTH_MAIL = "".join(chr(ord(c) + 0xFEE0) for c in "jane@example.com")
CYRILLIC_A = "\u0430"


@pytest.mark.parametrize(
    ("original", "copy"),
    [
        (FULLWIDTH_MAIL, "jane@example.com"),
        ("call \uff14\uff11\uff15-555-0134", "call 415-555-0134"),
        ("ja\u200bne@exa\u200dmple.com", "jane@example.com"),
        ("jane\x00@example.com", "jane@example.com"),
        (f"j{CYRILLIC_A}ne@example.com", "jane@example.com"),
        ("\u0664\u0661\u0665", "415"),  # Arabic-Indic digits
        ("line\tone\r\nline two", "line\tone\r\nline two"),
    ],
)
def test_the_copy_detection_reads(original: str, copy: str) -> None:
    assert normalize(original).text == copy


def test_plain_text_is_not_copied() -> None:
    text = "Jane Roe, +1 415-555-0134"
    result = normalize(text)
    assert result.text is text and not result.changed


def test_spans_of_the_copy_cover_the_original_characters() -> None:
    original = f"mail: {FULLWIDTH_MAIL} or ja\u200bne\x00@ex.com!"
    n = normalize(original)
    for value in ("jane@example.com", "jane@ex.com"):
        start = n.text.index(value)
        o_start, o_end = n.start(start), n.end(start + len(value))
        kept = original[o_start:o_end]
        assert normalize(kept).text == value
        # nothing of the value is left outside the span
        assert normalize(original[:o_start] + original[o_end:]).text.count("@") == 1


def test_a_removed_character_inside_a_span_is_covered() -> None:
    original = "x ja\u200bne y"
    n = normalize(original)
    start = n.text.index("jane")
    assert original[n.start(start) : n.end(start + 4)] == "ja\u200bne"
