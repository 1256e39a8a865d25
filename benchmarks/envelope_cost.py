"""What envelope version 2 costs per value against version 1, in the same run.

Version 2 derives a per-message AES-256-GCM subkey (HKDF-Expand-SHA256) from a
24-byte nonce, binds three more associated-data fields (subject, record, position)
and pads the plaintext to 32-byte buckets. The baseline seals the same values the
version-1 way (12-byte nonce under the data key itself, AAD without binding, no
padding), with the same primitives; neither touches a keyring::

    .venv/bin/python benchmarks/envelope_cost.py [--values 20000]
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime

from streamsec.crypto.aad import Binding, ciphertext_aad
from streamsec.crypto.cipher import seal
from streamsec.crypto.envelope import Envelope, format_envelope
from streamsec.crypto.keys import DataKey, KeyInfo, KeyPurpose, KeyState
from streamsec.crypto.plaintext import encode_value

VALUES = [True, False, "active", 42, "jane.roe@example.com", "123-45-6789",
          "4111 1111 1111 1111", "Flat 4, 12 Main Street, Springfield 62704"]  # fmt: skip


def _key(purpose: KeyPurpose, size: int) -> DataKey:
    info = KeyInfo("kbenchmark2", purpose, "t", 1, KeyState.ACTIVE, datetime.now(UTC))
    return DataKey(info, os.urandom(size))


def _v1_gcm(key: DataKey, plaintext: bytes, path: str) -> str:
    nonce = os.urandom(12)
    aad = ciphertext_aad(version=1, key_id=key.id, alg="gcm", topology="t", path=path)
    payload = nonce + key.gcm().encrypt(nonce, plaintext, aad)
    return format_envelope(Envelope(key.id, "gcm", payload, version=1))


def _time(fn: object, plaintexts: list[bytes]) -> tuple[float, float]:
    t0 = time.perf_counter()
    lengths = [len(fn(p)) for p in plaintexts]  # type: ignore[operator]
    return (time.perf_counter() - t0) / len(plaintexts) * 1e6, sum(lengths) / len(lengths)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=int, default=20_000)
    args = parser.parse_args()
    plaintexts = [encode_value(VALUES[i % len(VALUES)]) for i in range(args.values)]
    gcm, siv = _key(KeyPurpose.ENCRYPT, 32), _key(KeyPurpose.DETERMINISTIC, 64)
    binding = Binding("C-1042", "O-77", "orders[1].card")
    rows = [
        ("v1 gcm (baseline)", lambda p: _v1_gcm(gcm, p, "card")),
        ("v2 gcm", lambda p: seal(gcm, p, topology="t", path="card", binding=binding)),
        ("v2 siv", lambda p: seal(siv, p, topology="t", path="card", binding=binding)),
    ]
    results = [(name, *_time(fn, plaintexts)) for name, fn in rows]
    base_us, base_len = results[0][1], results[0][2]
    print(f"{args.values} values of {len(VALUES)} kinds, one key, no keyring")
    print("{:<18} {:>10} {:>8} {:>13} {:>8}".format("", "us/value", "ratio", "mean chars", "ratio"))
    for name, us, length in results:
        print(f"{name:<18} {us:>10.2f} {us / base_us:>7.2f}x {length:>13.1f} "
              f"{length / base_len:>7.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
