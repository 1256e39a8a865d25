"""What a field's name says about its value.

The last path segments are split into lower-case words (camelCase, snake_case,
kebab-case and dotted paths alike: ``customer.firstName`` -> ``customer`` /
``first name``) and matched against a small vocabulary: a field can *imply* an
entity type (``holder`` -> PERSON), be *benign* (ids, enums, timestamps,
amounts, codes: only cheap checks run, no NER), be *free text* (``notes``,
``ticket.body``: entities are looked for inside it), or say nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

import regex

from streamsec.records.paths import parse_path

__all__ = ["FieldHint", "field_hint", "path_words"]


def _words(text: str) -> list[str]:
    return text.split()


_SPLIT: Final = regex.compile(r"\p{Lu}+(?=\p{Lu}\p{Ll})|\p{Lu}?\p{Ll}+|\p{Lu}+|\d+")

_PERSON_QUALIFIERS: Final = frozenset(
    _words("first last full given family middle display maiden sur legal preferred real")
)
_PERSON_WORDS: Final = frozenset(
    _words(
        "firstname lastname fullname surname givenname familyname middlename holder "
        "cardholder accountholder holdername recipient beneficiary guardian "
        "spouse nextofkin "
        "payee payer signatory patient physician doctor nurse forename"
    )
)
_PERSON_PARENTS: Final = frozenset(
    _words(
        "customer user person patient contact employee holder cardholder member "
        "client guest "
        "passenger driver owner recipient sender beneficiary student applicant "
        "account profile "
        "subscriber buyer seller author doctor physician emergency billing shipping "
        "consignee shipper insured policyholder parent child spouse manager agent"
    )
)
_ORG_WORDS: Final = frozenset(
    _words("company companyname employer organization organisation org orgname businessname")
)
_ORG_PARENTS: Final = frozenset(
    _words("company employer organization organisation org business merchant vendor bank")
)
_NON_PERSON_PARENTS: Final = frozenset(
    _words(
        "product item sku file event service app application team project topic "
        "host server "
        "plan category tag queue job task metric field column table index "
        "bucket brand model "
        "device browser os country city street region state currency"
    )
)
_ADDRESS_PARENTS: Final = frozenset(
    _words("address addr billing shipping home residence location mailing postal work")
)
_COMPACT: Final[dict[str, str]] = {
    **{w: "PERSON" for w in _PERSON_WORDS},
    **{w: "ORGANIZATION" for w in _ORG_WORDS},
    **{w: "EMAIL_ADDRESS" for w in _words("email mail emailaddress")},
    **{
        w: "PHONE_NUMBER"
        for w in _words(
            "phone telephone tel mobile cell cellphone fax msisdn phonenumber mobilenumber"
        )
    },
    **{w: "US_SSN" for w in _words("ssn socialsecuritynumber socialsecurity")},
    **{w: "US_ITIN" for w in _words("itin taxid tin")},
    **{w: "DATE_OF_BIRTH" for w in _words("dob birthdate dateofbirth birthday born birth")},
    "age": "AGE",
    **{
        w: "CREDIT_CARD"
        for w in _words(
            "cardnumber ccnumber creditcard creditcardnumber pan cc cvv cvc cvv2 securitycode"
        )
    },
    "iban": "IBAN_CODE",
    **{
        w: "US_BANK_NUMBER"
        for w in _words("accountnumber bankaccount bankaccountnumber acctnumber acctno accountno")
    },
    **{
        w: "US_DRIVER_LICENSE"
        for w in _words(
            "driverlicense driverslicense dl dlnumber driverlicensenumber "
            "drivinglicence drivinglicense licensenumber"
        )
    },
    **{w: "US_PASSPORT" for w in _words("passport passportnumber passportno")},
    **{w: "MEDICAL_LICENSE" for w in _words("medicallicense dea deanumber")},
    **{
        w: "IP_ADDRESS"
        for w in _words("ip ipaddress clientip remoteip remoteaddr sourceip srcip ipv4 ipv6")
    },
    **{w: "URL" for w in _words("url website homepage")},
    **{w: "CRYPTO" for w in _words("wallet walletaddress btcaddress bitcoinaddress ethaddress")},
    **{
        w: "STREET_ADDRESS"
        for w in _words(
            "street streetaddress address addr addressline address1 address2 "
            "addressline1 addressline2 housenumber"
        )
    },
    **{w: "ZIP_CODE" for w in _words("zip zipcode postalcode postcode postal plz cep")},
    **{
        w: "LOCATION"
        for w in _words("city town country birthplace placeofbirth hometown municipality")
    },
    **{
        w: "NRP"
        for w in _words(
            "nationality citizenship ethnicity race religion politicalparty politicalaffiliation"
        )
    },
    **{
        w: "TITLE" for w in _words("salutation honorific nameprefix jobtitle occupation profession")
    },
    **{w: "PASSWORD" for w in _words("password passwd pwd pass passphrase passcode pin pincode")},
    **{
        w: "MEDICAL_RECORD_NUMBER"
        for w in _words(
            "mrn medicalrecordnumber medicalrecordno medicalrecord patientnumber chartnumber "
            "patientid"
        )
    },
    **{
        w: "HEALTH_CONDITION"
        for w in _words(
            "diagnosis diagnoses condition conditions dx illness disease diseases allergy "
            "allergies problem problems comorbidity comorbidities"
        )
    },
    **{w: "ICD10_CODE" for w in _words("icd icd10 icdcode icd10code diagnosiscode dxcode")},
    **{
        w: "MEDICATION"
        for w in _words("medication medications meds medicine medicines drug drugs prescription")
    },
    **{
        w: "HEALTH_PLAN_ID"
        for w in _words(
            "memberid membernumber healthplanid healthplannumber insuranceid insurancenumber "
            "insurancememberid subscriberid policynumber beneficiaryid"
        )
    },
    **{w: "UK_NHS" for w in _words("nhs nhsnumber nhsno")},
    **{w: "UK_NINO" for w in _words("nino ninumber nationalinsurancenumber nationalinsurance")},
    **{w: "ES_NIF" for w in _words("dni nif")},
    "nie": "ES_NIE",
    **{w: "IT_FISCAL_CODE" for w in _words("codicefiscale fiscalcode")},
    **{w: "FR_INSEE" for w in _words("insee nir numerosecuritesociale securitesociale")},
    **{w: "DE_TAX_ID" for w in _words("steuerid steueridentifikationsnummer idnr")},
    **{
        w: "API_KEY"
        for w in _words(
            "apikey accesskey secretkey secret clientsecret token accesstoken "
            "refreshtoken authtoken bearer privatekey authorization credentials "
            "sessiontoken jwt idtoken"
        )
    },
}
_SECRET_LAST: Final[dict[str, str]] = {
    **dict.fromkeys(_words("password passwd pwd passphrase passcode"), "PASSWORD"),
    **dict.fromkeys(_words("secret token jwt credential credentials"), "API_KEY"),
}
_KEY_QUALIFIERS: Final = frozenset(
    _words("api access secret private cloud signing encryption auth client master service")
)
_CLINICAL_PARENTS: Final = frozenset(
    _words("diagnosis diagnoses condition conditions dx problem problems icd")
)
_CLINICAL_TEXT: Final = frozenset(_words("description display text name label term"))
_BENIGN_LAST: Final = frozenset(
    _words(
        "id ids uuid guid hash checksum sha sha1 sha256 md5 etag version ver "
        "rev revision status "
        "type kind category tier level plan currency locale lang language "
        "amount price total "
        "subtotal qty quantity count score rating ts timestamp created updated "
        "modified deleted "
        "at time method channel source brand network unit sku flag enabled "
        "active format mime "
        "encoding code priority severity mode env environment seq sequence "
        "offset size length "
        "duration percent ratio rate tax fee balance cost weight height width bytes "
        "product commit digest checksum region docs"
    )
)
_FREE_TEXT: Final = frozenset(
    _words(
        "body text notes note comment comments message msg description desc "
        "content summary "
        "details remarks bio about feedback reason transcript memo narrative history "
        "complaint instructions review answer question chat log"
    )
)


@dataclass(frozen=True, slots=True)
class FieldHint:
    """What a path's name says: an implied entity, benign, free text, or nothing."""

    entity: str | None = None
    benign: bool = False
    free_text: bool = False
    words: tuple[str, ...] = ()
    """The path's words, given to Presidio as context."""


def path_words(path: str) -> list[list[str]]:
    """Lower-case words of each named segment of a schema path (indices skipped)."""
    try:
        segments = parse_path(path)
    except ValueError:
        segments = tuple(path.split("."))
    return [[w.lower() for w in _SPLIT.findall(seg)] for seg in segments if isinstance(seg, str)]


@functools.lru_cache(maxsize=8192)
def field_hint(path: str) -> FieldHint:
    """The hint for a schema path (cached: paths repeat across records)."""
    segments = [words for words in path_words(path) if words]
    if not segments:
        return FieldHint()
    last = segments[-1]
    parent = set(segments[-2]) if len(segments) > 1 else set()
    words = tuple(w for seg in segments[-3:] for w in seg)
    entity = _entity(last, parent)
    if entity is not None:
        return FieldHint(entity=entity, words=words)
    word = next((w for w in reversed(last) if not w.isdigit()), last[-1])
    if word in _FREE_TEXT or "".join(last) in _FREE_TEXT:
        return FieldHint(free_text=True, words=words)
    if word in _BENIGN_LAST or "".join(last) in _BENIGN_LAST:
        return FieldHint(benign=True, words=words)
    return FieldHint(words=words)


def _entity(last: list[str], parent: set[str]) -> str | None:
    compact = "".join(last)
    if parent & _CLINICAL_PARENTS and last[-1] in ("code", "icd", "icd10"):
        return "ICD10_CODE"
    if last[-1] in _BENIGN_LAST and compact not in _COMPACT:
        return None
    if compact in _COMPACT:
        return _COMPACT[compact]
    if last[-1] == "name":
        return _name_entity(last, parent)
    if len(last) > 1 and last[-1] in _SECRET_LAST:
        return _SECRET_LAST[last[-1]]
    if len(last) > 1 and last[-1] == "key" and last[-2] in _KEY_QUALIFIERS:
        return "API_KEY"
    if parent & _CLINICAL_PARENTS and last[-1] in _CLINICAL_TEXT:
        return "HEALTH_CONDITION"
    if last[-1] in ("number", "num", "no", "nr") and len(last) == 1:
        if "card" in parent:
            return "CREDIT_CARD"
        if "account" in parent:
            return "US_BANK_NUMBER"
        if parent & {"phone", "mobile", "telephone"}:
            return "PHONE_NUMBER"
    if parent & _ADDRESS_PARENTS:
        if compact in ("line", "line1", "line2", "line3", "street", "house", "building"):
            return "STREET_ADDRESS"
        if compact in ("state", "province", "region", "county", "district"):
            return "LOCATION"
    if last[-1] in ("email", "mail") and last[0] not in ("is", "has"):
        return "EMAIL_ADDRESS"
    if last[-1] in ("phone", "mobile", "fax", "telephone"):
        return "PHONE_NUMBER"
    if last[-1] in ("address", "addr") and not set(last) & {
        "ip",
        "mac",
        "email",
        "mail",
        "wallet",
        "web",
    }:
        return "STREET_ADDRESS"
    return None


def _name_entity(last: list[str], parent: set[str]) -> str | None:
    qualifiers = set(last[:-1])
    if qualifiers & _PERSON_QUALIFIERS or qualifiers & _PERSON_PARENTS:
        return "PERSON"
    if qualifiers & _ORG_PARENTS or parent & _ORG_PARENTS:
        return "ORGANIZATION"
    if qualifiers & _NON_PERSON_PARENTS or parent & _NON_PERSON_PARENTS:
        return None
    if qualifiers:
        return None
    return "PERSON"
