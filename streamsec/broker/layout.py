"""Where the local broker keeps its files, all under the settings ``home``.

    <home>/kafka/dist/kafka-<version>/libs/      the broker classpath (shared by instances)
    <home>/kafka/dist/kafka-<version>/pom.xml    the pom Maven resolved it from
    <home>/kafka/dist/mvn-<version>.log          Maven's output
    <home>/kafka/<instance>/state.json           ports and cluster id, fixed at first start
    <home>/kafka/<instance>/config/              server.properties, log4j2.properties
    <home>/kafka/<instance>/data/                the KRaft log directory
    <home>/kafka/<instance>/logs/server.log      the broker's log (stdout.log: JVM output)
    <home>/kafka/<instance>/broker.pid           the running broker's pid

The default instance is the one ``streamsec broker up`` and the tests share; tests
that kill the broker use an instance of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from streamsec.errors import BrokerError

__all__ = ["DEFAULT_INSTANCE", "BrokerLayout", "DistLayout"]

DEFAULT_INSTANCE = "default"
_INSTANCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class DistLayout:
    """The downloaded Kafka distribution for one version."""

    root: Path
    version: str

    @property
    def dir(self) -> Path:
        return self.root / f"kafka-{self.version}"

    @property
    def libs(self) -> Path:
        return self.dir / "libs"

    @property
    def pom(self) -> Path:
        return self.dir / "pom.xml"

    @property
    def complete_marker(self) -> Path:
        return self.dir / ".complete"

    @property
    def mvn_log(self) -> Path:
        return self.root / f"mvn-{self.version}.log"

    @property
    def lock(self) -> Path:
        return self.root / f".kafka-{self.version}.lock"


@dataclass(frozen=True)
class BrokerLayout:
    """The files of one local broker instance."""

    home: Path
    instance: str = DEFAULT_INSTANCE

    def __post_init__(self) -> None:
        if not _INSTANCE_RE.match(self.instance):
            raise BrokerError("invalid broker instance name", key=self.instance)
        object.__setattr__(self, "home", self.home.expanduser().resolve())

    @property
    def base(self) -> Path:
        return self.home / "kafka"

    def dist(self, version: str) -> DistLayout:
        return DistLayout(root=self.base / "dist", version=version)

    @property
    def dir(self) -> Path:
        return self.base / self.instance

    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    @property
    def config_dir(self) -> Path:
        return self.dir / "config"

    @property
    def server_properties(self) -> Path:
        return self.config_dir / "server.properties"

    @property
    def log4j_properties(self) -> Path:
        return self.config_dir / "log4j2.properties"

    @property
    def data_dir(self) -> Path:
        return self.dir / "data"

    @property
    def log_dir(self) -> Path:
        return self.dir / "logs"

    @property
    def server_log(self) -> Path:
        return self.log_dir / "server.log"

    @property
    def stdout_log(self) -> Path:
        return self.log_dir / "stdout.log"

    @property
    def pid_file(self) -> Path:
        return self.dir / "broker.pid"

    @property
    def lock(self) -> Path:
        return self.dir / ".lock"

    @property
    def leases_dir(self) -> Path:
        return self.dir / "leases"

    @property
    def leases_lock(self) -> Path:
        return self.dir / ".leases.lock"

    @property
    def auto_stop_marker(self) -> Path:
        """Present while the broker was started by a lease holder (a test session)."""
        return self.dir / "auto-stop"
