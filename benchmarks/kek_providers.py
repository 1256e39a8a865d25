"""Per-value cost of encryption with each KEK provider against the local file keyring.

Data keys are unwrapped once (by the HSM / Vault / KMS) and then cached in memory,
so at steady state a value costs the same AES-GCM whatever holds the KEK. Printed
per provider, in the same run, against the local provider (the baseline):

* ``unwrap/key``: a fresh process's first use of a key (one provider round trip);
* ``steady us/value``: encrypting values of ``--subjects`` subjects whose keys are
  cached (``--values`` values, best of 3 interleaved rounds), and the ratio to the baseline.

Servers are the real ones on loopback (SoftHSM2, ``bao server -dev``, moto's KMS
server), started here with :mod:`streamsec.testing.kms_servers`::

    .venv/bin/python benchmarks/kek_providers.py [--values 20000] [--subjects 200]

A run with ``--values 40000`` on the development machine: local 9.33 us/value;
SoftHSM2 9.01 (0.97x), OpenBao 8.32 (0.89x), moto KMS 9.30 (1.00x); first use of
a key 0.01 / 0.06 / 0.99 / 4.86 ms. Past the first unwrap the code path is the
same, so differences are the machine's noise (an earlier, busier run: up to 1.14x).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyfile import FileStore
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import create_keyring
from streamsec.crypto.providers.base import KekProvider
from streamsec.crypto.providers.local import LocalKekProvider
from streamsec.testing.kms_servers import (
    SOFTHSM_MODULE,
    softhsm_token,
    start_moto_kms,
    start_openbao,
)


def _prepare(name: str, factory: Callable[[], KekProvider], root: Path,
             subjects: int) -> tuple[float, KeyringCipher]:  # fmt: skip
    """Keys for ``subjects`` subjects; then a fresh process's first use of each key."""
    path = root / name / "keyring.json"
    ring = create_keyring(path, kek_provider=factory())
    cipher = KeyringCipher(ring, "bench")
    for i in range(subjects):
        cipher.encrypt(b"warm", path="p", subject=f"S{i}")
    fresh = Keyring(FileStore(path), kek_provider=factory())  # another process: cold cache
    t0 = time.perf_counter()
    for record in list(fresh._state.by_id.values()):
        fresh.key_by_id(record.id)
    unwrap = (time.perf_counter() - t0) / max(1, len(fresh._state.by_id))
    return unwrap, KeyringCipher(fresh, "bench")


def _steady(cipher: KeyringCipher, values: int, subjects: int) -> float:
    payload = os.urandom(24)
    t0 = time.perf_counter()
    for i in range(values):
        cipher.encrypt(payload, path="p", subject=f"S{i % subjects}")
    return (time.perf_counter() - t0) / values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=int, default=20_000)
    parser.add_argument("--subjects", type=int, default=200)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="streamsec-kek-bench-"))
    servers = []
    factories: dict[str, Callable[[], KekProvider]] = {
        "local (baseline)": lambda: LocalKekProvider(root / "kek.json"),
    }
    if os.path.exists(SOFTHSM_MODULE):
        from streamsec.crypto.providers.pkcs11 import Pkcs11KekProvider

        hsm = softhsm_token(root / "softhsm")
        factories["pkcs11 (SoftHSM2)"] = lambda: Pkcs11KekProvider(
            module=SOFTHSM_MODULE, token_label=hsm.label, pin=hsm.pin
        )
    try:
        from streamsec.crypto.providers.aws_kms import AwsKmsKekProvider
        from streamsec.crypto.providers.vault import VaultKekProvider

        bao = start_openbao()
        servers.append(bao)
        token = bao.env["STREAMSEC_VAULT_TOKEN"]
        factories["vault (OpenBao)"] = lambda: VaultKekProvider(url=bao.url, token=token)
        moto = start_moto_kms()
        servers.append(moto)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
            os.environ.setdefault(k, moto.env[k])
        factories["aws-kms (moto)"] = lambda: AwsKmsKekProvider(
            region="us-east-1", endpoint=moto.url
        )
        print(f"{args.values} values over {args.subjects} subjects (one key each), best of 3")
        header = ("provider", "unwrap ms/key", "steady us/value", "vs local")
        print("{:<20} {:>14} {:>16} {:>9}".format(*header))
        prepared = {name: _prepare(name.split()[0], factory, root, args.subjects)
                    for name, factory in factories.items()}  # fmt: skip
        best = dict.fromkeys(prepared, float("inf"))
        for _ in range(3):  # interleaved rounds: the machine's load hits every provider
            for name, (_, cipher) in prepared.items():
                best[name] = min(best[name], _steady(cipher, args.values, args.subjects))
        baseline = best["local (baseline)"]
        for name, (unwrap, _) in prepared.items():
            print(f"{name:<20} {unwrap * 1e3:>14.2f} {best[name] * 1e6:>16.2f} "
                  f"{best[name] / baseline:>8.2f}x")  # fmt: skip
    finally:
        for server in servers:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
