"""One local Kafka broker instance: install, format, start, wait, stop, kill.

Every method is synchronous and safe to call from several processes: start and stop
hold the instance's file lock. ``start`` is idempotent; ``stop`` then ``start`` keeps
the data and the port, which is what crash/restart tests rely on.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from streamsec.broker import config as cfg
from streamsec.broker.install import (
    KAFKA_VERSION,
    MIN_JAVA,
    ensure_installed,
    find_java,
    is_installed,
    java_major_version,
)
from streamsec.broker.layout import DEFAULT_INSTANCE, BrokerLayout
from streamsec.broker.locks import file_lock
from streamsec.broker.probe import ClusterInfo, probe
from streamsec.broker.process import kill_now, process_alive, read_pid, spawn, terminate
from streamsec.broker.secure import DEFAULT_USERS, SecureMaterial, secure_properties
from streamsec.errors import BrokerError

__all__ = ["LocalBroker", "LocalStatus"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalStatus:
    instance: str
    installed: bool
    running: bool
    pid: int | None
    bootstrap: str | None
    cluster: ClusterInfo | None
    kafka_version: str
    log_file: Path


class LocalBroker:
    """The broker of ``<home>/kafka/<instance>``.

    ``port``/``controller_port`` apply at the first start only (then ``state.json``
    keeps them). Without them the default instance takes 19092/19093 when free and
    any other instance takes free ports. ``secure``: TLS, SCRAM, mTLS and ACLs
    (:mod:`streamsec.broker.secure`); the bootstrap is then the SASL_SSL listener and
    :attr:`mtls_bootstrap` the mTLS one.
    """

    def __init__(
        self,
        home: Path,
        instance: str = DEFAULT_INSTANCE,
        *,
        kafka_version: str = KAFKA_VERSION,
        port: int | None = None,
        controller_port: int | None = None,
        heap: str = "1g",
        secure: bool = False,
        users: tuple[str, ...] = DEFAULT_USERS,
    ) -> None:
        self.layout = BrokerLayout(home=home, instance=instance)
        self.secure = secure
        self._users = users
        self.kafka_version = kafka_version
        self._port = port
        self._controller_port = controller_port
        self._heap = heap

    def __repr__(self) -> str:
        return f"LocalBroker(dir={self.layout.dir}, version={self.kafka_version})"

    # -- queries ------------------------------------------------------------------
    @property
    def marker(self) -> str:
        """What the broker's command line contains (its server.properties path)."""
        return str(self.layout.server_properties)

    @property
    def bootstrap(self) -> str | None:
        state = cfg.load_state(self.layout.state_file)
        return state.bootstrap if state else None

    @property
    def mtls_bootstrap(self) -> str | None:
        state = cfg.load_state(self.layout.state_file)
        return f"{cfg.LOOPBACK}:{state.mtls_port}" if state and state.mtls_port else None

    @property
    def material(self) -> SecureMaterial:
        """The TLS files and SCRAM credentials (a secured instance, after its first start)."""
        material = SecureMaterial.load(self.layout.dir)
        if material is None:
            raise BrokerError("the secured broker has not been started yet", key="--secure")
        return material

    def _probe(self, state: cfg.BrokerState, timeout: float) -> ClusterInfo | None:
        if state.mtls_port is None:
            return probe(state.bootstrap, timeout=timeout)
        context = self.material.admin_context()
        return probe(f"{cfg.LOOPBACK}:{state.mtls_port}", timeout=timeout, ssl_context=context)

    def pid(self) -> int | None:
        pid = read_pid(self.layout.pid_file)
        return pid if pid is not None and process_alive(pid, self.marker) else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def installed(self) -> bool:
        return is_installed(self.layout.dist(self.kafka_version))

    def status(self, *, timeout: float = 2.0) -> LocalStatus:
        pid = self.pid()
        state = cfg.load_state(self.layout.state_file)
        bootstrap = state.bootstrap if state else None
        cluster = self._probe(state, timeout) if state and pid else None
        return LocalStatus(
            instance=self.layout.instance,
            installed=self.installed(),
            running=pid is not None,
            pid=pid,
            bootstrap=bootstrap,
            cluster=cluster,
            kafka_version=self.kafka_version,
            log_file=self.layout.server_log,
        )

    # -- control ------------------------------------------------------------------
    def install(self) -> Path:
        """Download the broker if needed; returns the folder of jars."""
        return ensure_installed(self.layout.dist(self.kafka_version))

    def start(self, *, timeout: float = 120.0) -> str:
        """Start the broker unless running; wait until it answers; returns the bootstrap."""
        with file_lock(self.layout.lock, timeout=timeout + 60):
            state = self._state()
            if self.pid() is None:
                libs = self.install()
                java = find_java()
                major = java_major_version(java)
                if major < MIN_JAVA:
                    raise BrokerError(
                        f"java {major} is too old: Kafka needs {MIN_JAVA}+", file=java
                    )
                self._check_ports(state)
                if self.secure and SecureMaterial.load(self.layout.dir) is None:
                    self.layout.dir.mkdir(parents=True, exist_ok=True)
                    SecureMaterial.create(self.layout.dir, self._users)
                self._write_config(state)
                if not (self.layout.data_dir / "meta.properties").is_file():
                    self._format(java, libs, state)
                _log.info(
                    "starting Kafka %s on %s (log: %s)",
                    self.kafka_version, state.bootstrap, self.layout.server_log,
                )  # fmt: skip
                spawn(
                    self._command(java, libs, "kafka.Kafka", str(self.layout.server_properties)),
                    pid_file=self.layout.pid_file,
                    stdout_log=self.layout.stdout_log,
                    cwd=self.layout.dir,
                )
            self._wait_ready(state, timeout)
            return state.bootstrap

    def stop(self, *, timeout: float = 30.0) -> bool:
        """Stop gracefully (SIGKILL after ``timeout``). True if it was running."""
        with file_lock(self.layout.lock, timeout=timeout + 60):
            pid = self.pid()
            if pid is not None:
                terminate(pid, marker=self.marker, timeout=timeout)
            with contextlib.suppress(FileNotFoundError):
                self.layout.pid_file.unlink()
            return pid is not None

    def kill(self) -> bool:
        """SIGKILL the broker, as a crash would. True if it was running."""
        with file_lock(self.layout.lock):
            pid = self.pid()
            if pid is not None:
                kill_now(pid, marker=self.marker)
            with contextlib.suppress(FileNotFoundError):
                self.layout.pid_file.unlink()
            return pid is not None

    # -- helpers --------------------------------------------------------------------
    def _state(self) -> cfg.BrokerState:
        state = cfg.load_state(self.layout.state_file)
        if state is None:
            if self.layout.data_dir.is_dir() and any(self.layout.data_dir.iterdir()):
                raise BrokerError(
                    f"broker data without its state file: delete {self.layout.dir} to start afresh",
                    file=str(self.layout.state_file),
                )
            state = cfg.BrokerState(
                cluster_id=cfg.new_cluster_id(),
                kafka_version=self.kafka_version,
                **self._choose_ports(),
            )
        elif state.kafka_version != self.kafka_version:
            state = cfg.BrokerState(
                state.cluster_id, state.port, state.controller_port, self.kafka_version,
                state.mtls_port,
            )
        if (state.mtls_port is not None) != self.secure:
            raise BrokerError(
                "this broker instance was made " + ("with" if state.mtls_port else "without")
                + " --secure: use another instance or delete it", file=str(self.layout.dir),
            )
        cfg.save_state(self.layout.state_file, state)
        return state

    def _choose_ports(self) -> dict[str, int]:
        port, controller = self._port, self._controller_port
        wants_default = port is None and controller is None
        if (
            wants_default
            and self.layout.instance == DEFAULT_INSTANCE
            and cfg.port_is_free(cfg.DEFAULT_PORT)
            and cfg.port_is_free(cfg.DEFAULT_CONTROLLER_PORT)
        ):
            port, controller = cfg.DEFAULT_PORT, cfg.DEFAULT_CONTROLLER_PORT
        port = port if port is not None else cfg.pick_free_port()
        if controller is None:
            controller = cfg.pick_free_port(avoid=frozenset({port}))
        ports = {"port": port, "controller_port": controller}
        if self.secure:
            ports["mtls_port"] = cfg.pick_free_port(avoid=frozenset({port, controller}))
        return ports

    def _check_ports(self, state: cfg.BrokerState) -> None:
        for port in (state.port, state.controller_port, state.mtls_port):
            if port is None:
                continue
            if not cfg.port_is_free(port):
                raise BrokerError(
                    f"port {port} is in use by another process: free it, or delete "
                    f"{self.layout.dir} to start afresh on new ports",
                    key=str(port),
                )

    def _write_config(self, state: cfg.BrokerState) -> None:
        layout = self.layout
        for folder in (layout.config_dir, layout.data_dir, layout.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        overrides = {}
        if state.mtls_port is not None:
            overrides = secure_properties(
                self.material, host=cfg.LOOPBACK, port=state.port, mtls_port=state.mtls_port,
                controller_port=state.controller_port,
            )
        broker_cfg = cfg.BrokerConfig(
            port=state.port, controller_port=state.controller_port, data_dir=layout.data_dir,
            overrides=overrides,
        )
        layout.server_properties.touch(mode=0o600)  # holds the keystore password if secure
        layout.server_properties.chmod(0o600)
        layout.server_properties.write_text(
            cfg.render_server_properties(broker_cfg), encoding="utf-8"
        )
        layout.log4j_properties.write_text(cfg.render_log4j2(layout.server_log), encoding="utf-8")

    def _command(self, java: str, libs: Path, main: str, *args: str) -> list[str]:
        return [
            java,
            "-Xms256m",
            f"-Xmx{self._heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.layout.log4j_properties}",
            f"-Dkafka.logs.dir={self.layout.log_dir}",
            "-cp",
            f"{libs}/*",
            main,
            *args,
        ]

    def _format(self, java: str, libs: Path, state: cfg.BrokerState) -> None:
        log = self.layout.log_dir / "format.log"
        command = self._command(
            java, libs, "kafka.tools.StorageTool", "format", "--standalone",
            "-t", state.cluster_id, "-c", str(self.layout.server_properties),
            *(self.material.scram_arguments() if state.mtls_port is not None else ()),
        )  # fmt: skip
        with log.open("w", encoding="utf-8") as out:
            try:
                result = subprocess.run(
                    command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    cwd=self.layout.dir, timeout=300, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                raise BrokerError(f"kafka storage format timed out: see {log}") from None
        if result.returncode != 0:
            raise BrokerError(f"kafka storage format failed: see {log}", file=str(log))

    def _wait_ready(self, state: cfg.BrokerState, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self._probe(state, 1.0) is not None:
                return
            pid = read_pid(self.layout.pid_file)
            if pid is None or not process_alive(pid, self.marker):
                raise BrokerError(
                    f"the broker exited during start-up: see {self.layout.server_log} "
                    f"and {self.layout.stdout_log}",
                    file=str(self.layout.server_log),
                )
            if time.monotonic() >= deadline:
                terminate(pid, marker=self.marker, timeout=15)
                raise BrokerError(
                    f"the broker did not answer within {timeout:.0f}s: "
                    f"see {self.layout.server_log}",
                    file=str(self.layout.server_log),
                )
            time.sleep(0.2)
