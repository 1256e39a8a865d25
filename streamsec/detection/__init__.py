"""Detection of sensitive values with Presidio, plus streamsec's own recognizers.

Entry points: :func:`build_detector` (one per topology) and
:class:`PresidioDetector`; :func:`get_analyzer` is the process-wide, offline
Presidio ``AnalyzerEngine`` they share.

Entity types emitted (canonical names):

=================  ==============================================================
PERSON             people's names (NER; field names such as ``holder``, ``full_name``)
EMAIL_ADDRESS      e-mail addresses
PHONE_NUMBER       phone numbers, international and national formats
STREET_ADDRESS     street addresses, PO / military boxes, unit designators
ZIP_CODE           postal codes
LOCATION           cities, regions, countries (NER GPE/LOC/FAC, GeoNames gazetteer)
DATE_TIME          specific dates and times in free text
DATE_OF_BIRTH      dates of birth (field name, or a "born" / "DOB" cue)
AGE                ages ("turned 60", "65-year-old", field ``age``)
CREDIT_CARD        card numbers (Luhn), CVV in card fields
IBAN_CODE          IBANs (checksum)
US_SSN             US social security numbers
US_BANK_NUMBER     bank account numbers
US_DRIVER_LICENSE  driver licence numbers
US_PASSPORT        passport numbers
US_ITIN            US taxpayer ids
IP_ADDRESS         IPv4 / IPv6 addresses
URL                URLs with a scheme or a path
DOMAIN_NAME        bare domain names
ORGANIZATION       organisations (NER ORG, field names such as ``employer``)
TITLE              honorifics (Mr., Dr., ...) and job titles in title fields
NRP                nationality, religious or political group (NER NORP, field names)
CRYPTO             crypto wallet addresses
MEDICAL_LICENSE    medical licence / DEA numbers
PASSWORD           passwords (field names, "password:" cues)
API_KEY            API keys, tokens, private keys (vendor formats, cues, field names)
=================  ==============================================================
"""

from streamsec.detection.analyzer import build_analyzer, get_analyzer, nlp_busy
from streamsec.detection.base import Detector, TextItem
from streamsec.detection.detector import PresidioDetector, build_detector
from streamsec.detection.entities import ENTITY_TYPES

__all__ = [
    "ENTITY_TYPES",
    "Detector",
    "PresidioDetector",
    "TextItem",
    "build_analyzer",
    "build_detector",
    "get_analyzer",
    "nlp_busy",
]
