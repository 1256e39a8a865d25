"""Erasure that survives backups, on the real broker with an HSM-held KEK (SoftHSM2).

2,000 records of 200 subjects are protected into a topic; a copy of the key store is
taken; 10 subjects are forgotten with ``keys forget`` (9 with the KEK rotation
deferred, the 10th rotating at once, so one rotation serves them all). Then:

* with the copy, 0 of the forgotten subjects' values decrypt (it does not even
  unlock: its KEK version is gone from the HSM), and with the live key store 100%
  of the other subjects' values do (``keys prove-forgotten --keystore-copy`` and
  the same proof in-process for all 10);
* a new record of a forgotten subject reaches no topic in clear: not the output,
  not the dead-letter topic, not audit, not lineage.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from streamsec.cli.main import main
from streamsec.crypto.keyfile import FileStore
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import open_keyring, provider_from_settings
from streamsec.errors import KeyAccessError
from streamsec.lifecycle.proof import ForgetProver
from streamsec.pipeline.model import Outcome, SourceRecord
from streamsec.pipeline.runtime import make_pipeline
from streamsec.settings import load_settings
from streamsec.testing import FakeDetector
from streamsec.testing.kms_servers import SoftHsmToken
from streamsec.topology.loader import load_topology

pytestmark = pytest.mark.integration

SUBJECTS, PER_SUBJECT, FORGOTTEN = 200, 10, 10
RULES = """subject: customer_id
encryption: {missing_subject: dead_letter}
fields:
  customer_id: keep
  email: {action: encrypt, deterministic: true, entity: EMAIL_ADDRESS}
  name: {action: encrypt, entity: PERSON}
  ssn: {action: encrypt, entity: US_SSN}
  hiv: encrypt
"""


def subject(s: int) -> str:
    return f"P-{s:04d}"


def raw(s: int, n: int) -> dict[str, Any]:
    return {"customer_id": subject(s), "email": f"patient{s}@clinic.example",
            "name": f"Patient Number{s}", "ssn": f"{100 + s:03d}-42-{n:04d}",
            "hiv": n % 2 == 0, "visit": n}  # fmt: skip


async def _publish(produce: Any, outcomes: list[Outcome]) -> None:
    by_topic: dict[str, list[tuple[Any, ...]]] = {}
    for outcome in outcomes:
        for m in outcome.messages:
            by_topic.setdefault(m.topic, []).append((m.key, m.value, list(m.headers)))
    for topic, messages in by_topic.items():
        await produce(topic, messages)


def _cli(*args: str, stdin: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if stdin is not None:
            import sys

            real, sys.stdin = sys.stdin, io.StringIO(stdin)
            try:
                code = main(list(args))
            finally:
                sys.stdin = real
        else:
            code = main(list(args))
    return code, out.getvalue()


async def test_forgotten_subjects_stay_forgotten_in_backups_and_new_records(
    hsm: SoftHsmToken, tmp_path: Path, kafka_bootstrap: str, topic_factory: Any,
    kafka_produce: Any, kafka_consume: Any, monkeypatch: pytest.MonkeyPatch,
    closing: Callable[[Any], Any],
) -> None:
    keyring = tmp_path / "keyring.json"
    for name, value in {
        "STREAMSEC_KEK_PROVIDER": "pkcs11", "STREAMSEC_PKCS11_TOKEN_LABEL": hsm.extra[0],
        "STREAMSEC_PKCS11_PIN": hsm.pin, "STREAMSEC_KEYRING": str(keyring),
        "STREAMSEC_BROKER": kafka_bootstrap, "SOFTHSM2_CONF": str(hsm.conf),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("STREAMSEC_KEK", raising=False)
    assert await asyncio.to_thread(main, ["keys", "init"]) == 0
    topics = {k: await topic_factory(1) for k in ("input", "output", "dead_letter", "audit",
                                                  "lineage")}  # fmt: skip
    path = tmp_path / "clinic.yaml"
    path.write_text("name: clinic\n" + "".join(f"{k}: {v}\n" for k, v in topics.items())
                    + RULES)  # fmt: skip
    topology = load_topology(path)
    settings = load_settings()
    ring = closing(open_keyring(settings, refresh_interval=0.0))  # its HSM key handles
    pipeline = make_pipeline(topology, settings, worker_id="it", provider=ring,
                             detector=FakeDetector())  # fmt: skip

    # 1. 2,000 raw records of 200 subjects through the real broker and the pipeline
    records = [raw(s, n) for n in range(PER_SUBJECT) for s in range(SUBJECTS)]
    await kafka_produce(topics["input"], [(None, r) for r in records])
    consumed = await kafka_consume(topics["input"], expected=len(records), timeout=60)
    sources = [SourceRecord(m.topic, m.partition, m.offset, m.key, m.value) for m in consumed]
    outcomes = [o for i in range(0, len(sources), 250)
                for o in pipeline.process(sources[i:i + 250])]  # fmt: skip
    assert [o.reason for o in outcomes] == [None] * len(records)
    await _publish(kafka_produce, outcomes)

    # 2. a copy of the key store (a backup), then 10 subjects forgotten
    backup = tmp_path / "backup" / "keyring.json"
    backup.parent.mkdir()
    shutil.copy2(keyring, backup)
    forgotten = [subject(s) for s in range(0, SUBJECTS, SUBJECTS // FORGOTTEN)]
    base = ["-t", str(path), "--bootstrap", kafka_bootstrap]
    for i, who in enumerate(forgotten):
        deferred = ["--rotate-kek-within", "3600"] if i < FORGOTTEN - 1 else []
        code, out = await asyncio.to_thread(
            _cli, "keys", "forget", *base, "--subject", "-", "--yes", *deferred,
            stdin=who + "\n",
        )
        assert code == 0, out
    assert "rotated the KEK" in out and "destroyed 1 old KEK version" in out

    # 3. the proof on the topic, with the copy: one subject through the CLI...
    protected = await kafka_consume(topics["output"], expected=len(records), timeout=60)
    assert len(protected) == len(records)
    code, out = await asyncio.to_thread(
        _cli, "keys", "prove-forgotten", *base, "--subject", forgotten[3], "--topic",
        topics["output"], "--keystore-copy", str(backup), "--json",
    )
    report = json.loads(out)
    assert code == 0 and report["holds"], report
    assert report["subject"] == {"records": PER_SUBJECT, "encrypted_values": 4 * PER_SUBJECT,
                                 "decrypted": 0}  # fmt: skip
    assert report["keystore_copy"]["decrypted"] == 0
    assert report["keystore_copy"]["encrypted_values"] == 4 * PER_SUBJECT
    # ... and all ten in-process: the copy does not even unlock any more
    with pytest.raises(KeyAccessError):
        Keyring(FileStore(backup), kek_provider=closing(provider_from_settings(settings, keyring)))
    live = closing(open_keyring(settings))
    tried = decrypted_with_copy = 0
    for who in forgotten:
        prover = ForgetProver(topology, live, who, copy=None, copy_given=True)
        for m in protected:
            prover.check(json.loads(m.value), None)
        r = prover.report
        assert r.holds and r.subject.records == PER_SUBJECT and r.subject.decrypted == 0
        # every other subject's values decrypt; the 9 other forgotten ones are counted apart
        assert r.others.decrypted == r.others.values == 4 * (len(records) - 10 * PER_SUBJECT)
        assert r.excluded == 4 * 9 * PER_SUBJECT
        assert r.copy is not None
        tried += r.copy.values
        decrypted_with_copy += r.copy.decrypted
    assert (tried, decrypted_with_copy) == (FORGOTTEN * PER_SUBJECT * 4, 0)
    print(f"with the copy: {decrypted_with_copy} of {tried} forgotten values decrypt; "
          f"live: 100% of {4 * (len(records) - FORGOTTEN * PER_SUBJECT)} others'")

    # 4. a new record of a forgotten subject reaches no topic in clear
    before = {t: len(await kafka_consume(t, timeout=10)) for t in topics.values()}
    s = int(forgotten[5][2:])
    late = raw(s, 99)
    late_key = late["email"].encode()
    await kafka_produce(topics["input"], [(late_key, late)])
    (msg,) = (await kafka_consume(topics["input"], timeout=10))[-1:]
    outcomes = pipeline.process([SourceRecord(msg.topic, msg.partition, msg.offset, msg.key,
                                              msg.value)])  # fmt: skip
    assert [o.reason for o in outcomes] == ["subject_forgotten"]
    await _publish(kafka_produce, outcomes)
    secrets_of = [late["customer_id"], late["email"], late["name"], late["ssn"]]
    for name, topic in topics.items():
        if name == "input":
            continue
        everything = await kafka_consume(topic, timeout=10)
        new = everything[before[topic]:]
        blob = b"".join((m.key or b"") + (m.value or b"")
                        + b"".join(v for _, v in m.headers) for m in new)  # fmt: skip
        for value in secrets_of:
            assert value.encode() not in blob, (name, value)
        if name == "dead_letter":
            assert len(new) == 1 and new[0].key is None and new[0].value == b""
