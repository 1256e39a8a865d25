"""``streamsec audit verify``: check the audit trail for tampering.

    streamsec audit verify --in FILE|-   [--keyring PATH | --audit-key-file F] [...]
    streamsec audit verify --topic T     [--bootstrap HOST:PORT] [...]

Reads audit events (JSON Lines, or a whole topic from its beginning to its end
offsets), checks every chain, and exits 0 when all are intact, 1 naming each
chain's first broken event and why (``modified``, ``deleted``, ``inserted``,
``reordered``, ``truncated``, ``bad_mac``), 2 on an error (unreadable keyring,
no broker...). Audit keys come from the keyring by the ``audit_key_id`` in each
event, or from ``--audit-key-file`` (base64; used for every key id).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import sys
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamsec.cli.io import add_settings_args, open_input, settings_from
from streamsec.errors import ConfigError, SettingsError
from streamsec.events.verify import AuditVerifier, VerifyReport

__all__ = ["register"]

KeyLookup = Callable[[str], bytes | None]


def register(sub: Any) -> None:
    audit = sub.add_parser("audit", help="audit-trail tools")
    cmds = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    p = cmds.add_parser("verify", help="check the audit chains for tampering")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--in", dest="input", metavar="FILE", help="JSON Lines file, '-' = stdin")
    source.add_argument("--topic", metavar="T", help="read this audit topic from the beginning")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: $STREAMSEC_BROKER)")
    add_settings_args(p)
    p.add_argument("--audit-key-file", type=Path, help="file holding the audit key in base64")
    p.add_argument(
        "--allow-open",
        action="store_true",
        help="accept chains without a final checkpoint (workers still running)",
    )
    p.add_argument(
        "--allow-expired-head",
        action="store_true",
        help="accept chains whose first events were removed by topic retention",
    )
    p.add_argument("--timeout", type=float, default=30.0, help="topic read idle timeout (s)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_verify)


def _key_from_file(path: Path) -> KeyLookup:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        raise ConfigError("cannot read the audit key file", file=str(path)) from None
    cleaned = text.replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("the audit key file is not base64", file=str(path)) from None
    if len(key) < 16:
        raise ConfigError("the audit key must be at least 16 bytes", file=str(path))
    return lambda _key_id: key


def _keys_from_keyring(args: argparse.Namespace) -> KeyLookup:
    from streamsec.crypto.keyring_setup import open_keyring
    from streamsec.crypto.keys import KeyPurpose
    from streamsec.errors import KeyDestroyedError, KeyNotFoundError

    keyring = open_keyring(settings_from(args))
    cache: dict[str, bytes | None] = {}

    def lookup(key_id: str) -> bytes | None:
        if key_id not in cache:
            try:
                key = keyring.key_by_id(key_id)
            except (KeyNotFoundError, KeyDestroyedError):
                cache[key_id] = None
            else:
                cache[key_id] = key.material if key.purpose is KeyPurpose.AUDIT else None
        return cache[key_id]

    return lookup


def _parse(raw: bytes | str | None) -> Any:
    try:
        return json.loads(raw) if raw is not None else None
    except (ValueError, UnicodeDecodeError):
        return None  # counted as an unreadable event


def _feed_file(path: str, verifier: AuditVerifier) -> Callable[[int], str]:
    lines = array("Q")
    with open_input(path) as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                verifier.feed(_parse(raw))
                lines.append(number)
    return lambda position: f"line {lines[position]}"


def _feed_topic(args: argparse.Namespace, verifier: AuditVerifier) -> Callable[[int], str]:
    from streamsec.kafka import connect, read_to_end

    settings = settings_from(args)
    if not (args.bootstrap or settings.broker):
        raise SettingsError("no Kafka broker: pass --bootstrap", key="STREAMSEC_BROKER")
    conn = connect(settings, args.bootstrap)
    partitions, offsets = array("L"), array("Q")

    async def read() -> None:
        async for message in read_to_end(conn, args.topic, idle_timeout=args.timeout):
            verifier.feed(_parse(message.value))
            partitions.append(message.partition)
            offsets.append(message.offset)

    asyncio.run(read())
    return lambda position: f"partition {partitions[position]} offset {offsets[position]}"


def _report_json(report: VerifyReport, label: Callable[[int], str]) -> dict[str, Any]:
    def where(position: int | None) -> str | None:
        return label(position) if position is not None else None

    return {
        "ok": report.ok,
        "unreadable": [label(p) for p in report.unreadable],
        "chains": [
            {
                "chain": c.chain,
                "ok": c.ok,
                "events": c.events,
                "last_seq": c.last_seq,
                "closed": c.closed,
                "last_checkpoint": c.last_checkpoint,
                "problems": [
                    {
                        "seq": p.seq,
                        "reason": str(p.reason),
                        "detail": p.detail,
                        "at": where(p.position),
                    }
                    for p in c.problems
                ],
            }
            for c in report.chains
        ],
    }


def _print_text(report: VerifyReport, label: Callable[[int], str]) -> None:
    for position in report.unreadable:
        print(f"{label(position)}: not a JSON object (unreadable event)")
    for c in report.chains:
        if c.first is None:
            state = "closed" if c.closed else "open"
            print(f"chain {c.chain}: ok ({c.events} events, {state})")
            continue
        p = c.first
        at = f" at {label(p.position)}" if p.position is not None else ""
        more = f" (+{len(c.problems) - 1} more)" if len(c.problems) > 1 else ""
        print(f"chain {c.chain}: BROKEN at seq {p.seq}{at}: {p.reason}: {p.detail}{more}")
    broken = sum(1 for c in report.chains if not c.ok)
    verdict = "intact" if report.ok else "TAMPERED"
    print(f"audit verify: {verdict}: {len(report.chains) - broken} chains ok, {broken} broken")


def _verify(args: argparse.Namespace) -> int:
    if args.audit_key_file is not None:
        keys = _key_from_file(args.audit_key_file)
    else:
        keys = _keys_from_keyring(args)
    verifier = AuditVerifier(
        keys, allow_open=args.allow_open, allow_expired_head=args.allow_expired_head
    )
    label = _feed_topic(args, verifier) if args.topic else _feed_file(args.input, verifier)
    report = verifier.report()
    if args.json:
        json.dump(_report_json(report, label), sys.stdout, indent=2)
        print()
    else:
        _print_text(report, label)
    if not report.chains and not report.unreadable:
        print("audit verify: no audit events found", file=sys.stderr)
    return 0 if report.ok else 1
