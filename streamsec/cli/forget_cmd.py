"""``streamsec keys forget`` and ``streamsec keys prove-forgotten``: crypto-shredding.

    streamsec keys forget --topology T --subject ID|- --yes [--audit-out F]
    streamsec keys prove-forgotten --topology T --subject ID|- (--topic T | --in F) [--json]

``forget`` destroys every key of one data subject of the topology and writes an
``io.streamsec.subject.erased`` audit event (a keyed pseudonym of the id, never the
id) to the topology's audit topic, or to ``--audit-out`` (JSON Lines) offline.
``prove-forgotten`` tries to decrypt every envelope of the protected records and
exits 0 only when none of the subject's and all of the others' decrypt.
``--subject -`` reads the id from standard input (keeps it out of the shell history
and the process list). Registered under ``keys`` by :func:`register_keys_commands`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from streamsec.cli.io import add_settings_args, json_line, json_object, open_input, settings_from

__all__ = ["register_keys_commands"]


def register_keys_commands(cmds: Any) -> None:
    """Add ``forget`` and ``prove-forgotten`` to the ``keys`` sub-command parsers."""
    from streamsec.cli.audit_out import add_audit_args

    p = cmds.add_parser("forget", help="crypto-shred one data subject and audit the erasure")
    _common(p)
    p.add_argument("--yes", action="store_true", help="confirm: the subject's data is lost")
    add_audit_args(p, topic=False)  # the topology names its audit topic
    add_rotation_arg(p)
    p.set_defaults(func=_forget)

    p = cmds.add_parser(
        "prove-forgotten",
        help="check that none of a subject's encrypted values decrypt and all others do",
    )
    _common(p)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--topic", help="protected topic, read from its beginning to its end")
    source.add_argument("--in", dest="input", metavar="FILE", help="protected JSON Lines, '-'")
    p.add_argument(
        "--keystore-copy", metavar="PATH",
        help="a copy of the key store taken before the erasure (a backup): the proof also "
        "needs it to decrypt none of the subject's values",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--timeout", type=float, default=30.0, help="topic read idle timeout (s)")
    p.set_defaults(func=_prove)


def _common(p: argparse.ArgumentParser) -> None:
    add_settings_args(p)
    p.add_argument("--topology", "-t", required=True, help="topology YAML file")
    p.add_argument("--subject", required=True, help="subject id, or '-' to read it from stdin")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: $STREAMSEC_BROKER)")


def _subject(args: argparse.Namespace) -> str | None:
    subject = sys.stdin.readline().rstrip("\r\n") if args.subject == "-" else args.subject
    if not subject:
        print("empty subject id", file=sys.stderr)
        return None
    return str(subject)


def _forget(args: argparse.Namespace) -> int:
    from streamsec.cli.audit_out import audit_sink
    from streamsec.crypto.keyring_setup import open_keyring
    from streamsec.events.signing import AuditIdentity
    from streamsec.events.sinks import actor_id
    from streamsec.lifecycle.forget import forget_subject, require_subject_path
    from streamsec.topology.loader import load_topology

    if not args.yes:
        print("refusing to forget a subject without --yes", file=sys.stderr)
        return 2
    subject = _subject(args)
    if subject is None:
        return 2
    settings = settings_from(args)
    topology = load_topology(args.topology)
    require_subject_path(topology)
    sink, where = audit_sink(args, settings, topology.audit)  # before destroying anything
    ring = open_keyring(settings)
    try:
        erasure = forget_subject(
            ring, topology, subject, actor=actor_id(settings, "keys-forget"),
            identity=AuditIdentity.from_settings(settings),
        )
        print(
            f"forgot one subject of {topology.name}: destroyed {len(erasure.keys)} key(s); "
            f"subject pseudonym {erasure.subject_hmac[:16]}..."
        )
        delivered = deliver_erasure(erasure, sink, where)
        rotated = rotate_after_erasure(ring, settings, args.rotate_kek_within, args, (sink, where))
        return rotated or delivered
    finally:
        ring.close()


def add_rotation_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--rotate-kek-within", type=float, default=0.0, metavar="SECONDS",
        help="rotate the KEK (so no older copy of the key store holds the destroyed keys) "
        "at once (0, the default), or record that it is due within SECONDS for "
        "'keys rotate-kek --if-due'",
    )


def rotate_after_erasure(
    ring: Any, settings: Any, within: float, args: argparse.Namespace, sink: tuple[Any, str]
) -> int:
    """Rotate the KEK after an erasure (audited like ``keys rotate-kek``, to the erasure's
    audit destination ``sink``), or schedule it; 1 when it cannot be rotated or audited."""
    from streamsec.cli.audit_out import AuditedKeyOperation, audited_rotate_kek
    from streamsec.errors import KeyAccessError
    from streamsec.lifecycle import kek_due

    if within > 0:
        deadline = kek_due.schedule(settings.keyring, within)
        print(f"KEK rotation due by {deadline.isoformat()}: until then, copies of the key "
              "store taken before now still hold the destroyed keys; run "
              "'streamsec keys rotate-kek --yes --if-due' before that time")  # fmt: skip
        return 0
    audit = AuditedKeyOperation(args, settings, tool="keys-rotate-kek", scope="keyring",
                                sink=sink)  # fmt: skip
    try:
        result, audited = audited_rotate_kek(ring, audit)
    except KeyAccessError as exc:
        kek_due.schedule(settings.keyring, 0)
        print(f"the KEK could not be rotated ({exc}): copies of the key store taken before "
              "now still hold the destroyed keys", file=sys.stderr)  # fmt: skip
        return 1
    if result is None:  # the audit intent was not written: not rotated
        kek_due.schedule(settings.keyring, 0)
        return audited
    kek_due.clear(settings.keyring)
    versions = ", ".join(f"{n} v{v}" for n, v in sorted(result.new_versions.items()))
    print(f"rotated the KEK: {result.rewrapped} data key(s) wrapped again under {versions}; "
          f"destroyed {len(result.destroyed)} old KEK version(s), so no copy of the key "
          "store taken before now decrypts the subject")  # fmt: skip
    return audited


def deliver_erasure(erasure: Any, sink: Any, where: str) -> int:
    """Deliver the erasure's audit events; print them for hand delivery if that fails."""
    from streamsec.cli.audit_out import deliver
    from streamsec.errors import StreamsecError

    try:
        deliver(sink, erasure.events)
    except (StreamsecError, OSError) as exc:
        print(f"the keys are destroyed, but the audit events were not delivered ({exc}); "
              "here they are, deliver them by hand:", file=sys.stderr)
        for event in erasure.events:
            sys.stdout.write(json_line(event))
        return 1
    print(f"erasure event {erasure.events[0]['id']} written to {where}")
    return 0


def _prove(args: argparse.Namespace) -> int:
    from streamsec.crypto.keyring_setup import open_keyring
    from streamsec.lifecycle.proof import ForgetProver
    from streamsec.topology.loader import load_topology

    subject = _subject(args)
    if subject is None:
        return 2
    settings = settings_from(args)
    copy, given = _open_copy(settings, args.keystore_copy)
    with contextlib.ExitStack() as opened:  # both keyrings are closed (a registry's reader)
        if copy is not None:
            opened.callback(copy.close)
        topology = load_topology(args.topology)
        live = opened.enter_context(open_keyring(settings))
        prover = ForgetProver(topology, live, subject, copy=copy, copy_given=given)
        return _check_all(prover, args, settings)


def _check_all(prover: Any, args: argparse.Namespace, settings: Any) -> int:
    """Every record of ``--input`` or ``--topic`` through ``prover``; prints its report."""
    if args.input:
        from streamsec.cli.progress import file_size, progress, tracked_lines

        with (
            open_input(args.input) as source,
            progress("checking", total=file_size(args.input), unit="bytes") as bar,
        ):
            for number, line in enumerate(tracked_lines(source, bar), start=1):
                if not line.strip():
                    continue
                record = json_object(number, line)
                if record is None:
                    return 2
                prover.check(record)
    else:
        asyncio.run(_prove_topic(prover, args, settings))
    report = prover.report
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.render())
    return 0 if report.holds else 1


def _open_copy(settings: Any, path: str | None) -> tuple[Any, bool]:
    """The key-store copy opened with today's KEK provider (the one of the live key
    store, not one beside the copy); ``(None, True)`` when it does not unlock."""
    if path is None:
        return None, False
    from streamsec.crypto.keyfile import FileStore
    from streamsec.crypto.keyring import Keyring, close_parts
    from streamsec.crypto.keyring_setup import kek_from_settings, provider_from_settings
    from streamsec.errors import KeyAccessError

    if not Path(path).is_file():
        raise SystemExit(f"--keystore-copy: no such file: {path}")
    provider = None
    try:
        store, kek = FileStore(Path(path)), kek_from_settings(settings)
        provider = provider_from_settings(settings, settings.keyring)
        return Keyring(store, kek=kek, kek_provider=provider), True
    except KeyAccessError:
        close_parts(provider)  # the provider's sessions, opened for a copy that stays shut
        return None, True


async def _prove_topic(prover: Any, args: argparse.Namespace, settings: Any) -> None:
    from streamsec.cli.progress import progress
    from streamsec.kafka import connect, read_to_end

    conn = connect(settings, args.bootstrap)
    with progress(f"checking {args.topic}") as bar:
        async for msg in read_to_end(conn, args.topic, idle_timeout=args.timeout):
            bar.advance()
            _check(prover, msg)


def _check(prover: Any, msg: Any) -> None:
    try:
        record = json.loads(msg.value) if msg.value is not None else None
        key = msg.key.decode("utf-8") if msg.key is not None else None
    except (ValueError, UnicodeDecodeError):
        record = None
    if isinstance(record, dict):
        prover.check(record, key)
