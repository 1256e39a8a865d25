"""Issue 13: PHI, credentials, European formats and informal names are found; what is
not personal (country codes, documentation URLs, product names, image digests) is not."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from presidio_analyzer import AnalyzerEngine

from streamsec.classification.model import Category
from streamsec.classification.taxonomy import DEFAULT_TAXONOMY
from streamsec.crypto.cipher import KeyringCipher
from streamsec.detection import PresidioDetector
from streamsec.events.audit import field_entry
from streamsec.protection.protector import Protector
from streamsec.protection.result import ProtectionResult
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology

Found = Callable[[str, str], list[tuple[str, str]]]


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("Dx: C50.911, follow-up in 6 weeks", "ICD10_CODE", "C50.911"),
        ("hypertension (I10), stable", "ICD10_CODE", "I10"),
        ("Pt seen, MRN7785622, for review", "MEDICAL_RECORD_NUMBER", "MRN7785622"),
        ("chart number: 00451238 noted", "MEDICAL_RECORD_NUMBER", "00451238"),
        ("Member ID W123456789 is active", "HEALTH_PLAN_ID", "W123456789"),
        ("started metformin 500 mg twice daily", "MEDICATION", "metformin 500 mg"),
        ("stable on insulin glargine 20 units", "MEDICATION", "insulin glargine 20 units"),
        ("history of breast cancer, in remission", "HEALTH_CONDITION", "breast cancer"),
        ("known type 2 diabetes and asthma", "HEALTH_CONDITION", "type 2 diabetes"),
        ("stage 3 chronic kidney disease noted", "HEALTH_CONDITION", "chronic kidney disease"),
        ("NHS number 943 476 5919 on file", "UK_NHS", "943 476 5919"),
        ("her NINO is AB123456C, please update", "UK_NINO", "AB123456C"),
        ("DNI 12345678Z del cliente", "ES_NIF", "12345678Z"),
        ("NIE X1234567L del cliente", "ES_NIE", "X1234567L"),
        ("codice fiscale RSSMRA85T10A562S", "IT_FISCAL_CODE", "RSSMRA85T10A562S"),
        ("numéro INSEE 1 85 05 78 006 084 91", "FR_INSEE", "1 85 05 78 006 084 91"),
        ("Steuer-ID 86095742719 gemeldet", "DE_TAX_ID", "86095742719"),
        ("hello, SSN: 123456789 for the check", "US_SSN", "123456789"),
        ("hi this is maria lopez, locked out again", "PERSON", "maria lopez"),
        ("hey its jan de vries here, call me", "PERSON", "jan de vries"),
        ("please call back on +4930123456", "PHONE_NUMBER", "+4930123456"),
        ("my number is 030 123456 pls call", "PHONE_NUMBER", "030 123456"),
        ("ring me on +49 1512 3456789 today", "PHONE_NUMBER", "+49 1512 3456789"),
        ("connect postgresql://app:S3cr3t-pw@db.internal:5432/orders now", "PASSWORD",
         "S3cr3t-pw"),
    ],
)
def test_breadth_entities_are_found(found: Found, text: str, entity: str, value: str) -> None:
    assert (entity, value) in found("notes", text)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("notes", "works with Kafka 4.1 and the Nimbus Router X200"),
        ("notes", "see https://docs.python.org/3/library/json.html for details"),
        ("notes", "this is getting ridiculous, please fix it"),
        ("notes", "model S20 shipped"),  # a valid ICD-10 category, but no clinical context
        ("notes", "ref Q99.999X in the catalogue"),  # shaped like a code, not in ICD-10-CM
        ("notes", "numéro 1 85 05 78 006 084 92"),  # INSEE key does not check
        ("image", "registry.example.com/app@sha256:" + "ab" * 32),
        ("country", "DE"),
        ("product", "Vertex Hub Pro"),
    ],
)
def test_non_personal_values_are_kept(found: Found, path: str, text: str) -> None:
    assert found(path, text) == []


@pytest.mark.parametrize(
    ("path", "value", "entity"),
    [
        ("patient.mrn", "0045521", "MEDICAL_RECORD_NUMBER"),
        ("diagnosis.code", "E11.9", "ICD10_CODE"),
        ("diagnosis.description", "major depressive disorder", "HEALTH_CONDITION"),
        ("medications[*]", "lisinopril 10 mg", "MEDICATION"),
        ("coverage.member_id", "XJH123456789", "HEALTH_PLAN_ID"),
        ("settings.admin_password", "hunter2-Secret", "PASSWORD"),
        ("settings.cloud_key", "AKIA0123456789ABCDEF", "API_KEY"),
        ("nino", "AB 12 34 56 C", "UK_NINO"),
    ],
)
def test_field_names_imply_the_new_entities(
    found: Found, path: str, value: str, entity: str
) -> None:
    assert found(path, value) == [(entity, value)]


@pytest.mark.parametrize(
    ("entity", "category"),
    [
        ("MEDICAL_RECORD_NUMBER", Category.PHI),
        ("HEALTH_CONDITION", Category.PHI),
        ("ICD10_CODE", Category.PHI),
        ("MEDICATION", Category.PHI),
        ("HEALTH_PLAN_ID", Category.PHI),
        ("UK_NHS", Category.PHI),
        ("PASSWORD", Category.CREDENTIALS),
        ("API_KEY", Category.CREDENTIALS),
        ("UK_NINO", Category.PII),
        ("FR_INSEE", Category.PII),
    ],
)
def test_new_entities_are_classified(entity: str, category: Category) -> None:
    assert DEFAULT_TAXONOMY.classify(entity)[0] is category


def test_url_password_is_protected_and_the_url_still_parses(analyzer: AnalyzerEngine) -> None:
    topology = parse_topology("name: t\ninput: raw.t\noutput: protected.t\n")
    protector = Protector(
        topology,
        detector=PresidioDetector(topology.detection, analyzer),
        cipher=KeyringCipher(InMemoryKeyProvider(), topology.name),
    )
    dsn = "postgresql://app:S3cr3t-pw@db.internal:5432/orders"
    record = {"database_url": dsn, "log": f"INFO connecting to {dsn} (attempt 2)"}
    result = protector.protect(record)
    assert isinstance(result, ProtectionResult)
    assert "S3cr3t-pw" not in json.dumps(result.record)
    for value in (result.record["database_url"], result.record["log"].split()[3]):
        url = urlsplit(value)
        assert (url.scheme, url.username, url.hostname, url.port, url.path) == (
            "postgresql", "app", "db.internal", 5432, "/orders"
        )
        assert url.password is not None and url.password.startswith("ssec:v2:")
    entries = [field_entry(a) for a in result.actions]
    assert {(e["path"], e["category"]) for e in entries} == {
        ("database_url", "CREDENTIALS"),
        ("log", "CREDENTIALS"),
    }
