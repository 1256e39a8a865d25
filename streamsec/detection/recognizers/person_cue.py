"""People's names after an unmistakable cue: an honorific ("Dr. Jane Roe"), "my
name is", "named", "called", "calls me", "Name:", "Dear", "Hi"/"Hello"; or right
before a patient identifier ("Vera Barco, MRN 5031333"). NER
misses many names from outside its training data; the cue does not."""

from __future__ import annotations

from presidio_analyzer import Pattern

from streamsec.detection.recognizers._base import FastPatternRecognizer
from streamsec.detection.recognizers._fragments import CASE_SENSITIVE, words
from streamsec.detection.recognizers._gate import Gate, word_runs

__all__ = ["PersonCueRecognizer"]

_NAME = (
    r"\p{Lu}[\p{L}\p{M}'\u2019\-]*+(?:[ \t]+(?:\p{Lu}\.|\p{Lu}[\p{L}\p{M}'\u2019\-]*+|(?:van|"
    r"von|de|da|del|der|di|du|le|la|bin|ibn|al)(?=[ \t]+\p{Lu}))){0,3}"
)
_ANY_NAME = (
    r"[\p{L}][\p{L}\p{M}'\u2019\-]*+(?:[ \t]+(?:\p{L}\.|[\p{L}][\p{L}\p{M}'\u2019\-]*+)){0,2}"
)
_FULL_NAME = (
    r"(?!(?:The|A|An|This|That|These|Those|Our|Your|My|Their|His|Her|Its|We|They|It)\b)"
    r"\p{Lu}[\p{Ll}\p{M}'\u2019\-]+(?:[ \t]+\p{Lu}\.)?(?:[ \t]+\p{Lu}[\p{Ll}\p{M}'\u2019\-]+){1,2}"
)
_HONORIFICS: tuple[str, ...] = words(
    "Mr Mrs Ms Miss Mx Dr Prof Sir Dame Madam Mme Mlle Herr Frau"
)
_HONORIFIC = rf"(?:{'|'.join(_HONORIFICS)})\.?"


class PersonCueRecognizer(FastPatternRecognizer):
    """Recognize a name that follows a naming cue."""

    ENTITY = "PERSON"
    FLAGS = CASE_SENSITIVE

    PATTERNS = [
        Pattern("after an honorific", rf"(?<![\w.]){_HONORIFIC}[ \t]+(?P<value>{_NAME})", 0.7),
        Pattern(
            "after 'my name is'",
            rf"\b(?i:my[ \t]+(?:full[ \t]+|first[ \t]+|last[ \t]+|maiden[ \t]+)?name[ \t]+is|"
            rf"name[ \t]+is|call[ \t]+me|calls[ \t]+me)[ \t]+(?P<value>{_ANY_NAME})(?=[ \t]"
            rf"*(?:$|[.,;!?\n]|[ \t]+(?:but|and|from|i|I)\b))",
            0.7,
        ),
        Pattern(
            "after a naming word",
            rf"\b(?i:named|called|signed|regards,?|sincerely,?|dear|hi|hello|hey|thanks,?|cc:?|"
            rf"attn:?|patient)[ \t]+(?!I\b)(?P<value>{_NAME})",
            0.5,
        ),
        Pattern(
            "full name after a role or introduction",
            rf"\b(?i:this[ \t]+is|customer|client|caller|user|member|guest|"
            rf"passenger|applicant|employee|agent)[ \t]+(?P<value>{_FULL_NAME})",
            0.55,
        ),
        Pattern(
            "full name before a speech verb",
            rf"(?:^|(?<=[:,;(\n][ \t]*))(?P<value>{_FULL_NAME})(?=[ \t]+(?:says|said|writes|"
            rf"wrote|asked|asks|reports|reported|called|calls|here\b|explains|explained|"
            rf"confirmed|confirms|complained|complains)\b)",
            0.55,
        ),
        Pattern(
            "full name before a patient identifier",
            rf"(?:^|(?<=[:;(\n][ \t]*))(?P<value>{_FULL_NAME})(?=[ \t]*[,(][ \t]*(?i:MRN|DOB|"
            rf"d\.o\.b|born|aged?|NHS|patient[ ]id)\b)",
            0.7,
        ),
        Pattern(
            "after a name label",
            rf"(?:^|\n)[ \t]*(?i:name|full name|patient|contact|customer|attendee)[ \t]*:[ \t]"
            rf"*(?P<value>{_ANY_NAME})",
            0.7,
        ),
    ]
    # Gates (see ._gate): each pattern's cue words are whole words of the text (after
    # "\b", a look-behind of non-word characters or [ \t]; before [ \t], ",", ":",
    # "." or "\b"), so an ASCII text without them cannot match.
    GATES = {
        "after an honorific": Gate("6edd0d9334558fa5", words=word_runs(_HONORIFICS)),
        "after 'my name is'": Gate("bbe8c10f01643acd", words=word_runs(("name", "call", "calls"))),
        "after a naming word": Gate(
            "19c29dac0276e93a",
            words=word_runs(
                words(
                    "named called signed regards sincerely dear hi hello hey thanks cc attn patient"
                )
            ),
        ),
        "full name after a role or introduction": Gate(
            "1aaf7ded9132c25e",
            words=word_runs(
                (
                    "this is",
                    *words(
                        "customer client caller user member guest passenger applicant employee "
                        "agent"
                    ),
                )
            ),
        ),
        "full name before a speech verb": Gate(
            "41befc6d26188d17",
            words=word_runs(
                words(
                    "says said writes wrote asked asks reports reported called calls here explains "
                    "explained confirmed confirms complained complains"
                )
            ),
        ),
        "full name before a patient identifier": Gate(
            "94838949810e8b9f",
            words=word_runs(("MRN", "DOB", "d.o.b", "born", "age", "aged", "NHS", "patient id")),
        ),
        "after a name label": Gate(
            "b882ced4892cc2d2",
            words=word_runs(("name", "full name", "patient", "contact", "customer", "attendee")),
        ),
    }
