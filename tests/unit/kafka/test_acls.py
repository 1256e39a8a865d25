"""ACLs derived from a topology: the worker gets what it needs, a role only its topic."""

from __future__ import annotations

import pytest

from streamsec.errors import ConfigError
from streamsec.kafka.acls import Acl, derive_acls, parse_role
from streamsec.topology import parse_topology

TOPOLOGY = parse_topology(
    "name: crm\ninput: raw.crm\noutput: prot.crm\nroles:\n  support: {categories: [PII]}\n"
)


def grants(acls: list[Acl], principal: str) -> set[tuple[str, str, str, str]]:
    return {(a.resource, a.pattern, a.name, a.operation) for a in acls if a.principal == principal}


def test_the_worker_reads_the_input_and_writes_every_output() -> None:
    acls = derive_acls(TOPOLOGY, worker="User:svc", app_id="app")
    assert grants(acls, "User:svc") == {
        ("TOPIC", "LITERAL", "raw.crm", "READ"), ("TOPIC", "LITERAL", "raw.crm", "DESCRIBE"),
        ("GROUP", "LITERAL", "app", "READ"), ("GROUP", "LITERAL", "app", "DESCRIBE"),
        *{("TOPIC", "LITERAL", t, op)
          for t in ("prot.crm", "streamsec.audit", "streamsec.lineage", "raw.crm.dead-letter")
          for op in ("WRITE", "DESCRIBE", "CREATE")},
    }
    assert acls == sorted(set(acls))


def test_exactly_once_adds_the_transactional_ids_of_the_input() -> None:
    plain = set(derive_acls(TOPOLOGY, worker="User:svc", app_id="app"))
    eos = set(derive_acls(TOPOLOGY, worker="User:svc", app_id="app", exactly_once=True))
    assert {(a.resource, a.pattern, a.name, a.operation) for a in eos - plain} == {
        ("TRANSACTIONAL_ID", "PREFIXED", "app.raw.crm.", "WRITE"),
        ("TRANSACTIONAL_ID", "PREFIXED", "app.raw.crm.", "DESCRIBE"),
    }
    # the prefix covers the ids the worker really uses: <app id>.<input>.<partition>
    from streamsec.kafka import KafkaConnection
    from streamsec.worker.transactions import TransactionalDelivery

    delivery = TransactionalDelivery(connection=KafkaConnection("x:1"), group_id="app")
    assert delivery.transactional_id(("raw.crm", 3)).startswith("app.raw.crm.")


def test_a_consumer_role_reads_only_the_protected_topic() -> None:
    acls = derive_acls(TOPOLOGY, worker="User:svc", roles={"support": "User:ann"})
    ann = grants(acls, "User:ann")
    assert {g for g in ann if g[3] == "READ"} == {
        ("TOPIC", "LITERAL", "prot.crm", "READ"), ("GROUP", "PREFIXED", "crm.support", "READ"),
    }
    assert ("TOPIC", "LITERAL", "streamsec.audit", "WRITE") in ann  # decryptions are audited
    readers_of_clear = {a.principal for a in acls if a.operation == "READ"
                        and a.name in ("raw.crm", "raw.crm.dead-letter")}
    assert readers_of_clear == {"User:svc"}


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"worker": "svc"}, "--worker"),
        ({"worker": "User:svc", "roles": {"nope": "User:ann"}}, "--role"),
        ({"worker": "User:svc", "roles": {"support": "User:svc"}}, "--role"),
        ({"worker": "User:svc", "roles": {"support": "ann"}}, "--role"),
    ],
)
def test_bad_principals_and_roles_are_config_errors(kwargs: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        derive_acls(TOPOLOGY, **kwargs)
    assert info.value.key == key


def test_parse_role() -> None:
    assert parse_role("support=User:ann") == ("support", "User:ann")
    with pytest.raises(ConfigError):
        parse_role("support")


def test_render_is_one_line_per_acl() -> None:
    (line,) = [a.render() for a in derive_acls(TOPOLOGY, worker="User:svc")
               if a.resource == "GROUP" and a.operation == "READ"]
    assert line.split() == ["User:svc", "ALLOW", "READ", "GROUP:LITERAL:streamsec"]
