from __future__ import annotations

import pytest

from streamsec.records.paths import (
    ANY_INDEX,
    delete_at,
    format_path,
    get_at,
    iter_leaves,
    matches,
    parse_path,
    set_at,
)


def test_format_path_uses_wildcard_for_list_items() -> None:
    assert format_path(("orders", 2, "card", "number")) == "orders[*].card.number"


def test_keys_with_dots_are_quoted_and_round_trip() -> None:
    path = format_path(("meta", "x.y", "a[b]"))
    assert path == 'meta["x.y"]["a[b]"]'
    assert parse_path(path) == ("meta", "x.y", "a[b]")


@pytest.mark.parametrize("bad", ["", ".a", "a..b", "a[", "a[0]", 'a["x]'])
def test_malformed_paths_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="path"):
        parse_path(bad)


def test_parse_wildcard() -> None:
    assert parse_path("items[*].email") == ("items", ANY_INDEX, "email")


def test_matches_exact_and_inside() -> None:
    pattern = parse_path("items[*].card")
    assert matches(pattern, ("items", 0, "card"))
    assert matches(pattern, ("items", 3, "card", "number"))
    assert not matches(pattern, ("items", "x", "card"))
    assert not matches(pattern, ("items",))


def test_iter_leaves_in_document_order_and_skips_null() -> None:
    doc = {"a": 1, "b": {"c": "x", "d": None}, "e": [True, {"f": 2.5}]}
    assert list(iter_leaves(doc)) == [
        (("a",), 1), (("b", "c"), "x"), (("e", 0), True), (("e", 1, "f"), 2.5),
    ]


def test_get_set_delete() -> None:
    doc = {"a": {"b": [1, 2]}}
    set_at(doc, ("a", "b", 1), 9)
    assert get_at(doc, ("a", "b", 1)) == 9
    delete_at(doc, ("a", "b", 0))
    assert doc == {"a": {"b": [None, 9]}}
    delete_at(doc, ("a", "b"))
    assert doc == {"a": {}}
