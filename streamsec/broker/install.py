"""Download the Apache Kafka broker once, with Maven, into the streamsec home.

``org.apache.kafka:kafka_2.13`` carries the broker (``kafka.Kafka``) and the storage
tool (``kafka.tools.StorageTool``); its published dependencies are complete except
for a logging backend, so the pom adds log4j2 behind slf4j. ``mvn
dependency:copy-dependencies`` then copies the whole runtime classpath into one
folder. Maven keeps its own cache (``~/.m2``), so a new home re-downloads nothing.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from string import Template

from streamsec.broker.layout import DistLayout
from streamsec.broker.locks import file_lock
from streamsec.errors import BrokerError

__all__ = [
    "DEPENDENCY_PLUGIN_VERSION",
    "KAFKA_VERSION",
    "LOG4J_VERSION",
    "MIN_JAVA",
    "SCALA_VERSION",
    "ensure_installed",
    "find_java",
    "find_mvn",
    "is_installed",
    "java_major_version",
    "render_pom",
]

KAFKA_VERSION = "4.1.2"
SCALA_VERSION = "2.13"
LOG4J_VERSION = "2.24.3"
DEPENDENCY_PLUGIN_VERSION = "3.8.1"
MIN_JAVA = 17
_log = logging.getLogger(__name__)
_NO_LOCAL = "or point STREAMSEC_BROKER at an existing cluster"
_VERSION_RE = re.compile(r'version "(\d+)(?:\.(\d+))?')


def find_java() -> str:
    """The ``java`` to run: ``$JAVA_HOME/bin/java`` if set, else the one on ``PATH``."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("java")
    if found is None:
        raise BrokerError(
            f"java not found: install a JDK {MIN_JAVA}+ (or set JAVA_HOME), {_NO_LOCAL}"
        )
    return found


def java_major_version(java: str) -> int:
    """The major version of ``java`` (8 for ``1.8.0_x``, 17 for ``17.0.x``)."""
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BrokerError(f"cannot run java: {type(exc).__name__}", file=java) from None
    match = _VERSION_RE.search(out.stderr + out.stdout)
    if match is None:
        raise BrokerError("cannot read the java version", file=java)
    major = int(match.group(1))
    if major == 1 and match.group(2):
        major = int(match.group(2))
    return major


def find_mvn() -> str:
    """The ``mvn`` on ``PATH``."""
    found = shutil.which("mvn")
    if found is None:
        raise BrokerError(f"mvn not found: install Apache Maven 3.6+, {_NO_LOCAL}")
    return found


def render_pom(kafka_version: str = KAFKA_VERSION) -> str:
    """The pom that resolves the broker classpath of ``kafka_version``."""
    template = resources.files("streamsec.broker").joinpath("kafka-pom.xml").read_text("utf-8")
    return Template(template).substitute(
        kafka_version=kafka_version,
        scala_version=SCALA_VERSION,
        log4j_version=LOG4J_VERSION,
        dependency_plugin_version=DEPENDENCY_PLUGIN_VERSION,
    )


def is_installed(dist: DistLayout) -> bool:
    """True once a download completed (the marker is written last)."""
    return dist.complete_marker.is_file() and dist.libs.is_dir()


def ensure_installed(dist: DistLayout, *, timeout: float = 1800.0) -> Path:
    """Download Kafka ``dist.version`` if needed; returns the folder of jars.

    Safe to call from several processes at once: one downloads, the others wait.
    """
    if is_installed(dist):
        return dist.libs
    with file_lock(dist.lock, timeout=timeout):
        if is_installed(dist):
            return dist.libs
        _download(dist, timeout=timeout)
    return dist.libs


def _download(dist: DistLayout, *, timeout: float) -> None:
    mvn = find_mvn()
    _log.info("downloading Kafka %s with Maven (log: %s)", dist.version, dist.mvn_log)
    dist.dir.mkdir(parents=True, exist_ok=True)
    dist.pom.write_text(render_pom(dist.version), encoding="utf-8")
    partial = dist.dir / "libs.partial"
    shutil.rmtree(partial, ignore_errors=True)
    command = [
        mvn,
        "-B",
        "--no-transfer-progress",
        "-f",
        str(dist.pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={partial}",
        "-DincludeScope=runtime",
    ]
    with dist.mvn_log.open("w", encoding="utf-8") as log:
        try:
            result = subprocess.run(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=dist.dir,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise BrokerError(
                f"mvn timed out after {timeout:.0f}s: see {dist.mvn_log}", file=str(dist.mvn_log)
            ) from None
    if result.returncode != 0:
        raise BrokerError(
            f"mvn failed (exit {result.returncode}): see {dist.mvn_log}", file=str(dist.mvn_log)
        )
    main_jar = partial / f"kafka_{SCALA_VERSION}-{dist.version}.jar"
    if not main_jar.is_file():
        raise BrokerError(
            f"mvn did not produce {main_jar.name}: see {dist.mvn_log}", file=str(dist.mvn_log)
        )
    shutil.rmtree(dist.libs, ignore_errors=True)
    partial.rename(dist.libs)
    dist.complete_marker.write_text(dist.version + "\n", encoding="utf-8")
