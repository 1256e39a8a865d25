"""Per-subject keys with the file keyring: what a batch of new data subjects costs.

A topology with ``subject:`` (``topologies/customers.yaml``) encrypts each subject's
values under keys of its own, so every new subject adds keys to the keyring. The
file keyring rewrites its file (under a lock, fsynced) on every change, so a change
costs time proportional to the keyring's size. The protector therefore creates the
keys its batch's plans need in one change (``Keyring.ensure_keys``) instead of one
change per key.

Printed per keyring size, for a batch of 64 new subjects (two keys each, as the
customers topology uses): one change per key (the baseline: ``current_key`` per
key) against one change per batch, in the same run on the same file::

    .venv/bin/python benchmarks/subject_keys.py [--sizes 1000,5000,20000] [--batch 64]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from streamsec.crypto.keyfile import FileStore
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import init_keyring
from streamsec.crypto.keys import KeyPurpose

OWNER = "customers"
PURPOSES = (KeyPurpose.ENCRYPT, KeyPurpose.DETERMINISTIC)


def _grow(keyring: Keyring, to: int, have: int) -> int:
    """Add subjects in batches of 500 until the keyring holds ``to`` keys."""
    while have < to:
        n = min(500, (to - have) // len(PURPOSES) or 1)
        subjects = [f"fill-{have}-{i}" for i in range(n)]
        keyring.ensure_keys(OWNER, [(p, s) for s in subjects for p in PURPOSES])
        have += n * len(PURPOSES)
    return have


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp(prefix="streamsec-keys-")) / "keyring.json"
    init_keyring(path)
    keyring = Keyring(FileStore(path))
    have = 0
    print(f"{args.batch} new subjects x {len(PURPOSES)} keys, file keyring at {path.parent}")
    header = ("keys", "file MB", "one change per key", "one per batch", "ratio")
    print("{:>8} {:>8} {:>20} {:>14} {:>7}".format(*header))
    for size in (int(s) for s in args.sizes.split(",")):
        have = _grow(keyring, size, have)
        mb = path.stat().st_size / 1e6
        subjects = [f"one-{size}-{i}" for i in range(args.batch)]
        t0 = time.perf_counter()
        for subject in subjects:
            for purpose in PURPOSES:
                keyring.current_key(OWNER, purpose, subject)
        per_key = time.perf_counter() - t0
        subjects = [f"batch-{size}-{i}" for i in range(args.batch)]
        t0 = time.perf_counter()
        keyring.ensure_keys(OWNER, [(p, s) for s in subjects for p in PURPOSES])
        batched = time.perf_counter() - t0
        have += 4 * args.batch
        print(f"{have:>8} {mb:>8.2f} {per_key * 1000:>17.1f} ms {batched * 1000:>11.1f} ms"
              f" {per_key / batched:>6.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
