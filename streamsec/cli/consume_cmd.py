"""``streamsec consume``: read a protected topic as a role, as JSON Lines.

    streamsec consume --topology T [--as R --decrypt] [--from-beginning] [--max N]

Without ``--decrypt`` the records are printed as stored (ciphertext). With it,
the fields role ``R`` may read are decrypted (``--as all``: every field whose key
the caller's KEKs release; ``--role`` is the same option); every decryption is first recorded
as an audit event on the topology's audit topic (or ``--audit-out`` offline).
``--meta`` wraps each record with its coordinates and the decrypted, denied and
failed paths. ``--strict`` withholds (and reports on stderr, by path and reason) a
record holding plain text where the topology encrypts, an envelope of an unknown
version, or a ciphertext that fails to decrypt (moved, swapped, tampered); the
exit code is then 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from streamsec.cli.io import add_settings_args, json_line, settings_from

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("consume", help="read a protected topic, decrypting what a role may read")
    p.add_argument("--topology", "-t", required=True, help="topology YAML file")
    p.add_argument("--role", "--as", "-r", dest="role",
                   help="role of the topology's roles: (needed to decrypt), or 'all'")
    p.add_argument("--decrypt", action="store_true", help="decrypt the fields the role may read")
    p.add_argument("--topic", help="topic to read (default: the topology's output)")
    p.add_argument("--from-beginning", action="store_true", help="start at the earliest offset")
    p.add_argument("--group", help="consumer group (commits offsets); default: none")
    p.add_argument("--max", type=int, metavar="N", help="stop after N records")
    p.add_argument("--idle-timeout", type=float, metavar="S", help="stop after S idle seconds")
    p.add_argument("--meta", action="store_true", help="print coordinates and paths as well")
    p.add_argument(
        "--strict", action="store_true",
        help="withhold and report records with plain text where a ciphertext belongs, unknown "
        "envelope versions or ciphertexts that fail to decrypt",
    )
    p.add_argument("--audit-out", metavar="FILE", help="audit events to this file, not the topic")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: $STREAMSEC_BROKER)")
    add_settings_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.decrypt and not args.role:
        print("--decrypt needs --as ROLE (a role of the topology, or 'all')", file=sys.stderr)
        return 2
    if args.max is not None and args.max <= 0:
        return 0
    return asyncio.run(_consume(args))


async def _consume(args: argparse.Namespace) -> int:
    from streamsec.consumer.client import ProtectedConsumer

    consumer = ProtectedConsumer.open(
        args.topology, args.role, settings=settings_from(args), bootstrap=args.bootstrap,
        audit_file=args.audit_out, decrypt=args.decrypt, topic=args.topic,
        group_id=args.group, from_beginning=args.from_beginning,
        idle_timeout=args.idle_timeout, strict=args.strict,
    )
    count = 0
    violations = 0
    async with consumer:
        async for item in consumer:
            line = item.as_json(meta=args.meta)
            where = f"{item.topic}/{item.partition}/{item.offset}"
            if item.violations:
                violations += 1
                found = ", ".join(f"{path}: {reason}" for path, reason in item.violations)
                print(f"{where}: strict: {found}", file=sys.stderr)
            elif line is None:
                print(f"{where}: {item.error}", file=sys.stderr)
            else:
                sys.stdout.write(json_line(line))
                sys.stdout.flush()
            count += 1
            if args.max is not None and count >= args.max:
                break
    if violations:
        print(f"strict: {violations} record(s) withheld", file=sys.stderr)
        return 1
    return 0
