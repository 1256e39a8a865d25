r"""A ``regex`` pattern as a Hyperscan expression that matches at least what the
pattern matches on the texts the prefilter decides (printable ASCII, ``\t``,
``\n``, ``\r``): see :mod:`._prefilter` for the argument. Anything this module
cannot carry over with that guarantee raises :class:`Refused` (the pattern then
always runs)."""

from __future__ import annotations

import re
from functools import cache
from typing import Final

import hyperscan
import regex

__all__ = ["Refused", "translate"]

_ALLOWED_FLAGS: Final = regex.IGNORECASE | regex.DOTALL | regex.MULTILINE | regex.UNICODE | regex.A
_PLAIN_ESCAPES: Final = frozenset("dDwWsSbBAZznrtfa")
_QUANTIFIER: Final = re.compile(r"\{\d+(?:,\d*)?\}")
_NAME: Final = re.compile(r"[A-Za-z_]\w*>")
_ASCII: Final = tuple(map(chr, range(0x80)))


class Refused(ValueError):
    """A pattern the prefilter cannot prove a superset for."""


@cache
def _matches_ascii(ch: str) -> bool:
    """Whether ``regex`` (V0, simple case folding) lets ``ch`` match an ASCII
    character under IGNORECASE (the Kelvin sign matches ``k``, the long s ``s``)."""
    return any(regex.fullmatch(regex.escape(ch), a, regex.IGNORECASE) for a in _ASCII)


def _never_ascii(code: int) -> str:
    """The stand-in of a non-ASCII character: the byte 0x80, which no decided text
    holds, as one atom (so ``ä?`` keeps its shape)."""
    if _matches_ascii(chr(code)):
        raise Refused(f"U+{code:04X} matches an ASCII character")
    return "\\x80"


# ``\p{..}`` as its ASCII members, a class body. Exact in both engines with and
# without IGNORECASE: Hyperscan closes an explicit class over case as ``regex``
# does a cased property (``(?i)\p{Lu}`` matches ``a`` in both once it is ``[A-Z]``).
_PROPERTY: Final = {"L": "A-Za-z", "Lu": "A-Z", "Ll": "a-z", "N": "0-9", "Nd": "0-9", "M": "\\x80"}


def translate(source: str, flags: int) -> tuple[bytes, int]:
    """The Hyperscan expression and flags for a ``regex`` pattern (see the module
    doc), or :class:`Refused`."""
    if flags & ~_ALLOWED_FLAGS or regex.DEFAULT_VERSION != regex.VERSION0:
        raise Refused("regex flags without a PCRE equivalent")
    out: list[str] = []
    in_class = False
    class_start = 0
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "\\":
            if i + 1 >= n:
                raise Refused("trailing backslash")
            nxt = source[i + 1]
            if nxt in _PLAIN_ESCAPES:
                out.append(source[i : i + 2])
                i += 2
            elif nxt in "xu":  # \xHH and \uHHHH: the character they name
                digits = 2 if nxt == "x" else 4
                m = re.match(rf"[0-9a-fA-F]{{{digits}}}", source[i + 2 : i + 2 + digits])
                if m is None:
                    raise Refused(f"\\{nxt} without {digits} hex digits")
                code = int(m.group(), 16)
                width = 2 + digits
                ascii_char = f"\\x{code:02x}" if code < 0x80 else None
                out.append(ascii_char or _atom(code, in_class, source, i, width))
                i += width
            elif nxt == "p":
                m = re.match(r"\{(\w+)\}", source[i + 2 :])
                if m is None or m.group(1) not in _PROPERTY:
                    raise Refused("unsupported \\p")
                ascii_set = _PROPERTY[m.group(1)]
                out.append(ascii_set if in_class else f"[{ascii_set}]")
                i += 2 + m.end()
            elif nxt in "123456789" and not in_class and not source[i + 2 : i + 3].isdigit():
                out.append(source[i : i + 2])  # a back-reference (approximated: a superset)
                i += 2
            elif nxt.isalnum() or not nxt.isascii():
                raise Refused(f"escape \\{nxt}")
            else:
                out.append(source[i : i + 2])
                i += 2
            continue
        if not ch.isascii():
            out.append(_atom(ord(ch), in_class, source, i, 1))
            i += 1
            continue
        if in_class:
            if ch == "[" and source[i + 1 : i + 2] in (":", "=", "."):
                raise Refused("POSIX class syntax")
            if ch == "]" and i > class_start:
                in_class = False
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            j = i + 1 + (source[i + 1 : i + 2] == "^")
            class_start = j + (source[j : j + 1] == "]")  # a leading ']' is literal
            out.append(source[i:j])
            i = j
            continue
        if ch == "{":
            m = _QUANTIFIER.match(source, i)
            if m is None:
                raise Refused("brace that is not a PCRE quantifier")
            out.append(m.group())
            i = m.end()
            continue
        if ch == "(" and source[i + 1 : i + 2] == "?":
            i = _group(source, i, out)
            continue
        out.append(ch)
        i += 1
    if in_class:
        raise Refused("unterminated class")
    hs_flags = hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_SINGLEMATCH
    if flags & regex.IGNORECASE:
        hs_flags |= hyperscan.HS_FLAG_CASELESS
    if flags & regex.DOTALL:
        hs_flags |= hyperscan.HS_FLAG_DOTALL
    if flags & regex.MULTILINE:
        hs_flags |= hyperscan.HS_FLAG_MULTILINE
    return "".join(out).encode(), hs_flags


def _atom(code: int, in_class: bool, source: str, at: int, width: int) -> str:
    """A non-ASCII character's stand-in. As the end of a range in a class it is
    refused: the range may hold a character that matches ASCII (the Kelvin sign)."""
    stand_in = _never_ascii(code)
    if not in_class:
        return f"[{stand_in}]"
    after = source[at + width : at + width + 2]
    if source[at - 1 : at] == "-" or (after[:1] == "-" and after != "-]"):
        raise Refused("a class range with a non-ASCII end")
    return stand_in


def _group(source: str, i: int, out: list[str]) -> int:
    """Copy a ``(?`` group opener; return the index after it."""
    rest = source[i + 2 :]
    for opener in (":", "=", "!", "<=", "<!", ">"):
        if rest.startswith(opener):
            out.append("(?" + opener)
            return i + 2 + len(opener)
    if rest.startswith("#"):
        end = source.find(")", i)
        if end < 0:
            raise Refused("unterminated comment")
        return end + 1
    for prefix in ("P<", "<"):
        if rest.startswith(prefix) and _NAME.match(rest, len(prefix)):
            m = _NAME.match(rest, len(prefix))
            assert m is not None
            out.append("(?" + rest[: m.end()])
            return i + 2 + m.end()
    m = re.match(r"([ims]*)(?:-([ims]*))?([:)])", rest)
    if m is None or not (m.group(1) or m.group(2)):
        raise Refused("group syntax")
    if m.group(3) == ")" and i != 0:
        raise Refused("a global flag after the start")
    out.append("(?" + m.group())
    return i + 2 + m.end()
