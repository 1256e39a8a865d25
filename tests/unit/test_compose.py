"""docker-compose.yml, the Dockerfile and deploy/prometheus.yml agree with the code.

Docker cannot run here, so these files are checked by reading them: every STREAMSEC_*
variable is a real setting with a valid value, ports agree with the Settings defaults
and the Prometheus targets, commands parse with the real CLI, and the topics created
are those of the topology the workers run.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from streamsec.broker import KAFKA_VERSION
from streamsec.cli.main import build_parser
from streamsec.settings import Settings
from streamsec.topology.loader import load_topology

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n\s*", " ", text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, args = line.partition(" ")
            out.append((instruction.upper(), args.strip()))
    return out


def _dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, args in _dockerfile():
        if instruction == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(args))
    return env


def _exec_form(instruction: str) -> list[str]:
    [args] = [a for i, a in _dockerfile() if i == instruction]
    value = json.loads(args)
    assert isinstance(value, list)
    return value


def _streamsec_services() -> dict[str, dict[str, Any]]:
    return {
        name: svc
        for name, svc in _compose()["services"].items()
        if "build" in svc or str(svc.get("image", "")).startswith("streamsec")
    }


def test_every_streamsec_variable_is_a_setting_with_a_valid_value(monkeypatch) -> None:
    sources = {name: _env(svc) for name, svc in _compose()["services"].items()}
    sources["Dockerfile"] = _dockerfile_env()
    seen = 0
    for source, env in sources.items():
        ours = {k: v for k, v in env.items() if k.startswith("STREAMSEC_")}
        for key in ours:
            assert key[len("STREAMSEC_") :].lower() in Settings.model_fields, (source, key)
        for key in list(Settings.model_fields):
            monkeypatch.delenv(f"STREAMSEC_{key.upper()}", raising=False)
        for key, value in {**sources["Dockerfile"], **ours}.items():
            monkeypatch.setenv(key, value)
        Settings()  # every value parses
        seen += len(ours)
    assert seen >= 5
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for name in re.findall(r"STREAMSEC_[A-Z_]+", text):
        assert name[len("STREAMSEC_") :].lower() in Settings.model_fields, name


def test_metrics_port_matches_settings_prometheus_and_the_image() -> None:
    default = Settings.model_fields["metrics_port"].default
    worker = _compose()["services"]["worker"]
    assert int(_env(worker)["STREAMSEC_METRICS_PORT"]) == default
    assert int(_dockerfile_env()["STREAMSEC_METRICS_PORT"]) == default
    assert [a for i, a in _dockerfile() if i == "EXPOSE"] == [str(default)]
    assert f"127.0.0.1:{default}/metrics" in " ".join(worker["healthcheck"]["test"])

    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text(encoding="utf-8"))
    [job] = prometheus["scrape_configs"]
    [sd] = job["dns_sd_configs"]
    assert sd["port"] == default
    assert sd["names"] == ["worker"]
    assert "worker" in _compose()["services"]


def test_prometheus_service_mounts_the_config() -> None:
    prometheus = _compose()["services"]["prometheus"]
    source, target, *_ = prometheus["volumes"][0].split(":")
    assert (ROOT / source).resolve() == ROOT / "deploy" / "prometheus.yml"
    assert target == "/etc/prometheus/prometheus.yml"


def test_worker_broker_is_the_kafka_service_internal_listener() -> None:
    services = _compose()["services"]
    broker = _env(services["worker"])["STREAMSEC_BROKER"]
    kafka_env = _env(services["kafka"])
    assert f"PLAINTEXT://{broker}" in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert broker.split(":")[0] == services["kafka"]["hostname"]


def test_kafka_image_is_the_version_streamsec_runs_locally() -> None:
    services = _compose()["services"]
    assert services["kafka"]["image"] == f"apache/kafka:{KAFKA_VERSION}"
    assert services["topics"]["image"] == f"apache/kafka:{KAFKA_VERSION}"
    cluster_id = _env(services["kafka"])["CLUSTER_ID"]
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    kafka_env = _env(services["kafka"])
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert kafka_env[key] == "1"


def test_topics_service_creates_every_topic_of_the_worker_topology() -> None:
    services = _compose()["services"]
    script = "\n".join(services["topics"]["command"])
    created = set(re.findall(r"^\s*create (\S+) \d+\s*$", script, flags=re.MULTILINE))
    args = build_parser().parse_args(services["worker"]["command"])
    assert args.topology
    for path in args.topology:
        assert path.startswith("/topologies/")
        topology = load_topology(ROOT / "topologies" / path.removeprefix("/topologies/"))
        wanted = {
            topology.input,
            topology.output,
            topology.dead_letter_topic,
            topology.audit,
            topology.lineage,
        }
        assert wanted <= created, wanted - created
    mounts = [v.split(":") for v in services["worker"]["volumes"]]
    assert ["./topologies", "/topologies", "ro"] in mounts


def test_dockerfile_entry_command_is_a_real_cli_command() -> None:
    [base] = [a for i, a in _dockerfile() if i == "FROM"]
    assert base == "python:3.11-slim"
    entrypoint, cmd = _exec_form("ENTRYPOINT"), _exec_form("CMD")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert entrypoint == ["streamsec"]
    assert entrypoint[0] in scripts["scripts"]
    args = build_parser().parse_args(cmd)
    assert args.command == "worker"
    assert args.topology == ["/topologies/customers.yaml"]
    assert callable(args.func)


def test_dockerfile_copies_files_that_exist() -> None:
    for instruction, args in _dockerfile():
        if instruction == "COPY":
            *sources, _dest = args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"


def test_streamsec_services_use_the_dockerfile_and_real_commands() -> None:
    services = _streamsec_services()
    assert {"worker", "keyring-init"} <= set(services)
    for name, service in services.items():
        assert service["build"] == ".", name
    init = services["keyring-init"]
    [shell] = init["command"]
    streamsec_part = shell.split("||", 1)[1].split()
    assert streamsec_part[0] == "streamsec"
    assert build_parser().parse_args(streamsec_part[1:]).keys_command == "init"
    keyring = _env(services["worker"])["STREAMSEC_KEYRING"]
    assert _env(init)["STREAMSEC_KEYRING"] == keyring
    assert keyring.startswith("/keyring/")
    assert "keyring:/keyring" in init["volumes"]
    assert "keyring:/keyring" in services["worker"]["volumes"]


@pytest.mark.parametrize("service", ["topics", "keyring-init"])
def test_workers_wait_for_the_one_shot_services(service: str) -> None:
    depends = _compose()["services"]["worker"]["depends_on"]
    assert depends[service]["condition"] == "service_completed_successfully"
