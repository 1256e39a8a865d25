from __future__ import annotations

import pytest

from streamsec.detection.fields import field_hint, path_words


@pytest.mark.parametrize(
    ("path", "entity"),
    [
        ("holder", "PERSON"),
        ("full_name", "PERSON"),
        ("name", "PERSON"),
        ("customer.first_name", "PERSON"),
        ("customer.firstName", "PERSON"),
        ("customer-last-name", "PERSON"),
        ("patient.name", "PERSON"),
        ("email", "EMAIL_ADDRESS"),
        ("contact.emailAddress", "EMAIL_ADDRESS"),
        ("phone", "PHONE_NUMBER"),
        ("contact.mobilePhone", "PHONE_NUMBER"),
        ("ssn", "US_SSN"),
        ("dob", "DATE_OF_BIRTH"),
        ("birth_date", "DATE_OF_BIRTH"),
        ("dateOfBirth", "DATE_OF_BIRTH"),
        ("address.street", "STREET_ADDRESS"),
        ("billing_address.line1", "STREET_ADDRESS"),
        ("zip", "ZIP_CODE"),
        ("postal_code", "ZIP_CODE"),
        ("city", "LOCATION"),
        ("address.state", "LOCATION"),
        ("iban", "IBAN_CODE"),
        ("card.number", "CREDIT_CARD"),
        ("orders[*].card.number", "CREDIT_CARD"),
        ("company.name", "ORGANIZATION"),
        ("ip_address", "IP_ADDRESS"),
        ("password", "PASSWORD"),
        ("api_key", "API_KEY"),
        ("auth.accessToken", "API_KEY"),
    ],
)
def test_field_names_imply_entities(path: str, entity: str) -> None:
    assert field_hint(path).entity == entity


@pytest.mark.parametrize(
    "path",
    [
        "id",
        "customer_id",
        "created_at",
        "ts",
        "updated",
        "currency",
        "locale",
        "status",
        "tier",
        "amount",
        "country_code",
        "card.brand",
        "token_type",
        "sha256",
        "version",
    ],
)
def test_benign_field_names(path: str) -> None:
    hint = field_hint(path)
    assert hint.benign
    assert hint.entity is None


@pytest.mark.parametrize("path", ["k1", "v", "meta.x", "product.name", "fileName", "state"])
def test_uninformative_names_imply_nothing(path: str) -> None:
    hint = field_hint(path)
    assert hint.entity is None
    assert not hint.benign
    assert not hint.free_text


@pytest.mark.parametrize("path", ["ticket.body", "notes", "message", "comments[*].text"])
def test_free_text_names(path: str) -> None:
    assert field_hint(path).free_text


def test_path_words_normalise_styles() -> None:
    assert path_words('customer.firstName[*]["e-mail"]') == [
        ["customer"],
        ["first", "name"],
        ["e", "mail"],
    ]
