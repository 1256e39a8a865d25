"""Street addresses: number + street (English, European and other forms), PO and
military boxes, unit designators; a match is extended over the rest of the
address block (units, city, region code, country, postal code)."""

from __future__ import annotations

from typing import Final

import regex
from presidio_analyzer import Pattern, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from streamsec.detection.recognizers._base import FastPatternRecognizer
from streamsec.detection.recognizers._fragments import (
    CAP_WORD,
    CASE_SENSITIVE,
    HOUSE_NUMBER,
    MONTHS,
    STOP_WORDS,
    word_alternation,
    words,
)
from streamsec.detection.recognizers._gate import Gate, word_runs

__all__ = ["StreetAddressRecognizer"]

_TYPES: Final = words(
    "Street St Avenue Ave Av Road Rd Boulevard Blvd Lane Ln Drive Dr Court Ct Place Pl "
    "Square Sq Squares Terrace Ter Way Parkway Pkwy Highway Hwy Circle Cir Crescent Cres "
    "Close Row Walk Alley Trail Trl Plaza Pass Path Pike Mews Gardens Gdns Green Grove "
    "Heights Hts Hill Hills Park Ridge View Vale Extension Ext Extensions Loop Bypass "
    "Causeway Point Junction Manor Meadow Meadows Landing Mill Mills Orchard Run Shore "
    "Shores Summit Turnpike Valley Village Villages Vista Wynd Quay Embankment Crossing "
    "Forge Forges Fork Forks Glen Haven Hollow Island Isle Knoll Lake Lakes Mount Oval "
    "Port Prairie Ranch Spring Springs Station Stravenue Track Trace Union Unions Ville "
    "Well Wells Burg Center Centre Common Commons Corner Corners Cove Creek Dale Dam "
    "Divide Estate Estates Expressway Falls Ferry Field Fields Flat Flats Ford Fords "
    "Forest Fort Freeway Gateway Harbor Harbour Inlet Key Keys Light Lights Lock Locks "
    "Lodge Motorway Neck Pines Plain Plains Radial Rapid Rapids Rest Route Shoal Shoals "
    "Skyway Stream Throughway Tunnel Underpass Via Viaduct Views Wall Ways Strasse Straße "
    "Str Gasse Weg Allee Platz Laan Straat Vej Gade Gata Gatan Vägen Veien Vei Katu Tie "
    "Utca Ulica Terrasse Plass Torget"
)
_SUFFIXES: Final = words(
    "straße strasse str. weg gasse allee platz damm ufer steig laan straat gracht plein "
    "dreef kade singel steeg vej gade vænget stræde vägen väg gatan gata gränd backe "
    "veien vegen veg gate katu tie kuja polku tori kaari rinne väylä utca útja körút "
    "sétány cesta ulica ulice braut vegur stígur ring bakken löv bygget"
)
_LOWER_TYPES: Final = words(
    "u. út útja tér utca tee tn. mnt. pst. iela gatve g. str. street avenue road lane "
    "drive st. ave. rd. blvd. terrasse vei veien gate gata vej allé gade plass torget "
    "kapu rkp. körút sor köz fasor sétány krt."
)
_PREFIXES_ANY_CASE: Final = words(
    "rue rua ul. al. calle avenida avda. av. carrer carrera travessa estrada praça piazza "
    "viale vicolo corso largo aleja ulica plac os. chemin allée impasse quai strada "
    "bulevar bulevardi odos leoforos λεωφόρος οδός λ. ул. улица пр."
)
_PREFIXES_CAPITALISED: Final = words(
    "Via Place Route Cours Plaza Boulevard Paseo Camino Ronda Passeig Alameda Rodovia "
    "Largo Ulitsa Prospekt Odos Avenue"
)
_PARTICLES: Final = words(
    "de du des la le les di da do del della dos das van von der den het of the and y e l' d'"
)
_UNITS: Final = (
    r"(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Floor|Fl\.|Room|Rm\.?|Bldg\.?|Building|#)"
)

_T = word_alternation(_TYPES)
_TYPE_WORDS = word_runs(_TYPES)
_PREFIX_WORDS = word_runs(_PREFIXES_ANY_CASE + _PREFIXES_CAPITALISED)
_SUFFIX = word_alternation(_SUFFIXES)
_LOWER = word_alternation(_LOWER_TYPES)
_PARTICLE = word_alternation(_PARTICLES)
_PREFIX = (
    "(?:(?i:"
    + word_alternation(_PREFIXES_ANY_CASE)
    + ")|"
    + word_alternation(_PREFIXES_CAPITALISED)
    + ")"
)
_NUM = HOUSE_NUMBER
_SP = r"[ \t]+"
_W = rf"(?!(?:{MONTHS})\b){CAP_WORD}"  # a capitalised word that is not a month
_NAME = rf"(?:{_W}|{_PARTICLE}\b)"
_LEAD = rf"(?:{_NUM}{_SP}){{0,2}}"
_B = r"(?<![\w@./-])"
_E = r"(?![\w@/-])"

_UNIT = rf"(?i:{_UNITS})[ \t]*#?[ \t]*\d{{1,5}}[A-Za-z]?\b"
_POSTAL = (
    r"(?:\d{2,6}(?:[- ]\d{2,4})?(?:[ \t]\p{Lu}{2}\b)?|\p{Lu}\d\p{Lu}[ ]?\d\p{Lu}\d|\p"
    r"{Lu}{1,2}\d[\p{Lu}\d]?[ ]\d\p{Lu}{2})"
)
_TAIL_WORD = r"\p{Lu}[\p{L}\p{M}'\u2019-]*+"
_TAIL_PART = regex.compile(
    r"(?:[ \t]*(?:(?:\r?\n|,)[ \t>]*){1,3}|[ \t]+)"
    rf"(?P<part>{_UNIT}|(?P<postal>{_POSTAL})(?![\w-])(?![ \t]*\d)|\(\p{{Lu}}[\p{{L}}\p{{M}}]"
    rf"+\)|{_TAIL_WORD}(?:[ \t]+{_TAIL_WORD}){{0,3}})"
    r"(?![ \t]*:)",
    CASE_SENSITIVE,
)
_MAX_TAIL_PARTS: Final = 8
_BLOCK_SCORE: Final = 0.65
"""A street line followed by more address parts is an address even without a cue."""


class StreetAddressRecognizer(FastPatternRecognizer):
    """Recognize street addresses with regexes, extended over the address block."""

    FINDS_ONLY_THROUGH_PATTERNS = True  # its analyze only adjusts match_patterns' results

    ENTITY = "STREET_ADDRESS"
    FLAGS = CASE_SENSITIVE

    PATTERNS = [
        Pattern(
            "number + name + street type",
            rf"{_B}{_NUM}{_SP}{_LEAD}(?:{_NAME}{_SP}){{0,4}}(?:{_W}{_SP})?(?i:{_T})\b\.?(?:{_SP}{_NUM}{_E})?",
            0.6,
        ),
        Pattern(
            "name + street type + number",
            rf"{_B}(?:{_W}{_SP}){{1,4}}(?i:{_T})\.?{_SP}{_NUM}{_E}",
            0.55,
        ),
        Pattern(
            "compound street name",
            rf"{_B}{_LEAD}(?:{_NAME}{_SP}){{0,3}}\p{{Lu}}\p{{Ll}}{{2,}}(?i:{_SUFFIX})(?:{_SP}{_NUM}\.?{_E}|(?<=\.)|\b)",
            0.45,
        ),
        Pattern(
            "street-type prefix",
            rf"{_B}{_LEAD}{_PREFIX}{_SP}(?:{_NAME}{_SP}){{0,4}}{_W}(?:,?{_SP}{_NUM}{_E})?",
            0.45,
        ),
        Pattern(
            "number + name + number",
            rf"{_B}{_NUM}{_SP}(?:(?:{_W}|(?i:{_LOWER})){_SP}){{1,4}}{_NUM}\.?{_E}",
            0.45,
        ),
        Pattern(
            "post office box",
            r"\b(?i:P\.?[ ]?O\.?[ ]?Box|Post(?:al)?[ ]?(?:Office[ ]?)?Box|Postbox|Postfach|"
            r"Apartado|Casilla)[ \t]*\d{1,6}\b",
            0.7,
        ),
        Pattern("military box", r"\b(?:PSC|CMR|Unit)[ \t]+\d{3,5},?[ \t]+Box[ \t]+\d{3,5}\b", 0.75),
        Pattern("military post office", r"\b(?:APO|FPO|DPO)[ \t]+(?:AA|AE|AP)[ \t]+\d{5}\b", 0.8),
        Pattern("navy ship", r"\b(?:USNS|USNV|USS|USCGC)[ \t]+\p{Lu}[\p{L}'-]+", 0.6),
        Pattern("unit", rf"{_B}{_UNIT}", 0.3),
    ]
    # Gates (see ._gate): why each one holds for its pattern. A street type follows
    # an _SP (after the number, _LEAD, a name or _W) and ends before "\b", "." or
    # _SP; a prefix follows _B or _SP and ends before "." or _SP: whole words.
    GATES = {
        # Starts with _B _NUM; the street type is a whole word after an _SP.
        "number + name + street type": Gate(
            "b17fb90663387666", words=_TYPE_WORDS, starts=r"(?<![\w@./-])\d"
        ),
        # Factor: the street type (after a name's _SP), the optional dot, _SP, a digit.
        "name + street type + number": Gate(
            "44c143f345b68521", words=_TYPE_WORDS, needs=rf"[ \t](?i:{_T})\.?{_SP}\d"
        ),
        # Factor: the compound word.
        "compound street name": Gate(
            "d4739ddfc02f8031", needs=rf"\p{{Lu}}\p{{Ll}}{{2,}}(?i:{_SUFFIX})"
        ),
        # Factor: the prefix and its _SP; the prefix is a whole word.
        "street-type prefix": Gate(
            "0c836d8038f2c9de", words=_PREFIX_WORDS, needs=rf"{_PREFIX}{_SP}"
        ),
        # Starts with _B _NUM.
        "number + name + number": Gate("f031d4b2eff66b8d", starts=r"(?<![\w@./-])\d"),
        # Every alternative ends with "box" or is Postfach, Apartado or Casilla.
        "post office box": Gate(
            "78b662802a147dc2", needs=r"(?i:box|postfach|apartado|casilla)[ \t]*\d"
        ),
        # Factor "Box[ \t]+\d".
        "military box": Gate("8257c5722dcb0e68", needs=r"Box[ \t]+\d"),
        # Factor: the unit word, its separators, a digit.
        "unit": Gate("e02aa69339938379", needs=rf"(?i:{_UNITS})[ \t]*#?[ \t]*\d"),
    }
    CONTEXT = [
        "address",
        "street",
        "live",
        "lives",
        "living",
        "located",
        "location",
        "deliver",
        "delivery",
        "ship",
        "shipping",
        "send",
        "sent",
        "mail",
        "moved",
        "move",
        "reside",
        "residence",
        "home",
        "billing",
        "apartment",
        "meet",
        "office",
        "offices",
        "house",
    ]

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = super().analyze(
            text, entities, nlp_artifacts, regex_flags or CASE_SENSITIVE
        )
        for result in results:
            end, parts = _extend_over_block(text, result.end)
            result.end = end
            if parts:
                result.score = max(result.score, _BLOCK_SCORE)
        return results


def _extend_over_block(text: str, end: int) -> tuple[int, int]:
    """Move ``end`` over the address parts that follow it (units, places, codes).

    Returns the new end and how many parts were added.
    """
    after_postal = False
    parts = 0
    for _ in range(_MAX_TAIL_PARTS):
        match = _TAIL_PART.match(text, end)
        if match is None:
            break
        is_postal = match.group("postal") is not None
        first = match.group("part").split()[0]
        if (is_postal and after_postal) or (
            first[0].isalpha() and first.lower().rstrip(".") in STOP_WORDS
        ):
            break
        after_postal = is_postal
        end = match.end()
        parts += 1
    return end, parts
