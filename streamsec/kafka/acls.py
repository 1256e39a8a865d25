"""Least-privilege Kafka ACLs derived from a topology (pure; applied by ``acls --apply``).

* The **worker** reads the input topic with its consumer group (the app id), and
  writes (and may create) the protected, audit, lineage and dead-letter topics.
  Under exactly-once it also owns its transactional ids, ``<app id>.<input>.<n>``
  (one prefix).
* A **consumer role** reads the protected topic, commits offsets in groups named
  ``<topology>.<role>...`` (a prefix), and writes the audit topic: every decryption
  is audited before the clear value is handed out.
* Nobody else reads the raw input or the dead-letter topic (they hold clear data);
  with ``allow.everyone.if.no.acl.found=false`` anything not listed is denied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from streamsec.errors import ConfigError
from streamsec.topology.model import Topology

__all__ = ["Acl", "derive_acls", "parse_principal", "parse_role"]

Resource = Literal["TOPIC", "GROUP", "TRANSACTIONAL_ID"]
Pattern = Literal["LITERAL", "PREFIXED"]
Operation = Literal["READ", "WRITE", "DESCRIBE", "CREATE"]

_PRINCIPAL = re.compile(r"^User:[A-Za-z0-9._@=,+\-]{1,200}$")


@dataclass(frozen=True, order=True)
class Acl:
    """One ALLOW rule: ``principal`` may ``operation`` the resource, from any host."""

    principal: str
    resource: Resource
    pattern: Pattern
    name: str
    operation: Operation

    def render(self) -> str:
        return (f"{self.principal:<20} ALLOW {self.operation:<8} "
                f"{self.resource}:{self.pattern}:{self.name}")


def parse_principal(text: str, key: str = "--worker") -> str:
    if not _PRINCIPAL.match(text):
        raise ConfigError("a principal looks like User:NAME", key=key)
    return text


def parse_role(text: str) -> tuple[str, str]:
    """``ROLE=User:NAME`` -> ``(ROLE, User:NAME)``."""
    role, sep, principal = text.partition("=")
    if not sep or not role:
        raise ConfigError("a role grant looks like ROLE=User:NAME", key="--role")
    return role, parse_principal(principal, "--role")


def _rules(principal: str, resource: Resource, name: str, ops: Iterable[Operation],
           pattern: Pattern = "LITERAL") -> list[Acl]:
    return [Acl(principal, resource, pattern, name, op) for op in ops]


def derive_acls(
    topology: Topology, *, worker: str, roles: Mapping[str, str] | None = None,
    app_id: str = "streamsec", exactly_once: bool = False,
) -> list[Acl]:
    """Every ACL the worker and the given consumer roles need, sorted, without duplicates."""
    worker = parse_principal(worker)
    acls = _rules(worker, "TOPIC", topology.input, ("READ", "DESCRIBE"))
    acls += _rules(worker, "GROUP", app_id, ("READ", "DESCRIBE"))
    outputs = (topology.output, topology.audit, topology.lineage, topology.dead_letter_topic)
    for topic in dict.fromkeys(outputs):
        acls += _rules(worker, "TOPIC", topic, ("WRITE", "DESCRIBE", "CREATE"))
    if exactly_once:
        prefix = f"{app_id}.{topology.input}."
        acls += _rules(worker, "TRANSACTIONAL_ID", prefix, ("WRITE", "DESCRIBE"), "PREFIXED")
    for role, principal in (roles or {}).items():
        if role not in topology.roles:
            raise ConfigError(
                f"no role '{role}' in topology {topology.name} "
                f"(roles: {', '.join(sorted(topology.roles)) or 'none'})", key="--role",
            )
        principal = parse_principal(principal, "--role")
        if principal == worker:
            raise ConfigError("a consumer role needs a principal of its own", key="--role")
        acls += _rules(principal, "TOPIC", topology.output, ("READ", "DESCRIBE"))
        acls += _rules(principal, "GROUP", f"{topology.name}.{role}", ("READ", "DESCRIBE"),
                       "PREFIXED")
        acls += _rules(principal, "TOPIC", topology.audit, ("WRITE", "DESCRIBE"))
    return sorted(set(acls))
