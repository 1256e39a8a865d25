"""Configuration of the local single-node KRaft broker: pure rendering plus its state file.

One JVM is both broker and controller (``process.roles=broker,controller``), listening
on loopback only. Every internal topic has replication factor 1. The ports and the
cluster id are chosen once, at the first start, and kept in ``state.json``: the KRaft
voter set recorded at format time names the controller endpoint, so a restart must
use the same ports (and clients that were connected come back to the same address).
"""

from __future__ import annotations

import base64
import json
import socket
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from streamsec.errors import BrokerError

__all__ = [
    "DEFAULT_CONTROLLER_PORT",
    "DEFAULT_PORT",
    "LOOPBACK",
    "BrokerConfig",
    "BrokerState",
    "load_state",
    "new_cluster_id",
    "pick_free_port",
    "port_is_free",
    "render_log4j2",
    "render_server_properties",
    "save_state",
]

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 19092
DEFAULT_CONTROLLER_PORT = 19093


@dataclass(frozen=True)
class BrokerState:
    """What must not change between starts of one instance."""

    cluster_id: str
    port: int
    controller_port: int
    kafka_version: str
    mtls_port: int | None = None
    """The secured instance's mTLS listener (None: a plaintext instance)."""

    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.port}"


@dataclass(frozen=True)
class BrokerConfig:
    """Inputs of ``server.properties``; retention suits a developer machine."""

    port: int
    controller_port: int
    data_dir: Path
    host: str = LOOPBACK
    node_id: int = 1
    retention_hours: int = 24
    retention_bytes: int = 1024**3
    segment_bytes: int = 64 * 1024**2
    internal_partitions: int = 10
    overrides: dict[str, str] = field(default_factory=dict)
    """Entries replacing or adding to the rendered ones (the secured listeners)."""


def render_server_properties(cfg: BrokerConfig) -> str:
    """The broker's ``server.properties``."""
    controller = f"{cfg.host}:{cfg.controller_port}"
    lines = {
        "process.roles": "broker,controller",
        "node.id": str(cfg.node_id),
        "controller.quorum.bootstrap.servers": controller,
        "controller.listener.names": "CONTROLLER",
        "listeners": f"PLAINTEXT://{cfg.host}:{cfg.port},CONTROLLER://{controller}",
        "advertised.listeners": f"PLAINTEXT://{cfg.host}:{cfg.port},CONTROLLER://{controller}",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(cfg.data_dir),
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "auto.create.topics.enable": "true",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": str(cfg.internal_partitions),
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": str(cfg.internal_partitions),
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "share.coordinator.state.topic.num.partitions": str(cfg.internal_partitions),
        "group.initial.rebalance.delay.ms": "0",
        "log.retention.hours": str(cfg.retention_hours),
        "log.retention.bytes": str(cfg.retention_bytes),
        "log.segment.bytes": str(cfg.segment_bytes),
        "log.retention.check.interval.ms": "300000",
    }
    lines.update(cfg.overrides)
    body = "\n".join(f"{key}={value}" for key, value in lines.items())
    return f"# Rendered by streamsec.broker: single-node KRaft broker for development.\n{body}\n"


def render_log4j2(log_file: Path) -> str:
    """A log4j2 configuration writing to a rolling ``log_file`` (3 x 20 MB)."""
    return "\n".join(
        [
            "status = warn",
            "name = streamsec-kafka",
            "appender.file.type = RollingFile",
            "appender.file.name = FILE",
            f"appender.file.fileName = {log_file}",
            f"appender.file.filePattern = {log_file}.%i",
            "appender.file.layout.type = PatternLayout",
            "appender.file.layout.pattern = [%d] %p %m (%c)%n",
            "appender.file.policies.type = Policies",
            "appender.file.policies.size.type = SizeBasedTriggeringPolicy",
            "appender.file.policies.size.size = 20MB",
            "appender.file.strategy.type = DefaultRolloverStrategy",
            "appender.file.strategy.max = 3",
            "rootLogger.level = INFO",
            "rootLogger.appenderRef.file.ref = FILE",
            "logger.request.name = kafka.request.logger",
            "logger.request.level = WARN",
            "logger.state.name = state.change.logger",
            "logger.state.level = WARN",
            "",
        ]
    )


def new_cluster_id() -> str:
    """A random KRaft cluster id (URL-safe base64 of 16 bytes, not starting with '-')."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True if nothing listens on ``host:port`` and it can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def pick_free_port(host: str = LOOPBACK, *, avoid: frozenset[int] = frozenset()) -> int:
    """A port the kernel reports free on ``host`` (not one of ``avoid``)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port
    raise BrokerError("no free loopback port found")


def load_state(path: Path) -> BrokerState | None:
    """The saved state, or None before the first start."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return BrokerState(
            cluster_id=str(raw["cluster_id"]),
            port=int(raw["port"]),
            controller_port=int(raw["controller_port"]),
            kafka_version=str(raw["kafka_version"]),
            mtls_port=int(raw["mtls_port"]) if raw.get("mtls_port") else None,
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        raise BrokerError(
            "corrupt broker state file: delete it and the data folder", file=str(path)
        ) from None


def save_state(path: Path, state: BrokerState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
