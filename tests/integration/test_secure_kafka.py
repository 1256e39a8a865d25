"""streamsec on a secured broker (TLS, SCRAM-SHA-512, mTLS, ACLs without default access).

One secured broker per session (``secure_kafka``). The worker and the commands connect
with their own principals and the ACLs ``streamsec acls --apply`` created; bad
connections end fast with one clear line, no traceback, no secret, nothing consumed.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from streamsec.broker.tls import new_ca
from streamsec.crypto.keyring_setup import init_keyring
from streamsec.kafka import admin_client, create_topics, new_producer
from streamsec.pipeline.headers import REASON
from streamsec.worker.process import WorkerProcess, read_topics, worker_command

pytestmark = pytest.mark.integration

TRACEPARENT = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
RULES = """subject: customer_id
encryption: {missing_subject: dead_letter}
fields:
  customer_id: {action: encrypt, deterministic: true}
  email: {action: encrypt, deterministic: true, entity: EMAIL_ADDRESS}
  name: {action: encrypt, entity: PERSON}
roles:
  support: {categories: [PII]}
"""
N = 6


def cli(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("STREAMSEC_")}
    return subprocess.run(
        [*worker_command(), *args], env={**clean, **env}, capture_output=True, text=True,
        timeout=timeout, check=False,
    )


def audit_keys() -> dict[str, str]:
    """The test's audit key files (tests/conftest.py), so the worker, the consumer and
    the CLI of one deployment sign as one writer, as processes of one home do."""
    names = ("STREAMSEC_AUDIT_SIGNING_KEY", "STREAMSEC_AUDIT_PSEUDONYM_KEY")
    return {name: os.environ[name] for name in names if name in os.environ}


class Deployment:
    """A topology with topics of its own, a keyring and the ACLs of its principals."""

    def __init__(self, tmp_path: Path, cluster: Any, mode: str) -> None:
        self.cluster = cluster
        self.mode = mode
        tag = uuid.uuid4().hex[:8]
        self.app_id = f"app-{tag}"
        self.topics = {k: f"{k}-{tag}" for k in ("input", "output", "audit", "lineage")}
        self.topics["dead_letter"] = f"dlq-{tag}"
        self.copy = f"copy-{tag}"
        self.path = tmp_path / "crm.yaml"
        self.path.write_text(
            "name: crm\n" + "".join(f"{k}: {v}\n" for k, v in self.topics.items()) + RULES
        )
        self.keyring = tmp_path / "keyring.json"
        init_keyring(self.keyring)
        self.home = tmp_path / "home"
        self.home.mkdir()

    def env(self, user: str) -> dict[str, str]:
        return {**self.cluster.env(user, self.mode), "STREAMSEC_KEYRING": str(self.keyring),
                "STREAMSEC_HOME": str(self.home), "STREAMSEC_METRICS_PORT": "0",
                "STREAMSEC_WEB_PORT": "0", **audit_keys()}

    def run(self, user: str, *args: str) -> subprocess.CompletedProcess[str]:
        return cli(*args, env=self.env(user))

    def trust_store(self) -> Path:
        """An operator key certifying the signing key the processes of this home share,
        made with the CLI as an operator would (the verifier gets public keys only)."""
        trust, operator = self.home.parent / "trust.json", self.home.parent / "operator.key"
        made = self.run("admin", "audit", "operator-key", "--out", str(operator),
                        "--trust-store", str(trust))
        assert made.returncode == 0, made.stderr
        keygen = self.run("admin", "audit", "keygen")
        assert keygen.returncode == 0, keygen.stderr
        certified = self.run("admin", "audit", "certify", "--operator-key", str(operator),
                             "--trust-store", str(trust), "--public-key",
                             keygen.stdout.split()[1], "--writers", "*")
        assert certified.returncode == 0, certified.stderr
        return trust


def records() -> list[tuple[bytes, bytes]]:
    out = [(f"k{i}".encode(), json.dumps({
        "customer_id": f"C-{i:03d}", "email": f"user{i}@example.com", "name": f"Name {i}",
    }).encode()) for i in range(N)]
    return [*out, (b"broken", b"{not json")]


async def produce(conn: Any, topic: str, items: list[tuple[bytes, bytes]]) -> None:
    producer = new_producer(conn)
    await producer.start()
    try:
        sent = [await producer.send(topic, v, key=k, headers=[("traceparent", TRACEPARENT),
                                                                  ("x-secret", b"ann@x.io")])
                for k, v in items]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def one_clear_line(result: subprocess.CompletedProcess[str], *secrets: str) -> str:
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in text
    for secret in secrets:
        assert secret not in text
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("streamsec: error: ")
    return lines[0]


@pytest.mark.parametrize("mode", ["scram", "mtls"])
async def test_the_whole_pipeline_over_a_secured_broker(
    tmp_path: Path, secure_kafka: Any, mode: str
) -> None:
    dep = Deployment(tmp_path, secure_kafka, mode)
    admin = secure_kafka.connection("admin", mode)
    await create_topics(admin, [*dep.topics.values(), dep.copy])
    # mTLS runs exactly-once: the worker's transactional ids need their ACLs too
    guarantee = "exactly_once" if mode == "mtls" else "at_least_once"
    acls = dep.run("admin", "acls", "-t", str(dep.path), "--worker", "User:streamsec",
                   "--role", "support=User:reader", "--app-id", dep.app_id, "--apply",
                   *(["--exactly-once"] if mode == "mtls" else []))
    assert acls.returncode == 0, acls.stderr
    assert acls.stdout.strip().endswith(f"applied {24 if mode == 'mtls' else 22} ACLs")
    await produce(admin, dep.topics["input"], records())

    worker = WorkerProcess(
        [dep.path], env=dep.env("streamsec"), log_file=tmp_path / "worker.log",
        args=["--app-id", dep.app_id, "--detector", "streamsec.testing:FakeDetector",
              "--processing-guarantee", guarantee],
    ).start()
    try:
        got = await read_topics(
            admin.bootstrap, [dep.topics["output"], dep.topics["dead_letter"]], N + 1,
            timeout=90, alive=lambda: worker.running, client=admin.options,
        )
    finally:
        assert worker.stop() == 0, (tmp_path / "worker.log").read_text()[-3000:]
    out, dead = got[dep.topics["output"]], got[dep.topics["dead_letter"]]
    assert len(out) == N
    assert [dict(r.headers)[REASON] for r in dead] == [b"decode"]
    for record in out:
        headers = dict(record.headers)
        assert headers["traceparent"] == TRACEPARENT  # trace context carried over
        assert "x-secret" not in headers  # not on the allow-list
        assert b"@example.com" not in record.value
    events = await read_topics(admin.bootstrap, [dep.topics["audit"], dep.topics["lineage"]],
                               N + 3, timeout=30, settle=1, client=admin.options)
    audit = events[dep.topics["audit"]]
    assert len(audit) >= N + 1
    lineage = events[dep.topics["lineage"]]
    assert json.loads(lineage[0].value)["data"]["eventType"] == "START"
    for message in [*audit, *lineage]:  # CloudEvents Kafka binding, structured mode
        assert dict(message.headers)["content-type"] == b"application/cloudevents+json"
        assert json.loads(message.value)["specversion"] == "1.0"

    consumed = dep.run("reader", "consume", "-t", str(dep.path), "--role", "support",
                       "--decrypt", "--from-beginning", "--idle-timeout", "3", "--max", str(N))
    assert consumed.returncode == 0, consumed.stderr
    emails = sorted(json.loads(line)["email"] for line in consumed.stdout.splitlines())
    assert emails == sorted(f"user{i}@example.com" for i in range(N))

    verified = dep.run("admin", "audit", "verify", "--topic", dep.topics["audit"],
                       "--trust-store", str(dep.trust_store()))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "intact" in verified.stdout

    rekeyed = dep.run("admin", "rekey", "-t", str(dep.path), "--from-topic",
                      dep.topics["output"], "--to-topic", dep.copy)
    assert rekeyed.returncode == 0, rekeyed.stderr
    copied = await read_topics(admin.bootstrap, [dep.copy], N, timeout=30, client=admin.options)
    assert len(copied[dep.copy]) == N

    forgot = dep.run("admin", "keys", "forget", "-t", str(dep.path), "--subject", "C-001",
                     "--yes")
    assert forgot.returncode == 0, forgot.stderr
    proved = dep.run("admin", "keys", "prove-forgotten", "-t", str(dep.path), "--subject",
                     "C-001", "--topic", dep.topics["output"], "--json")
    assert proved.returncode == 0, proved.stdout + proved.stderr
    assert json.loads(proved.stdout)["holds"] is True

    # least privilege: the consumer role never reads clear data
    for topic in (dep.topics["input"], dep.topics["dead_letter"]):
        denied = dep.run("reader", "consume", "-t", str(dep.path), "--topic", topic,
                         "--from-beginning", "--idle-timeout", "3")
        line = one_clear_line(denied, secure_kafka.material.passwords["reader"])
        assert "not authorized" in line
        assert f"topic={topic}" in line


def bad_settings(cluster: Any, tmp_path: Path, case: str) -> tuple[dict[str, str], str]:
    """The connection variables of one bad case, and the setting the message must name."""
    if case == "wrong password":
        return {**cluster.env("streamsec"), "STREAMSEC_SASL_PASSWORD": "not-the-password"}, (
            "STREAMSEC_SASL_PASSWORD")
    if case == "untrusted CA":
        other = new_ca(tmp_path / "other")
        return {**cluster.env("streamsec"), "STREAMSEC_SSL_CAFILE": str(other.cert_file)}, (
            "STREAMSEC_SSL_CAFILE")
    if case == "hostname mismatch":  # the broker certificate names 127.0.0.1 only
        return {**cluster.env("streamsec"),
                "STREAMSEC_BROKER": cluster.bootstrap.replace("127.0.0.1", "localhost")}, (
            "STREAMSEC_BROKER")
    env = cluster.env("streamsec", "mtls")
    return {**env, "STREAMSEC_SSL_CERTFILE": str(tmp_path / "missing.pem")}, (
        "STREAMSEC_SSL_CERTFILE")


@pytest.mark.parametrize(
    "case", ["wrong password", "untrusted CA", "hostname mismatch", "missing certificate file"]
)
async def test_a_bad_connection_ends_fast_with_one_clear_line(
    tmp_path: Path, secure_kafka: Any, case: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    app_id, raw = f"bad-{tag}", f"raw-{tag}"
    admin = secure_kafka.connection("admin")
    await create_topics(admin, [raw])
    await produce(admin, raw, records())
    topology = tmp_path / "t.yaml"
    topology.write_text(f"name: bad\ninput: {raw}\noutput: out-{tag}\n")
    keyring = tmp_path / "keyring.json"
    init_keyring(keyring)
    env, setting = bad_settings(secure_kafka, tmp_path, case)
    env |= {"STREAMSEC_KEYRING": str(keyring), "STREAMSEC_HOME": str(tmp_path / "home"),
            "STREAMSEC_METRICS_PORT": "0", "STREAMSEC_WEB_PORT": "0"}
    started = time.monotonic()
    result = cli("worker", "-t", str(topology), "--app-id", app_id, "--detector",
                 "streamsec.testing:FakeDetector", env=env, timeout=60)
    elapsed = time.monotonic() - started
    line = one_clear_line(result, secure_kafka.material.passwords["streamsec"],
                          "not-the-password")
    assert setting in line, line
    assert elapsed < 30, f"{case}: {elapsed:.1f}s"
    # nothing consumed: the worker's group never joined, let alone committed an offset
    async with admin_client(admin) as client:
        groups = await client.list_consumer_groups()
    assert app_id not in {g[0] for g in groups}
    print(f"{case}: {elapsed:.1f}s: {line}")


def test_a_mistyped_setting_stops_start_up_naming_it(tmp_path: Path) -> None:
    topology = tmp_path / "t.yaml"
    topology.write_text("name: typo\ninput: a\noutput: b\n")
    result = cli("worker", "-t", str(topology),
                 env={"STREAMSEC_SECURTY_PROTOCOL": "SASL_SSL", "STREAMSEC_BROKER": "127.0.0.1:1"})
    line = one_clear_line(result)
    assert "STREAMSEC_SECURTY_PROTOCOL" in line


async def test_a_worker_without_acls_stops_naming_its_input_topic(
    tmp_path: Path, secure_kafka: Any
) -> None:
    tag = uuid.uuid4().hex[:8]
    raw = f"raw-{tag}"
    await create_topics(secure_kafka.connection("admin"), [raw])
    topology = tmp_path / "t.yaml"
    topology.write_text(f"name: noacl\ninput: {raw}\noutput: out-{tag}\n")
    keyring = tmp_path / "keyring.json"
    init_keyring(keyring)
    env = {**secure_kafka.env("reader"), "STREAMSEC_KEYRING": str(keyring),
           "STREAMSEC_HOME": str(tmp_path / "home"), "STREAMSEC_METRICS_PORT": "0",
           "STREAMSEC_WEB_PORT": "0"}
    result = cli("worker", "-t", str(topology), "--app-id", f"noacl-{tag}", "--detector",
                 "streamsec.testing:FakeDetector", env=env)
    line = one_clear_line(result, secure_kafka.material.passwords["reader"])
    assert "not authorized: User:reader" in line
    assert f"topic={raw}" in line
