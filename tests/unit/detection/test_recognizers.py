"""streamsec's own recognizers, run alone on text (no spaCy model needed)."""

from __future__ import annotations

import pytest
from presidio_analyzer import EntityRecognizer

from streamsec.detection.recognizers import RECOGNIZERS, build_recognizers


def run(name: str, text: str, minimum: float = 0.0) -> list[tuple[str, str]]:
    recognizer: EntityRecognizer = RECOGNIZERS[name].factory()
    results = recognizer.analyze(text, recognizer.supported_entities, None)
    return [(r.entity_type, text[r.start : r.end]) for r in results if r.score >= minimum]


def test_registry_builds_every_recognizer_under_its_name() -> None:
    built = build_recognizers()
    assert [r.name for r in built] == list(RECOGNIZERS)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("I live at 14 Crown Street, London.", "14 Crown Street, London"),
        (
            "Ship to 1659 Hoog St\n Apt. 839\n Brakpan\n South Africa 70651",
            "1659 Hoog St\n Apt. 839\n Brakpan\n South Africa 70651",
        ),
        ("Send it to 03220 Augsburger Strasse 36", "03220 Augsburger Strasse 36"),
        ("Her flat is at 35108 ul. Zamkowa 33 Apt. 406", "35108 ul. Zamkowa 33 Apt. 406"),
        ("PSC 7951, Box 9972\nAPO AA 69974", "PSC 7951, Box 9972\nAPO AA 69974"),
        ("The bus station is on P.O. Box 104", "P.O. Box 104"),
    ],
)
def test_street_addresses_cover_the_block(text: str, address: str) -> None:
    found = run("StreetAddressRecognizer", text, minimum=0.5)
    assert any(value == address for _, value in found), found


def test_street_address_stops_at_a_sentence_or_a_label() -> None:
    text = "14 Crown Street, London. Call me.\nMobile: 0341 8387176"
    values = [v for _, v in run("StreetAddressRecognizer", text, minimum=0.5)]
    assert values == ["14 Crown Street, London"]


@pytest.mark.parametrize(
    "phone", ["+41 (0)69 979 80 58", "(602)272-9781", "03.93.92.16.85", "+447700 921 916"]
)
def test_phone_formats(phone: str) -> None:
    # Plain digit groups score low alone; the engine lifts them with context words.
    assert ("PHONE_NUMBER", phone) in run("PhoneRecognizer", f"Desk: {phone}")


@pytest.mark.parametrize("text", ["on 2024-01-02 at noon", "SSN 536-22-1234", "ip 10.0.12.1"])
def test_phone_rejects_dates_ssns_and_ips(text: str) -> None:
    assert run("PhoneRecognizer", text) == []


def test_age_marks_the_number_only() -> None:
    assert run("AgeRecognizer", "My brother just turned 60") == [("AGE", "60")]
    assert run("AgeRecognizer", "a 65-year-old male") == [("AGE", "65")]
    assert run("AgeRecognizer", "it took 60 minutes") == []


def test_title_and_person_after_honorific() -> None:
    text = "Please correct it to Dr. Justin Beet?"
    assert run("TitleRecognizer", text) == [("TITLE", "Dr.")]
    assert ("PERSON", "Justin Beet") in run("PersonCueRecognizer", text)


def test_person_after_naming_cue() -> None:
    text = "My name is Vanessa P. Hertzog but everyone calls me V"
    assert run("PersonCueRecognizer", text)[0] == ("PERSON", "Vanessa P. Hertzog")


def test_location_gazetteer_countries_and_cities() -> None:
    found = run("LocationRecognizer", "She moved from Brazil to Porto Alegre last year.", 0.5)
    assert ("LOCATION", "Brazil") in found
    assert ("LOCATION", "Porto Alegre") in found


def test_city_that_is_part_of_a_name_is_weak() -> None:
    assert run("LocationRecognizer", "Brandon Montgomery called", minimum=0.5) == []


def test_card_number_luhn_and_context() -> None:
    assert run("CardNumberRecognizer", "k 2292452821495625", minimum=0.9)  # Mastercard 2-series
    assert run("CardNumberRecognizer", "order 1234567890123", minimum=0.5) == []


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("aws AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE"),
        ("token: ghp_" + "a1B2" * 9, "ghp_" + "a1B2" * 9),
        ("api_key=sk_live_" + "x9" * 10, "sk_live_" + "x9" * 10),
    ],
)
def test_api_keys(text: str, secret: str) -> None:
    assert ("API_KEY", secret) in run("ApiKeyRecognizer", text)


def test_password_after_cue() -> None:
    assert run("PasswordRecognizer", "login with password: hunter2!") == [("PASSWORD", "hunter2!")]


def test_date_of_birth_after_cue() -> None:
    assert run("DateOfBirthRecognizer", "She was born on 7/14/1995.") == [
        ("DATE_OF_BIRTH", "7/14/1995")
    ]


def test_contact_block_header_lines() -> None:
    text = "Cormac Allan\nEchocardiographer\nPlaceilivecom Ltd\n338 17 St Omers Road, Beauwelz"
    assert run("ContactBlockRecognizer", text) == [
        ("PERSON", "Cormac Allan"),
        ("ORGANIZATION", "Echocardiographer"),
        ("ORGANIZATION", "Placeilivecom Ltd"),
    ]
    assert run("ContactBlockRecognizer", "Hello\nThanks for the update\n12 items shipped") == []


def test_organisation_forms() -> None:
    text = "Lopez, Santos and Coleman is based in Espoo; so is Acme Widgets Inc."
    found = run("OrganizationRecognizer", text)
    assert ("ORGANIZATION", "Lopez, Santos and Coleman") in found
    assert ("ORGANIZATION", "Acme Widgets Inc.") in found
