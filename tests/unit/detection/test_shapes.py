from __future__ import annotations

import pytest

from streamsec.detection.features import features_of
from streamsec.detection.shapes import could_be_named_entity, is_benign_token, plausible


@pytest.mark.parametrize(
    ("entity", "value"),
    [
        ("PERSON", "Jane Roe"),
        ("PERSON", "O'Brien-Smith"),
        ("ZIP_CODE", "62704"),
        ("ZIP_CODE", "SW1A 1AA"),
        ("DATE_OF_BIRTH", "1985-03-02"),
        ("DATE_OF_BIRTH", "March 2, 1985"),
        ("PHONE_NUMBER", "+1 (555) 010-0199"),
        ("US_SSN", "536-22-1234"),
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
        ("IP_ADDRESS", "2001:db8::1"),
        ("EMAIL_ADDRESS", "jane@example.com"),
    ],
)
def test_plausible_values(entity: str, value: str) -> None:
    assert plausible(entity, value)


@pytest.mark.parametrize(
    ("entity", "value"),
    [
        ("PERSON", "n/a"),
        ("PERSON", "jane@example.com"),
        ("PERSON", "R2-D2 unit 7"),
        ("PHONE_NUMBER", "unknown"),
        ("US_SSN", "12"),
        ("DATE_OF_BIRTH", "soon"),
        ("IP_ADDRESS", "999.1.1.1"),
    ],
)
def test_implausible_values(entity: str, value: str) -> None:
    assert not plausible(entity, value)


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-02T10:00:00Z",
        "C-10023",
        "ord_8f3a",
        "12.50",
        "EUR",
        "active",
        "3f2a9b1c-0d4e-4a5b-8c6d-7e8f9a0b1c2d",
        "1.2.3",
    ],
)
def test_machine_tokens_are_benign(value: str) -> None:
    assert is_benign_token(value)


@pytest.mark.parametrize(
    "value", ["743.231.9487", "10.0.0.1", "4111111111111111", "ACCT-41111111111111", "Jane"]
)
def test_values_that_could_hide_entities_are_not_benign(value: str) -> None:
    assert not is_benign_token(value)


def test_named_entity_candidates() -> None:
    assert could_be_named_entity("Jane Roe", features_of("Jane Roe"))
    assert not could_be_named_entity("shipped", features_of("shipped"))
    assert not could_be_named_entity("ORD-123", features_of("ORD-123"))
