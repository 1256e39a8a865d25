"""``streamsec audit``: audit keys and trail verification.

    streamsec audit operator-key --out OP.key --trust-store TRUST.json
    streamsec audit keygen                       # this writer's signing key; prints it
    streamsec audit certify --operator-key OP.key --trust-store TRUST.json \\
                            --public-key B64 --writers 'worker-*'
    streamsec audit verify --in FILE|- | --topic T  --trust-store TRUST.json [...]
    streamsec audit show --in FILE|- | --topic T  --record TOPIC/PARTITION/OFFSET

``verify`` needs only the trust store (public keys certified by the operator key;
pin that key with ``--operator-key-id``). It exits 0 when the trail is intact
(chains closed by a successor after a crash count as intact and are listed as
*abandoned*), 1 naming each chain's first problem and its seq, 2 on an error
(unreadable trust store, no broker...).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamsec.cli.audit_show import add_show
from streamsec.cli.io import open_input, settings_from
from streamsec.errors import ConfigError, SettingsError
from streamsec.events.verify import AuditVerifier, VerifyReport

__all__ = ["register"]


def register(sub: Any) -> None:
    audit = sub.add_parser("audit", help="audit keys and trail verification")
    cmds = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")

    p = cmds.add_parser("verify", help="check the audit trail for tampering")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--in", dest="input", metavar="FILE", help="JSON Lines file, '-' = stdin")
    source.add_argument("--topic", metavar="T", help="read this audit topic from the beginning")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: $STREAMSEC_BROKER)")
    p.add_argument("--trust-store", type=Path,
                   help="certified public keys (default: $STREAMSEC_AUDIT_TRUST_STORE)")
    p.add_argument("--operator-key-id", help="refuse a trust store of another operator key")
    p.add_argument("--allow-open", action="store_true",
                   help="accept chains without a final checkpoint (workers still running)")
    p.add_argument("--allow-expired-head", action="store_true",
                   help="accept chains whose first events were removed by topic retention")
    p.add_argument("--timeout", type=float, default=30.0, help="topic read idle timeout (s)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_verify)
    add_show(cmds)

    p = cmds.add_parser("operator-key", help="create the operator key and an empty trust store")
    p.add_argument("--out", type=Path, required=True, help="private key file to create (0600)")
    p.add_argument("--trust-store", type=Path, required=True, help="trust store to create")
    p.set_defaults(func=_operator_key)

    p = cmds.add_parser("keygen", help="create (or show) this writer's audit signing key")
    p.add_argument("--key", type=Path,
                   help="key file (default: $STREAMSEC_AUDIT_SIGNING_KEY or <home>/audit/)")
    p.set_defaults(func=_keygen)

    p = cmds.add_parser("certify", help="sign a writer's public key into the trust store")
    p.add_argument("--operator-key", type=Path, required=True)
    p.add_argument("--trust-store", type=Path, required=True)
    p.add_argument("--public-key", required=True, help="base64 (as printed by keygen)")
    p.add_argument("--writers", required=True, help="writer ids it may sign for (fnmatch)")
    p.set_defaults(func=_certify)


def _operator_key(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from streamsec.events.signing import write_private_key
    from streamsec.events.trust import new_trust_store

    if args.out.exists() or args.trust_store.exists():
        raise ConfigError("refusing to overwrite an existing key or trust store",
                          file=str(args.out if args.out.exists() else args.trust_store))
    key = Ed25519PrivateKey.generate()
    write_private_key(args.out, key)
    key_id = new_trust_store(args.trust_store, key)
    print(f"operator key {key_id} -> {args.out} (keep it offline); trust store {args.trust_store}")
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from streamsec.events.signing import FileSigner, public_key_b64, signing_key_path

    path = args.key or signing_key_path(settings_from(args))
    signer = FileSigner.open(path, create=True)
    print(f"{signer.key_id} {public_key_b64(signer.public_key())}")
    return 0


def _certify(args: argparse.Namespace) -> int:
    import base64
    import binascii

    from streamsec.events.signing import load_private_key
    from streamsec.events.trust import certify

    operator = load_private_key(args.operator_key, "operator key")
    try:
        raw = base64.b64decode(args.public_key.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("the public key is not base64", key="--public-key") from None
    key_id = certify(args.trust_store, operator, raw, args.writers)
    print(f"certified {key_id} for writers {args.writers!r} in {args.trust_store}")
    return 0


def _feed_file(path: str, verifier: AuditVerifier) -> Callable[[int], str]:
    lines = array("Q")
    with open_input(path) as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                verifier.feed(raw.rstrip(b"\r\n"))
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
            verifier.feed(message.value if message.value is not None else b"null")
            partitions.append(message.partition)
            offsets.append(message.offset)

    asyncio.run(read())
    return lambda position: f"partition {partitions[position]} offset {offsets[position]}"


def _report_json(report: VerifyReport, label: Callable[[int], str]) -> dict[str, Any]:
    def where(position: int | None) -> str | None:
        return label(position) if position is not None else None

    def problem(p: Any) -> dict[str, Any]:
        return {"chain": p.chain, "seq": p.seq, "reason": str(p.reason), "detail": p.detail,
                "at": where(p.position)}

    return {
        "ok": report.ok,
        "unreadable": [label(p) for p in report.unreadable],
        "trail": [problem(p) for p in report.trail],
        "digests": report.digests,
        "abandoned": len(report.abandoned),
        "duplicates": report.duplicates,
        "chains": [
            {
                "chain": c.chain, "ok": c.ok, "events": c.events, "last_seq": c.last_seq,
                "closed": c.closed, "last_checkpoint": c.last_checkpoint,
                "abandoned_at": c.abandoned_at, "abandoned_by": c.abandoned_by,
                "unsigned": c.unsigned, "duplicates": c.duplicates, "signer": c.signer,
                "problems": [problem(p) for p in c.problems],
            }
            for c in report.chains
        ],
    }


def _print_text(report: VerifyReport, label: Callable[[int], str]) -> None:
    for position in report.unreadable:
        print(f"{label(position)}: not a JSON object (unreadable event)")
    for p in report.trail:
        at = f" at {label(p.position)}" if p.position is not None else ""
        print(f"trail {p.chain}: {p.reason} at seq {p.seq}{at}: {p.detail}")
    for c in report.chains:
        dups = f", {c.duplicates} redelivered duplicates" if c.duplicates else ""
        if c.first is None:
            if c.abandoned_at is not None:
                state = (f"abandoned at seq {c.abandoned_at} by {c.abandoned_by}; "
                         f"{c.unsigned} event(s) attested by it only")
            else:
                state = "closed" if c.closed else "open"
            print(f"chain {c.chain}: ok ({c.events} events, {state}{dups})")
            continue
        p = c.first
        at = f" at {label(p.position)}" if p.position is not None else ""
        more = f" (+{len(c.problems) - 1} more)" if len(c.problems) > 1 else ""
        print(f"chain {c.chain}: BROKEN at seq {p.seq}{at}: {p.reason}: {p.detail}{more}")
    broken = sum(1 for c in report.chains if not c.ok)
    verdict = "intact" if report.ok else "TAMPERED"
    print(
        f"audit verify: {verdict}: {len(report.chains) - broken} chains ok, {broken} broken, "
        f"{len(report.abandoned)} abandoned after a crash, {report.duplicates} duplicates, "
        f"{report.digests} signed digests"
    )


def _verify(args: argparse.Namespace) -> int:
    from streamsec.events.trust import TrustStore

    path = args.trust_store or settings_from(args).audit_trust_store
    if path is None:
        raise SettingsError("no trust store: pass --trust-store", key="STREAMSEC_AUDIT_TRUST_STORE")
    trust = TrustStore.load(Path(path), pin=args.operator_key_id)
    verifier = AuditVerifier(
        trust, allow_open=args.allow_open, allow_expired_head=args.allow_expired_head
    )
    label = _feed_topic(args, verifier) if args.topic else _feed_file(args.input, verifier)
    report = verifier.report()
    if args.json:
        json.dump(_report_json(report, label), sys.stdout, indent=2)
        print()
    else:
        _print_text(report, label)
    return 0 if report.ok else 1
