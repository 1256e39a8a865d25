"""The copy of a text that detection reads, and the way back to the original.

Personal data written with look-alike characters must still be found:

* Unicode NFKC (fullwidth letters and digits, ligatures, mathematical letters,
  circled digits: a fullwidth e-mail address reads as ``jane@example.com``);
* every decimal digit of any script becomes its ASCII digit (Arabic-Indic 4-1-5 reads ``415``);
* zero-width characters, other format characters and control characters (NUL
  included; tab, line feed and carriage return are kept) are removed;
* Cyrillic and Greek letters that look like Latin ones (homoglyphs) become them.

Only the characters that need it are touched: everything else keeps its place.
:class:`Normalized` maps a span found in the copy back onto the original text,
widened to whole original characters, so the protection covers every original
character the finding came from (the zero-width space in the middle of an e-mail
address included).
"""

from __future__ import annotations

import bisect
import unicodedata
from dataclasses import dataclass
from typing import Final

import regex

from streamsec.frozen import quick_init

__all__ = ["Normalized", "normalize"]

# A character outside printable ASCII, with the combining marks that follow it.
_SPECIAL: Final = regex.compile(r"[^\t\n\r\x20-\x7e]\p{M}*")

# Cyrillic and Greek letters that render like Latin ones (Unicode confusables),
# written as escapes so the source shows what they are.
_HOMOGLYPHS: Final = str.maketrans(
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u0501\u051b\u051d\u04bb"
    "\u04cf\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0406\u0408"
    "\u0405\u03b1\u03bf\u03bd\u03c1\u03c4\u03c5\u03ba\u03b9\u03f2\u0391\u0392\u0395\u0396"
    "\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7",
    "aeopcyxijsdqwhlABEKMHOPCTXIJSaovptukicABEZHIKMNOPTYX",
)


def _fold(cluster: str) -> str:
    text = unicodedata.normalize("NFKC", cluster)
    out: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn") and ch not in "\t\n\r":
            continue  # control, zero-width/format, surrogate, private, unassigned
        if category == "Nd":
            out.append(str(unicodedata.digit(ch)))
            continue
        out.append(ch)
    return "".join(out).translate(_HOMOGLYPHS)


@quick_init
@dataclass(frozen=True, slots=True)
class Normalized:
    """The detection copy of ``original`` and the edits that made it."""

    original: str
    text: str
    # For each edited cluster, in order: start and end in the copy, in the original.
    _copy_starts: tuple[int, ...] = ()
    _copy_ends: tuple[int, ...] = ()
    _orig_starts: tuple[int, ...] = ()
    _orig_ends: tuple[int, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self._copy_starts)

    def start(self, at: int) -> int:
        """Original position of a span starting at ``at`` in the copy."""
        i = bisect.bisect_right(self._copy_starts, at) - 1
        if i < 0:
            return at
        if at < self._copy_ends[i]:
            return self._orig_starts[i]
        return at - self._copy_ends[i] + self._orig_ends[i]

    def end(self, at: int) -> int:
        """Original position of a span ending (exclusive) at ``at`` in the copy."""
        i = bisect.bisect_left(self._copy_starts, at) - 1
        if i < 0:
            return at
        if at <= self._copy_ends[i]:
            return self._orig_ends[i]
        return at - self._copy_ends[i] + self._orig_ends[i]


def normalize(text: str) -> Normalized:
    """The detection copy of ``text`` (the same object when nothing needs folding)."""
    if text.isascii() and (text.isprintable() or _SPECIAL.search(text) is None):
        return Normalized(text, text)
    pieces: list[str] = []
    copy_starts: list[int] = []
    copy_ends: list[int] = []
    orig_starts: list[int] = []
    orig_ends: list[int] = []
    pos = 0  # next original character not yet copied
    size = 0  # length of the copy so far
    for match in _SPECIAL.finditer(text):
        start, end = match.span()
        folded = _fold(match.group())
        if folded == match.group():
            continue
        pieces.append(text[pos:start])
        size += start - pos
        copy_starts.append(size)
        orig_starts.append(start)
        pieces.append(folded)
        size += len(folded)
        copy_ends.append(size)
        orig_ends.append(end)
        pos = end
    if not copy_starts:
        return Normalized(text, text)
    pieces.append(text[pos:])
    return Normalized(
        text,
        "".join(pieces),
        tuple(copy_starts),
        tuple(copy_ends),
        tuple(orig_starts),
        tuple(orig_ends),
    )
