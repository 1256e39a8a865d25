"""The references a record's ciphertexts are bound to (protection/binding.py)."""

from __future__ import annotations

from streamsec.crypto.aad import Binding
from streamsec.protection.binding import RecordBinder, position_of, reference
from streamsec.topology import parse_topology


def test_reference_text_of_scalars() -> None:
    assert reference("C-1") == "C-1"
    assert reference(12) == "12" and reference(True) == "true" and reference(1.5) == "1.5"
    assert reference(None) is None and reference({}) is None and reference([1]) is None


def test_position_writes_list_indices() -> None:
    assert position_of(("orders", 1, "card", "number")) == "orders[1].card.number"
    assert position_of(("a.b", 0, "x")) == '["a.b"][0].x'
    assert position_of((2, "q")) == "[2].q"
    assert position_of(("x",)) == "x"


def test_bindings_of_a_record() -> None:
    topology = parse_topology(
        "name: t\ninput: a\noutput: b\nsubject: who[*].id\n"
        "encryption: {missing_subject: shared, record_id: order}\n"
    )
    record = {"who": [{"id": None}, {"id": 7}], "order": "O-1", "items": [{"c": "x"}]}
    bindings = RecordBinder(topology).of(record)
    assert (bindings.subject, bindings.record) == ("7", "O-1")  # first non-null scalar
    assert bindings.at(("who", 1, "id")) == Binding("", "", "who[1].id")
    assert bindings.at(("order",)) == Binding("7", "", "order")
    assert bindings.at(("items", 0, "c")) == Binding("7", "O-1", "items[0].c")


def test_unordered_lists_and_no_subject() -> None:
    topology = parse_topology("name: t\ninput: a\noutput: b\nencryption: {lists: record}\n")
    bindings = RecordBinder(topology).of({"items": ["x", "y"]})
    assert bindings.at(("items", 1)) == Binding("", "", "")
