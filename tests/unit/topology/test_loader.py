from __future__ import annotations

from pathlib import Path

import pytest

from streamsec.classification.model import Category, Sensitivity
from streamsec.errors import TopologyError
from streamsec.topology import load_topology, parse_topology

CONF = Path(__file__).parent / "conf"
SHIPPED = sorted((Path(__file__).parents[3] / "topologies").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_topologies_load(path: Path) -> None:
    assert load_topology(path).name


def test_minimal_topology_gets_fail_closed_defaults() -> None:
    topo = parse_topology("name: t\ninput: raw.t\noutput: protected.t\n")
    assert topo.policy.default_action == "encrypt"
    assert topo.policy.min_sensitivity is Sensitivity.INTERNAL
    assert topo.fields == {}
    assert topo.dead_letter_topic == "raw.t.dead-letter"
    assert (topo.audit, topo.lineage) == ("streamsec.audit", "streamsec.lineage")


def test_documented_keys_work_as_written() -> None:
    topo = parse_topology(
        """
name: customers
input: raw.customers
output: protected.customers
fields:
  customer_id: {action: keep}
  email: {action: encrypt, deterministic: true}
  card.number: {action: mask, keep_last: 4}
policy:
  default_action: mask
  categories: {PCI: encrypt}
"""
    )
    assert topo.fields["email"].deterministic is True
    assert topo.fields["card.number"].params == {"keep_last": 4}
    assert topo.policy.categories[Category.PCI].action == "encrypt"


@pytest.mark.parametrize(
    ("name", "key", "words"),
    [
        ("unknown_key", "fields.email.determinstic", "unknown key"),
        ("missing_output", "output", "required"),
        ("bad_action", "policy.default_action", "'keep' cannot be a default action"),
        ("bad_param", "fields.card.number", "keep_last does not apply"),
        ("duplicate_key", None, "duplicate key 'email'"),
        ("bad_path", "fields", "malformed path"),
        ("not_yaml", None, "not valid YAML at line"),
        ("not_mapping", None, "must be a YAML mapping"),
        ("bad_category", "policy.categories.SECRETZ", "Input should be"),
        ("same_topics", "<root>", "output must differ"),
    ],
)
def test_bad_topology_names_file_and_key(name: str, key: str | None, words: str) -> None:
    path = CONF / f"{name}.yaml"
    with pytest.raises(TopologyError) as info:
        load_topology(path)
    err = info.value
    assert err.file == str(path)
    assert err.key == key
    assert words in str(err)
    assert str(path) in str(err)


def test_missing_file_is_a_topology_error() -> None:
    with pytest.raises(TopologyError, match="cannot read"):
        load_topology(CONF / "nope.yaml")
