"""``streamsec worker``: protect the records of one or more topologies, until stopped."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "worker", help="run a streaming worker (SIGTERM stops it gracefully)",
        description="Consume each topology's input topic, protect every record and produce "
        "the protected, audit, lineage and dead-letter records. Settings come from "
        "STREAMSEC_* variables; the options below override them.",
    )
    p.add_argument("--topology", "-t", action="append", required=True,
                   help="topology file (repeat for several)")
    p.add_argument("--keyring", help="keyring file (default: $STREAMSEC_KEYRING)")
    p.add_argument("--app-id", help="consumer group shared by the workers of one deployment")
    p.add_argument("--processing-guarantee", choices=["at_least_once", "exactly_once"])
    p.add_argument("--metrics-port", type=int, help="Prometheus port (0 disables)")
    p.add_argument("--web-port", type=int, help="Faust web port (0 disables)")
    p.add_argument("--worker-id", help="name in audit events (default: host-pid)")
    p.add_argument(
        "--detector", metavar="MODULE:CALLABLE",
        help="zero-argument factory of a custom Detector (default: Presidio from the topology)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from streamsec.settings import load_settings
    from streamsec.topology.loader import load_topology
    from streamsec.worker.run import load_factory, run_worker

    settings = load_settings(
        keyring=args.keyring, app_id=args.app_id, processing_guarantee=args.processing_guarantee,
        metrics_port=args.metrics_port, web_port=args.web_port, worker_id=args.worker_id,
    )
    topologies = [load_topology(path) for path in args.topology]
    factory = load_factory(args.detector) if args.detector else None
    return run_worker(settings, topologies, detector_factory=factory)
