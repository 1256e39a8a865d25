"""``streamsec keys``: create and inspect the local keyring; rotate and destroy keys.

    streamsec keys init [--keyring PATH] [--force]
    streamsec keys list [--topology NAME] [--json]
    streamsec keys rotate --topology NAME [--purpose P ...]
    streamsec keys destroy KEY_ID --yes
    streamsec keys shred-subject --topology NAME --subject ID|- --yes [--audit-out F]
    streamsec keys rotate-kek --yes

The KEK provider is ``STREAMSEC_KEK_PROVIDER`` (local | pkcs11 | vault | aws-kms).

Output never includes key material. ``--subject -`` reads the subject id from
standard input, so it does not end up in the shell history or the process list.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from streamsec.cli.io import add_settings_args, settings_from
from streamsec.crypto.keys import KeyInfo, KeyPurpose

__all__ = ["register"]


def register(sub: Any) -> None:
    from streamsec.cli.forget_cmd import add_rotation_arg, register_keys_commands

    keys = sub.add_parser("keys", help="manage the local keyring (never shows key material)")
    cmds = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")

    p = cmds.add_parser("init", help="create the keyring file (mode 0600)")
    add_settings_args(p)
    p.add_argument("--force", action="store_true", help="replace an existing keyring")
    p.set_defaults(func=_init)

    p = cmds.add_parser("list", help="list key versions: id, owner, purpose, version, state")
    add_settings_args(p)
    p.add_argument("--topology", "-t", help="only the keys of this topology")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=_list)

    p = cmds.add_parser("rotate", help="make a new key version current; old ones still decrypt")
    add_settings_args(p)
    p.add_argument("--topology", "-t", required=True)
    p.add_argument(
        "--purpose",
        action="append",
        choices=[str(x) for x in KeyPurpose],
        help="default: encrypt. Rotating 'deterministic' or 'hash' changes every new "
        "ciphertext or pseudonym of equal values (joins across the rotation break)",
    )
    p.set_defaults(func=_rotate)

    p = cmds.add_parser("destroy", help="erase one key version for good (crypto-shredding)")
    add_settings_args(p)
    p.add_argument("key_id")
    p.add_argument("--yes", action="store_true", help="confirm: data under it is lost")
    p.set_defaults(func=_destroy)

    p = cmds.add_parser("shred-subject", help="erase every key of one data subject")
    add_settings_args(p)
    p.add_argument("--topology", "-t", required=True)
    p.add_argument("--subject", required=True, help="subject id, or '-' to read it from stdin")
    p.add_argument("--yes", action="store_true", help="confirm: the subject's data is lost")
    p.add_argument("--audit-out", metavar="FILE", help="append the audit events here (offline)")
    p.add_argument("--audit-topic", default="streamsec.audit", help="default: streamsec.audit")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: $STREAMSEC_BROKER)")
    add_rotation_arg(p)
    p.set_defaults(func=_shred)

    p = cmds.add_parser(
        "rotate-kek",
        help="wrap every data key again under a new KEK version, then destroy the old one",
    )
    add_settings_args(p)
    p.add_argument("--yes", action="store_true", help="confirm: old KEK versions are destroyed")
    p.add_argument(
        "--if-due", action="store_true",
        help="only when an erasure left a rotation owed (keys forget --rotate-kek-within)",
    )
    p.set_defaults(func=_rotate_kek)

    register_keys_commands(cmds)


def _row(info: KeyInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "owner": info.owner,
        "purpose": str(info.purpose),
        "subject": info.subject,
        "version": info.version,
        "state": str(info.state),
        "created": info.created.isoformat().replace("+00:00", "Z"),
    }


def _print_table(infos: list[KeyInfo]) -> None:
    header = ("ID", "OWNER", "PURPOSE", "SUBJECT", "VERSION", "STATE", "CREATED")
    rows = [header]
    for info in infos:
        r = _row(info)
        subject = (r["subject"] or "-")[:12]
        version = str(r["version"])
        rows.append((r["id"], r["owner"], r["purpose"], subject, version, r["state"], r["created"]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _init(args: argparse.Namespace) -> int:
    from streamsec.crypto.keyring_setup import init_keyring

    settings = settings_from(args)
    from streamsec.crypto.providers import kek_file_of

    init_keyring(settings.keyring, settings=settings, force=args.force)
    if settings.kek is not None:
        where = "STREAMSEC_KEK (fixed, not stored)"
    elif settings.kek_provider == "local":
        where = f"the local KEK file {kek_file_of(settings)} (not in the keyring)"
    else:
        where = f"the {settings.kek_provider} provider"
    print(f"created keyring {settings.keyring} (mode 0600; key-encryption keys in {where})")
    return 0


def _rotate_kek(args: argparse.Namespace) -> int:
    from streamsec.crypto.kek_rotation import rotate_kek
    from streamsec.crypto.keyring_setup import open_keyring
    from streamsec.lifecycle import kek_due

    if not args.yes:
        print("refusing to rotate the KEK without --yes (old versions are destroyed)",
              file=sys.stderr)  # fmt: skip
        return 2
    settings = settings_from(args)
    if args.if_due and kek_due.due(settings.keyring) is None:
        print("no KEK rotation is due")
        return 0
    result = rotate_kek(open_keyring(settings))
    kek_due.clear(settings.keyring)
    versions = ", ".join(f"{n} v{v}" for n, v in sorted(result.new_versions.items()))
    print(f"wrapped {result.rewrapped} data key(s) again under {versions}; "
          f"destroyed {len(result.destroyed)} old KEK version(s)")  # fmt: skip
    return 0


def _list(args: argparse.Namespace) -> int:
    from streamsec.crypto.keyring_setup import open_keyring

    infos = open_keyring(settings_from(args)).list_keys(args.topology)
    if args.json:
        print(json.dumps([_row(i) for i in infos], indent=2))
    else:
        _print_table(infos)
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from streamsec.crypto.keyring_setup import open_keyring

    keyring = open_keyring(settings_from(args))
    purposes = args.purpose or [str(KeyPurpose.ENCRYPT)]
    for purpose in dict.fromkeys(purposes):
        info = keyring.rotate(args.topology, KeyPurpose(purpose))
        print(f"rotated {info.owner}/{info.purpose}: version {info.version} is {info.id}")
    return 0


def _destroy(args: argparse.Namespace) -> int:
    from streamsec.crypto.keyring_setup import open_keyring

    if not args.yes:
        print("refusing to destroy a key without --yes", file=sys.stderr)
        return 2
    info = open_keyring(settings_from(args)).destroy(args.key_id)
    print(f"destroyed {info.id} ({info.owner}/{info.purpose} version {info.version})")
    return 0


def _shred(args: argparse.Namespace) -> int:
    """Like ``keys forget``, by key owner name: audited by a ``subject.erased`` event."""
    from streamsec.cli.forget_cmd import audit_sink, deliver_erasure, rotate_after_erasure
    from streamsec.crypto.keyring_setup import open_keyring
    from streamsec.events.signing import AuditIdentity
    from streamsec.events.sinks import actor_id
    from streamsec.lifecycle.forget import shred_subject

    if not args.yes:
        print("refusing to shred a subject's keys without --yes", file=sys.stderr)
        return 2
    subject = sys.stdin.readline().rstrip("\r\n") if args.subject == "-" else args.subject
    if not subject:
        print("empty subject id", file=sys.stderr)
        return 2
    settings = settings_from(args)
    sink, where = audit_sink(args, settings, args.audit_topic)  # before destroying anything
    ring = open_keyring(settings)
    erasure = shred_subject(
        ring, args.topology, subject, actor=actor_id(settings, "keys-shred"),
        identity=AuditIdentity.from_settings(settings),
    )
    print(f"destroyed {len(erasure.keys)} key(s) of one subject of {args.topology}")
    delivered = deliver_erasure(erasure, sink, where)
    return rotate_after_erasure(ring, settings, args.rotate_kek_within) or delivered
