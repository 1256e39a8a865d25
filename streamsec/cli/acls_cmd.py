"""``streamsec acls``: the least-privilege Kafka ACLs of a topology, printed or applied.

    streamsec acls -t topologies/customers.yaml --worker User:streamsec \\
        --role support=User:reader [--exactly-once] [--app-id ID] [--apply]

Prints one ACL a line. ``--apply`` creates them through the admin API, connecting
with the ``STREAMSEC_*`` connection settings (an admin principal).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("acls", help="least-privilege Kafka ACLs for a topology",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-t", "--topology", type=Path, required=True)
    p.add_argument("--worker", required=True, metavar="User:NAME", help="the worker's principal")
    p.add_argument("--role", action="append", default=[], metavar="ROLE=User:NAME",
                   help="a consumer role of the topology and its principal (repeatable)")
    p.add_argument("--app-id", help="the worker's app id = group (default: $STREAMSEC_APP_ID)")
    p.add_argument("--exactly-once", action="store_true", default=None,
                   help="also the transactional ids (default: $STREAMSEC_PROCESSING_GUARANTEE)")
    p.add_argument("--apply", action="store_true", help="create them via the admin API")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: $STREAMSEC_BROKER)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from streamsec.kafka.acls import derive_acls, parse_role
    from streamsec.settings import load_settings
    from streamsec.topology.loader import load_topology

    settings = load_settings()
    topology = load_topology(args.topology)
    exactly_once = args.exactly_once
    if exactly_once is None:
        exactly_once = settings.processing_guarantee == "exactly_once"
    acls = derive_acls(
        topology, worker=args.worker, roles=dict(parse_role(r) for r in args.role),
        app_id=args.app_id or settings.app_id, exactly_once=exactly_once,
    )
    for acl in acls:
        print(acl.render())
    if args.apply:
        from streamsec.kafka import connect
        from streamsec.kafka.acl_admin import apply_acls

        count = asyncio.run(apply_acls(connect(settings, args.bootstrap), acls))
        print(f"applied {count} ACLs")
    return 0
