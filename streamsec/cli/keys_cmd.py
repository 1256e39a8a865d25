"""``streamsec keys``: create and inspect the local keyring; rotate and destroy keys.

    streamsec keys init [--keyring PATH] [--force]
    streamsec keys list [--topology NAME] [--json]
    streamsec keys rotate --topology NAME [--purpose P ...] [--audit-out F]
    streamsec keys destroy KEY_ID --yes [--audit-out F]
    streamsec keys shred-subject --topology NAME --subject ID|- --yes [--audit-out F]
    streamsec keys rotate-kek --yes [--audit-out F]

The KEK provider is ``STREAMSEC_KEK_PROVIDER`` (local | pkcs11 | vault | aws-kms).

``rotate``, ``destroy``, ``shred-subject`` and ``rotate-kek`` write signed audit
events (intent before, outcome after: :mod:`streamsec.cli.audit_out`) to the audit
topic (``--audit-topic``, default ``streamsec.audit``) or to ``--audit-out`` (JSON
Lines); without either destination they change nothing. Output never includes key
material. ``--subject -`` reads the subject id from
standard input, so it does not end up in the shell history or the process list.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from streamsec.cli.io import add_settings_args, settings_from
from streamsec.crypto.keys import KeyInfo, KeyPurpose, KeyState
from streamsec.crypto.providers.base import DEFAULT_KEK

__all__ = ["register"]


def register(sub: Any) -> None:
    from streamsec.cli.audit_out import add_audit_args
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
    add_audit_args(p)
    p.set_defaults(func=_rotate)

    p = cmds.add_parser("destroy", help="erase one key version for good (crypto-shredding)")
    add_settings_args(p)
    p.add_argument("key_id")
    p.add_argument("--yes", action="store_true", help="confirm: data under it is lost")
    add_audit_args(p)
    p.set_defaults(func=_destroy)

    p = cmds.add_parser("shred-subject", help="erase every key of one data subject")
    add_settings_args(p)
    p.add_argument("--topology", "-t", required=True)
    p.add_argument("--subject", required=True, help="subject id, or '-' to read it from stdin")
    p.add_argument("--yes", action="store_true", help="confirm: the subject's data is lost")
    add_audit_args(p)
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
    add_audit_args(p)
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

    init_keyring(settings.keyring, settings=settings, force=args.force).close()
    if settings.kek is not None:
        where = "STREAMSEC_KEK (fixed, not stored)"
    elif settings.kek_provider == "local":
        where = f"the local KEK file {kek_file_of(settings)} (not in the keyring)"
    else:
        where = f"the {settings.kek_provider} provider"
    print(f"created keyring {settings.keyring} (mode 0600; key-encryption keys in {where})")
    return 0


def _rotate_kek(args: argparse.Namespace) -> int:
    from streamsec.cli.audit_out import AuditedKeyOperation, audited_rotate_kek
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
    audit = AuditedKeyOperation(args, settings, tool="keys-rotate-kek", scope="keyring")
    keyring = open_keyring(settings)
    try:
        result, audited = audited_rotate_kek(keyring, audit)
        if result is None:
            return audited
        kek_due.clear(settings.keyring)
        versions = ", ".join(f"{n} v{v}" for n, v in sorted(result.new_versions.items()))
        print(f"wrapped {result.rewrapped} data key(s) again under {versions}; "
              f"destroyed {len(result.destroyed)} old KEK version(s)")  # fmt: skip
        return audited
    finally:
        keyring.close()


def _list(args: argparse.Namespace) -> int:
    from streamsec.crypto.keyring_setup import open_keyring

    with open_keyring(settings_from(args)) as keyring:
        infos = keyring.list_keys(args.topology)
    if args.json:
        print(json.dumps([_row(i) for i in infos], indent=2))
    else:
        _print_table(infos)
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from streamsec.cli.audit_out import AuditedKeyOperation
    from streamsec.crypto.keyring_setup import open_keyring
    from streamsec.events.key_audit import KeyAudit

    settings = settings_from(args)
    audit = AuditedKeyOperation(args, settings, tool="keys-rotate", scope=args.topology)
    keyring = open_keyring(settings)
    try:
        purposes = [KeyPurpose(p) for p in dict.fromkeys(args.purpose or [str(KeyPurpose.ENCRYPT)])]
        # Every shared (not per-subject) key of the topology: under key separation a
        # purpose has one slot per category KEK or reader set, and each one rotates.
        current = {(i.purpose, _label(i)): i for i in keyring.list_keys(args.topology)
                   if i.subject is None and i.state is KeyState.ACTIVE and i.purpose in purposes}
        slots = sorted(current) + [(p, DEFAULT_KEK) for p in purposes
                                   if all(s[0] is not p for s in current)]
        targets = [(current[s].id if s in current else "none", args.topology, str(s[0]), s[1])
                   for s in slots]  # fmt: skip
        listener = KeyAudit(audit.actor, provider=audit.provider)

        def change() -> list[KeyInfo]:
            keyring.listeners.append(listener)
            return [keyring.rotate(args.topology, purpose, kek=label) for purpose, label in slots]

        infos, code = audit.run("rotate", targets, change, lambda _: listener.take())
        for info in infos or ():
            print(f"rotated {info.owner}/{info.purpose}: version {info.version} is {info.id}")
        return code
    finally:
        keyring.close()


def _label(info: KeyInfo) -> str:
    """The slot label of a version: its KEK name, or its reader set under role separation."""
    from streamsec.crypto.readers import reader_label

    return info.kek if info.readers is None else reader_label(info.readers)


def _destroy(args: argparse.Namespace) -> int:
    from streamsec.cli.audit_out import AuditedKeyOperation
    from streamsec.crypto.keyring_setup import open_keyring
    from streamsec.events.key_audit import KeyAudit

    if not args.yes:
        print("refusing to destroy a key without --yes", file=sys.stderr)
        return 2
    settings = settings_from(args)
    keyring = open_keyring(settings)
    try:
        known = keyring.key_info(args.key_id)  # an unknown id changes and audits nothing
        audit = AuditedKeyOperation(args, settings, tool="keys-destroy", scope=known.owner)
        target = (known.id, known.owner, str(known.purpose), known.kek)
        listener = KeyAudit(audit.actor, provider=audit.provider)

        def change() -> KeyInfo:
            keyring.listeners.append(listener)
            return keyring.destroy(args.key_id)

        info, code = audit.run("destroy", [target], change, lambda _: listener.take())
        if info is not None:
            print(f"destroyed {info.id} ({info.owner}/{info.purpose} version {info.version})")
        return code
    finally:
        keyring.close()


def _shred(args: argparse.Namespace) -> int:
    """Like ``keys forget``, by key owner name: audited by a ``subject.erased`` event."""
    from streamsec.cli.audit_out import audit_sink
    from streamsec.cli.forget_cmd import deliver_erasure, rotate_after_erasure
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
    try:
        erasure = shred_subject(
            ring, args.topology, subject, actor=actor_id(settings, "keys-shred"),
            identity=AuditIdentity.from_settings(settings),
        )
        print(f"destroyed {len(erasure.keys)} key(s) of one subject of {args.topology}")
        delivered = deliver_erasure(erasure, sink, where)
        rotated = rotate_after_erasure(ring, settings, args.rotate_kek_within, args, (sink, where))
        return rotated or delivered
    finally:
        ring.close()
