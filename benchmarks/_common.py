"""Shared set-up for the benchmark scripts: a throw-away keyring and the corpus."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from streamsec.settings import Settings
from streamsec.topology import Topology, parse_topology

MINIMAL = "name: bench\ninput: raw.bench\noutput: protected.bench\n"


def temp_settings() -> Settings:
    home = Path(tempfile.mkdtemp(prefix="streamsec-bench-"))
    from streamsec.crypto import init_keyring

    init_keyring(home / "keyring.json")
    return Settings(home=home, keyring=home / "keyring.json")


def warm_like_worker(pipelines: Any) -> None:
    """What a worker does before it joins its group (``streamsec.worker.run.warm_up``):
    load the models, wait for the detection prefilter's database (it compiles in the
    background; until then every pattern runs), freeze what is loaded out of the
    garbage collector's sight and set the worker's collector thresholds. Without it an
    offline figure measures a colder process than a live worker's."""
    from streamsec.worker.run import warm_up

    warm_up(list(pipelines))


def minimal_topology(text: str = MINIMAL) -> Topology:
    return parse_topology(text)


def strict_equal(a: Any, b: Any) -> bool:
    """Equality that also compares JSON types (1 != 1.0 != True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def dumps(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False)


def pin_hash_seed() -> None:
    """Run this script again with ``PYTHONHASHSEED=0`` unless it already is: the breadth
    corpus draws some values through Faker, whose choice of e.g. an Italian city
    depends on string hashing, so each seed gives a slightly different corpus (99.95%
    against 99.96% protected was one such difference). A pinned seed makes the
    quality figures comparable between runs."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
