"""A hostile mix of raw records, to throw at a worker: what each kind should become,
and which personal values must never be seen in clear outside the dead-letter topic.

``hostile_mix(n)`` returns ``n`` records (unique keys ``h-000000`` ...) in the kinds of
:data:`KINDS`: good structured records and free text, and every kind of bad or
hostile input a raw topic can carry (invalid UTF-8 and JSON, top-level arrays,
strings and numbers, 100-deep nesting, a 50k-deep list, 2 MB records and records
just over 1 MiB, a 200k-element array, a 500k-character string, 10,000 fields,
NaN/Infinity, huge numbers, duplicate keys, e-mail addresses as keys, NUL bytes,
Unicode look-alikes, empty values, tombstones). The expensive kinds come a fixed
few times (``heavy``), the rest cycle. Each :class:`HostileRecord` names its kind,
the outcome it must have (``protected``, ``dead`` with a reason, or ``either`` for
kinds a time budget may cut), and its ``secrets``: strings that must not occur in
the protected, audit or lineage topics or in any log, as they would be written in
JSON (:func:`clear_forms`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

__all__ = ["HEAVY_KINDS", "KINDS", "HostileRecord", "clear_forms", "hostile_mix"]

_ZWSP: Final = "\u200b"
_CYRILLIC: Final = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441"}
_FIRST: Final = ("Jane", "Omar", "Li", "Maria", "Kwame", "Sofia", "Arjun", "Elena")
_LAST: Final = ("Roe", "Haddad", "Chen", "Garcia", "Mensah", "Rossi", "Patel", "Novak")
_FILLER: Final = "The parcel arrived late and the box was damaged, please advise on next steps. "


@dataclass(frozen=True, slots=True)
class HostileRecord:
    kind: str
    key: bytes | None
    value: bytes | None
    expect: str
    """``protected``, ``dead`` or ``either``."""
    reason: str | None = None
    """The dead-letter reason code, when ``expect`` is ``dead``."""
    secrets: tuple[str, ...] = ()


def clear_forms(secret: str) -> tuple[str, ...]:
    """How ``secret`` would look in clear inside JSON output (raw, escaped both ways)."""
    forms = {
        secret,
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1],
    }
    return tuple(sorted(forms))


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


class _Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - test data, not secrets
        self.n = 0

    def token(self) -> str:
        """A unique lower-case word: a leak of it anywhere is unambiguous."""
        self.n += 1
        letters = "".join(self.rng.choice("bdfghjkmnqrtvwxz") for _ in range(6))
        return f"{letters}{self.n}"

    def mail(self) -> tuple[str, str]:
        token = self.token()
        return f"{token}@example.com", token

    def phone(self) -> str:
        r = self.rng
        return f"+1 415-{r.randint(200, 999)}-{r.randint(1000, 9999)}"

    def name(self) -> str:
        return f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}"


def _obj(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


Make = Callable[[_Maker], tuple[bytes | None, str, str | None, tuple[str, ...]]]


def _good(m: _Maker) -> tuple[bytes | None, str, str | None, tuple[str, ...]]:
    mail, token = m.mail()
    phone = m.phone()
    record = {"id": m.n, "email": mail, "phone": phone, "plan": "gold", "active": True}
    return _obj(record), "protected", None, (mail, token, phone)


def _note(m: _Maker) -> tuple[bytes | None, str, str | None, tuple[str, ...]]:
    mail, token = m.mail()
    phone = m.phone()
    note = f"Customer asked us to write to {mail} or call {phone} after 5pm."
    return _obj({"ticket": m.n, "note": note}), "protected", None, (mail, token, phone)


def _look_alike(form: Callable[[str], str]) -> Make:
    def make(m: _Maker) -> tuple[bytes | None, str, str | None, tuple[str, ...]]:
        mail, token = m.mail()
        shown = form(mail)
        note = f"please reach me at {shown} thanks"
        token_shown = token if token in shown else form(token)
        return _obj({"id": m.n, "note": note}), "protected", None, (shown, token_shown)

    return make


def _homoglyph(text: str) -> str:
    return "".join(_CYRILLIC.get(c, c) for c in text)


def _zero_width(text: str) -> str:
    return _ZWSP.join(text[i : i + 3] for i in range(0, len(text), 3))


def _nul(text: str) -> str:
    at = text.index("@")
    return text[:at] + "\x00" + text[at:]


def _fullwidth_phone(m: _Maker) -> tuple[bytes | None, str, str | None, tuple[str, ...]]:
    digits = f"415{m.rng.randint(2000000, 9999999)}"
    shown = _fullwidth(f"({digits[:3]}) {digits[3:6]}-{digits[6:]}")
    note = f"my phone number is {shown}, call any time"
    return _obj({"id": m.n, "note": note}), "protected", None, (shown,)


def _dead(value: bytes, reason: str) -> Make:
    return lambda m: (value, "dead", reason, ())


def _with_mail(build: Callable[[str], bytes], reason: str) -> Make:
    def make(m: _Maker) -> tuple[bytes | None, str, str | None, tuple[str, ...]]:
        mail, token = m.mail()
        return build(mail), "dead", reason, (mail, token)

    return make


def _padded(size: int, reason: str) -> Make:
    """A free-text record of ``size`` bytes with e-mail addresses all through it."""

    def make(m: _Maker) -> tuple[bytes | None, str, str | None, tuple[str, ...]]:
        mail, token = m.mail()
        block = f"{_FILLER}Write to {mail}. "
        head = b'{"note": "'
        body = (block * (size // len(block) + 1)).encode()[: size - len(head) - 2]
        return head + body + b'"}', "dead", reason, (mail, token)

    return make


def _dense_text(m: _Maker) -> tuple[bytes | None, str, str | None, tuple[str, ...]]:
    """~150k characters of text with personal data: under the text limit, heavy to
    scan; protected whole, or dead-lettered ``too_slow`` by a tight budget."""
    secrets: list[str] = []
    parts: list[str] = []
    while sum(map(len, parts)) < 150_000:
        mail, token = m.mail()
        secrets += [mail, token]
        parts.append(f"{_FILLER}{m.name()} wrote from {mail} about order {m.n}. ")
    return _obj({"id": m.n, "note": "".join(parts)}), "either", None, tuple(secrets)


def _sensitive_keys(m: _Maker) -> tuple[bytes | None, str, str | None, tuple[str, ...]]:
    mail, token = m.mail()
    return _obj({"scores": {mail: 1, "other@example.org": 2}}), "dead", "sensitive_key", (
        mail, token)


def _empty(m: _Maker) -> tuple[bytes | None, str, str | None, tuple[str, ...]]:
    return _obj({"id": m.n, "email": "", "name": "", "note": None, "tags": [], "x": {}}), \
        "protected", None, ()


def _bom(m: _Maker) -> tuple[bytes | None, str, str | None, tuple[str, ...]]:
    value, expect, reason, secrets = _good(m)
    return b"\xef\xbb\xbf" + (value or b""), expect, reason, secrets


def _bad_key(m: _Maker) -> tuple[bytes | None, str, str | None, tuple[str, ...]]:
    """A good value under a key that is not UTF-8 (the key is set by :func:`hostile_mix`)."""
    value, _expect, _reason, secrets = _good(m)
    return value, "dead", "decode", secrets


def _lazy(build: Callable[[], bytes], reason: str) -> Make:
    """A dead-lettered kind whose (large) value is built when needed, not at import."""
    return lambda m: (build(), "dead", reason, ())


KINDS: Final[dict[str, Make]] = {
    "good": _good,
    "free_text": _note,
    "bom": _bom,
    "invalid_key": _bad_key,
    "fullwidth_mail": _look_alike(_fullwidth),
    "fullwidth_phone": _fullwidth_phone,
    "homoglyph_mail": _look_alike(_homoglyph),
    "zero_width_mail": _look_alike(_zero_width),
    "nul_in_mail": _look_alike(_nul),
    "empty_values": _empty,
    "empty_object": lambda m: (b"{}", "protected", None, ()),
    "tombstone": lambda m: (None, "protected", None, ()),
    "invalid_utf8": _with_mail(lambda mail: b'{"email": "\xff\xfe' + mail.encode() + b'"}',
                               "decode"),
    "invalid_json": _with_mail(lambda mail: b'{"email": "' + mail.encode() + b'",', "decode"),
    "top_array": _with_mail(lambda mail: _obj([mail, 1]), "decode"),
    "top_string": _with_mail(lambda mail: _obj(mail), "decode"),
    "top_number": _dead(b"42", "decode"),
    "empty_bytes": _dead(b"", "decode"),
    "nesting_100": _dead(b'{"a":' * 100 + b"1" + b"}" * 100, "too_deep"),
    "nan": _dead(b'{"a": NaN, "b": 1}', "bad_number"),
    "infinity": _dead(b'{"a": -Infinity}', "bad_number"),
    "huge_float": _dead(b'{"amount": 1e400}', "bad_number"),
    "huge_int": _dead(b'{"n": ' + b"9" * 5_000 + b"}", "bad_number"),
    "duplicate_keys": _with_mail(
        lambda mail: b'{"email": "' + mail.encode() + b'", "email": "x"}', "duplicate_key"
    ),
    "lone_surrogate": _with_mail(lambda mail: b'{"note": "\\ud800 ' + mail.encode() + b'"}',
                                 "bad_unicode"),
    "email_keys": _sensitive_keys,
}

HEAVY_KINDS: Final[dict[str, Make]] = {
    "deep_list_50k": _lazy(lambda: b'{"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "too_deep"),
    "array_200k": _lazy(lambda: _obj({"items": [0] * 200_000}), "too_many_fields"),
    "fields_10k": _lazy(lambda: _obj({f"f{i}": i for i in range(10_000)}), "too_many_fields"),
    "string_500k": _padded(500_000, "too_large"),
    "just_over_1mib": _padded(1_048_576 + 100, "too_large"),
    "record_2mb": _padded(2_000_000, "too_large"),
    "dense_text_150k": _dense_text,
}


def hostile_mix(n: int, seed: int = 16, heavy: int = 2) -> list[HostileRecord]:
    """``n`` records: ``heavy`` of each heavy kind, the rest cycling through :data:`KINDS`,
    shuffled (the same seed gives the same mix)."""
    maker = _Maker(seed)
    plan = [k for k in HEAVY_KINDS for _ in range(heavy)]
    cheap = list(KINDS)
    plan += [cheap[i % len(cheap)] for i in range(max(0, n - len(plan)))]
    maker.rng.shuffle(plan)
    out: list[HostileRecord] = []
    for i, kind in enumerate(plan[:n]):
        value, expect, reason, secrets = {**KINDS, **HEAVY_KINDS}[kind](maker)
        key = f"h-{i:06d}".encode()
        if kind == "invalid_key":
            key = b"\xff" + key  # not UTF-8, still unique
        out.append(HostileRecord(kind, key, value, expect, reason, secrets))
    return out
