"""Recompute the test vectors published in docs/envelope.md, so doc and code cannot drift.

Each vector is also checked against an independent JavaScript implementation
(Node's crypto for GCM/HMAC, a hand-written RFC 5297 AES-SIV), when node is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from streamsec.crypto.aad import ciphertext_aad
from streamsec.crypto.cipher import pseudonym, seal, unseal
from streamsec.crypto.envelope import parse_envelope
from streamsec.crypto.keys import DataKey, KeyInfo, KeyPurpose, KeyState
from streamsec.crypto.plaintext import decode_value, encode_value

DOC = Path(__file__).resolve().parents[3] / "docs" / "envelope.md"
_BLOCK = re.compile(r"^```vector\n(.*?)^```", re.MULTILINE | re.DOTALL)
_PURPOSE = {"gcm": KeyPurpose.ENCRYPT, "siv": KeyPurpose.DETERMINISTIC, "hmac": KeyPurpose.HASH}


def _vectors() -> list[dict[str, str]]:
    vectors = []
    for block in _BLOCK.findall(DOC.read_text(encoding="utf-8")):
        fields = dict(line.split(": ", 1) for line in block.strip().splitlines())
        vectors.append(fields)
    return vectors


VECTORS = _vectors()


def _key(vector: dict[str, str]) -> DataKey:
    info = KeyInfo(
        id=vector["key_id"],
        purpose=_PURPOSE[vector["alg"]],
        owner=vector.get("topology", "t"),
        version=1,
        state=KeyState.ACTIVE,
        created=datetime.now(UTC),
    )
    return DataKey(info, bytes.fromhex(vector["key"]))


def test_doc_has_the_expected_vectors() -> None:
    assert [v["alg"] for v in VECTORS] == ["gcm", "gcm", "siv", "siv", "hmac"]


@pytest.mark.parametrize(
    "vector", [v for v in VECTORS if v["alg"] != "hmac"], ids=lambda v: v["name"]
)
def test_envelope_vector(vector: dict[str, str]) -> None:
    value = json.loads(vector["value"])
    plaintext = encode_value(value)
    assert plaintext.hex() == vector["plaintext"]
    aad = ciphertext_aad(
        version=1,
        key_id=vector["key_id"],
        alg=vector["alg"],
        topology=vector["topology"],
        path=vector["path"],
    )
    assert aad.hex() == vector["aad"]
    key = _key(vector)
    nonce = bytes.fromhex(vector["nonce"]) if "nonce" in vector else None
    envelope = seal(key, plaintext, topology=vector["topology"], path=vector["path"], nonce=nonce)
    assert envelope == vector["envelope"]
    opened = unseal(key, parse_envelope(envelope), topology=vector["topology"], path=vector["path"])
    assert decode_value(opened) == value


def test_pseudonym_vector() -> None:
    (vector,) = [v for v in VECTORS if v["alg"] == "hmac"]
    data = json.loads(vector["value"]).encode("utf-8")
    assert data.hex() == vector["data"]
    assert pseudonym(_key(vector), data) == vector["pseudonym"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_vectors_with_an_independent_implementation() -> None:
    script = Path(__file__).with_name("independent_aead.js")
    result = subprocess.run(
        ["node", str(script)],
        input=json.dumps(VECTORS),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    computed = json.loads(result.stdout)
    expected = [v.get("envelope") or v["pseudonym"] for v in VECTORS]
    assert computed == expected
