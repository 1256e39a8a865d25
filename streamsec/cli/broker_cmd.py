"""``streamsec broker up|down|status``: the local Kafka broker.

``up`` is idempotent (downloads once, starts in the background, waits until the broker
answers) and prints the bootstrap address as its last line, so scripts can do
``BOOTSTRAP=$(streamsec broker up | tail -n1)``. With ``STREAMSEC_BROKER`` set, ``up``
only checks that cluster answers and prints it.

``--secure`` runs a second local instance ("secure") with TLS (a throwaway CA),
SASL_SSL/SCRAM-SHA-512, an mTLS listener and ACLs without default access; ``up``
prints how to connect as each user (passwords stay in its ``credentials.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from streamsec.broker import (
    KAFKA_VERSION,
    BrokerStatus,
    broker_status,
    ensure_broker,
    local_broker,
    stop_broker,
)
from streamsec.settings import load_settings

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "broker", help="run the local Kafka broker", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    sub = parser.add_subparsers(dest="broker_command", required=True, metavar="ACTION")
    fetch = sub.add_parser("fetch", help="download the broker once (no start)")
    fetch.set_defaults(func=_fetch)
    up = sub.add_parser("up", help="download (once) and start the local broker")
    up.add_argument("--timeout", type=float, default=120.0, help="seconds to wait (120)")
    up.add_argument("--secure", action="store_true", help="the TLS/SCRAM/mTLS/ACL instance")
    up.set_defaults(func=_up)
    down = sub.add_parser("down", help="stop the local broker")
    down.add_argument("--timeout", type=float, default=30.0, help="seconds before SIGKILL (30)")
    down.add_argument("--secure", action="store_true", help="the secured instance")
    down.set_defaults(func=_down)
    status = sub.add_parser("status", help="is the broker running and answering")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=_status)


def _fetch(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.broker:
        print(f"STREAMSEC_BROKER is set ({settings.broker}): nothing to download")
        return 0
    broker = local_broker(settings)
    if not broker.installed():
        print(f"downloading Apache Kafka {KAFKA_VERSION} with Maven (once)...", file=sys.stderr)
    print(broker.install())
    return 0


SECURE_INSTANCE = "secure"


def _secure_broker(settings: Any) -> Any:
    from streamsec.broker import LocalBroker

    return LocalBroker(settings.home, SECURE_INSTANCE, secure=True)


def _up_secure(args: argparse.Namespace, settings: Any) -> int:
    broker = _secure_broker(settings)
    if not broker.is_running():
        print("starting the secured local Kafka broker...", file=sys.stderr)
    bootstrap = broker.start(timeout=args.timeout)
    material = broker.material
    print(f"CA certificate:   {material.ca_file}")
    print(f"SCRAM passwords:  {_credentials_file(broker)} (users: {', '.join(material.users)};"
          " admin is a super user, the others need ACLs: streamsec acls --apply)")
    print(f"mTLS listener:    {broker.mtls_bootstrap} (client certificates in "
          f"{material.tls_dir}/<user>.pem and .key)")
    print("connect as a user over SASL_SSL:")
    for name, value in material.environment(
        "streamsec", bootstrap=bootstrap, mtls_bootstrap=str(broker.mtls_bootstrap)
    ).items():
        shown = "<streamsec's password from the file above>" if "PASSWORD" in name else value
        print(f"  {name}={shown}")
    print(bootstrap)
    return 0


def _credentials_file(broker: Any) -> str:
    from streamsec.broker.secure import SecureMaterial

    return str(SecureMaterial.path(broker.layout.dir))


def _up(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.secure:
        return _up_secure(args, settings)
    if not settings.broker:
        broker = local_broker(settings)
        if not broker.installed():
            print(f"downloading Apache Kafka {KAFKA_VERSION} with Maven (once)...", file=sys.stderr)
        elif not broker.is_running():
            print("starting the local Kafka broker...", file=sys.stderr)
        # Asked for by a person: keep it up when the last test session ends.
        broker.layout.auto_stop_marker.unlink(missing_ok=True)
    bootstrap = ensure_broker(settings, timeout=args.timeout)
    print(bootstrap)
    return 0


def _down(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.secure:
        stopped = _secure_broker(settings).stop(timeout=args.timeout)
        print("stopped" if stopped else "not running")
        return 0
    if settings.broker:
        print("STREAMSEC_BROKER is set: streamsec does not stop an external cluster")
        return 0
    stopped = stop_broker(settings, timeout=args.timeout)
    print("stopped" if stopped else "not running")
    return 0


def _status_dict(status: BrokerStatus) -> dict[str, Any]:
    return {
        "mode": status.mode,
        "bootstrap": status.bootstrap,
        "reachable": status.reachable,
        "running": status.running,
        "pid": status.pid,
        "installed": status.installed,
        "kafka_version": status.kafka_version,
        "cluster_id": status.cluster.cluster_id if status.cluster else None,
        "brokers": len(status.cluster.brokers) if status.cluster else 0,
        "log_file": str(status.log_file) if status.log_file else None,
    }


def _status(args: argparse.Namespace) -> int:
    status = broker_status(load_settings())
    fields = _status_dict(status)
    if args.json:
        print(json.dumps(fields))
    else:
        for key, value in fields.items():
            if value is not None:
                print(f"{key}: {value}")
    return 0 if status.reachable else 1
