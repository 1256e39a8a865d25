"""Recompute the test vectors published in docs/envelope.md, so doc and code cannot drift.

Version-2 vectors are sealed again (with the vector's nonce, through the private
``_seal``: the public ``seal`` takes no nonce) and opened; version-1 vectors, the
ones this page published before version 2, must still open (streamsec reads v1 for
ever, never writes it). Each vector is also checked against an independent
JavaScript implementation (Node's crypto for GCM/HKDF/HMAC, a hand-written RFC 5297
AES-SIV), when node is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from streamsec.crypto.aad import Binding, ciphertext_aad
from streamsec.crypto.cipher import _seal, pseudonym, seal, unseal
from streamsec.crypto.envelope import parse_envelope
from streamsec.crypto.keys import DataKey, KeyInfo, KeyPurpose, KeyState
from streamsec.crypto.plaintext import decode_value, encode_value, pad

DOC = Path(__file__).resolve().parents[3] / "docs" / "envelope.md"
_BLOCK = re.compile(r"^```vector\n(.*?)^```", re.MULTILINE | re.DOTALL)
_PURPOSE = {"gcm": KeyPurpose.ENCRYPT, "siv": KeyPurpose.DETERMINISTIC, "hmac": KeyPurpose.HASH}


def _vectors() -> list[dict[str, str]]:
    vectors = []
    for block in _BLOCK.findall(DOC.read_text(encoding="utf-8")):
        fields = {}
        for line in block.strip().splitlines():
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        vectors.append(fields)
    return vectors


VECTORS = _vectors()
ENVELOPES = [v for v in VECTORS if v["alg"] != "hmac"]


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


def _binding(vector: dict[str, str]) -> Binding | None:
    if vector["version"] == "1":
        return None
    return Binding(vector["subject"], vector["record"], vector["position"])


def test_doc_has_the_expected_vectors() -> None:
    assert [(v.get("version"), v["alg"]) for v in VECTORS] == [
        ("2", "gcm"), ("2", "gcm"), ("2", "gcm"), ("2", "gcm"), ("2", "siv"),
        (None, "hmac"),
        ("1", "gcm"), ("1", "gcm"), ("1", "siv"), ("1", "siv"),
    ]


@pytest.mark.parametrize("vector", ENVELOPES, ids=lambda v: v["name"])
def test_envelope_vector(vector: dict[str, str]) -> None:
    value = json.loads(vector["value"])
    plaintext = encode_value(value)
    assert plaintext.hex() == vector["plaintext"]
    binding = _binding(vector)
    aad = ciphertext_aad(
        version=int(vector["version"]),
        key_id=vector["key_id"],
        alg=vector["alg"],
        topology=vector["topology"],
        path=vector["path"],
        binding=binding,
    )
    assert aad.hex() == vector["aad"]
    key = _key(vector)
    envelope = vector["envelope"]
    parsed = parse_envelope(envelope)
    assert parsed.version == int(vector["version"])
    if vector["version"] == "2":
        assert pad(plaintext, int(vector["pad_to"])).hex() == vector["padded"]
        nonce = bytes.fromhex(vector.get("nonce", ""))
        sealed = _seal(
            key, plaintext, topology=vector["topology"], path=vector["path"], binding=binding,
            pad_to=int(vector["pad_to"]), nonce=nonce,
        )
        assert sealed == envelope
    opened = unseal(key, parsed, topology=vector["topology"], path=vector["path"], binding=binding)
    assert decode_value(opened) == value


@pytest.mark.parametrize(
    "vector", [v for v in ENVELOPES if v["version"] == "2"], ids=lambda v: v["name"]
)
def test_v2_vectors_fail_with_any_other_binding(vector: dict[str, str]) -> None:
    key, parsed = _key(vector), parse_envelope(vector["envelope"])
    binding = _binding(vector)
    assert binding is not None
    for other in (
        Binding(binding.subject + "x", binding.record, binding.position),
        Binding(binding.subject, binding.record + "x", binding.position),
        Binding(binding.subject, binding.record, binding.position + "x"),
    ):
        with pytest.raises(InvalidTag):
            unseal(key, parsed, topology=vector["topology"], path=vector["path"], binding=other)


def test_true_and_false_have_equal_lengths_in_the_vectors() -> None:
    by_name = {v["name"]: v["envelope"] for v in ENVELOPES}
    assert len(by_name["v2-gcm-true"]) == len(by_name["v2-gcm-false"])


def test_seal_takes_no_nonce() -> None:
    (vector,) = [v for v in ENVELOPES if v["name"] == "v2-gcm-string"]
    with pytest.raises(TypeError):
        seal(_key(vector), b"x", topology="t", path="p", nonce=bytes(24))  # type: ignore[call-arg]
    a = seal(_key(vector), b"x", topology="t", path="p")
    assert a != seal(_key(vector), b"x", topology="t", path="p")


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
