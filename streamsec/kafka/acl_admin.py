"""Creating ACLs through the Kafka admin API (``CreateAcls``).

aiokafka's admin client has no ``create_acls`` method, but aiokafka ships the
protocol's ``CreateAclsRequest``; it is sent through the admin client's own
connection (so with the same TLS/SASL options and version negotiation).
Creating an ACL that exists already is a no-op in Kafka, so applying is idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka.protocol.admin import CreateAclsRequest

from streamsec.errors import BrokerError, KafkaAuthorizationError
from streamsec.kafka.acls import Acl
from streamsec.kafka.clients import admin_client
from streamsec.kafka.connection import KafkaConnection

__all__ = ["apply_acls"]

_RESOURCE = {"TOPIC": 2, "GROUP": 3, "CLUSTER": 4, "TRANSACTIONAL_ID": 5}
_OPERATION = {"READ": 3, "WRITE": 4, "CREATE": 5, "DESCRIBE": 8}
_PATTERN = {"LITERAL": 3, "PREFIXED": 4}
_ALLOW = 3
_CLUSTER_AUTHORIZATION_FAILED = 31
_SECURITY_DISABLED = 54


async def apply_acls(conn: KafkaConnection, acls: Sequence[Acl]) -> int:
    """Create every ACL; returns how many were sent. One clear error on failure."""
    async with admin_client(conn, doing="creating ACLs") as admin:
        for acl in acls:
            request = CreateAclsRequest(
                _RESOURCE[acl.resource], acl.name, _PATTERN[acl.pattern], acl.principal, "*",
                _OPERATION[acl.operation], _ALLOW,
            )
            response = await admin._send_request(request)
            for code, message in response.creation_responses:
                if code == _CLUSTER_AUTHORIZATION_FAILED:
                    raise KafkaAuthorizationError(
                        f"not authorized to create ACLs: {conn.principal} needs ALTER on "
                        "the cluster (use an admin principal)"
                    )
                if code == _SECURITY_DISABLED:
                    raise BrokerError("the cluster has no authorizer: ACLs cannot be created")
                if code:
                    raise BrokerError(
                        f"ACL not created (error {code}: {message or 'no detail'})",
                        key=acl.render(),
                    )
    return len(acls)
