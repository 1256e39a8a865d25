from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from streamsec.broker import install
from streamsec.broker.layout import DistLayout
from streamsec.errors import BrokerError

POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}

FAKE_MVN = """#!/bin/sh
echo "$@" >> "{calls}"
for a in "$@"; do case "$a" in -DoutputDirectory=*) out="${{a#-DoutputDirectory=}}";; esac; done
echo "[INFO] resolving"
if [ "{fail}" = "1" ]; then echo "[ERROR] Could not resolve dependencies"; exit 1; fi
mkdir -p "$out"
{make_jar}
exit 0
"""


def _script(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    return bin_dir


def _fake_mvn(bin_dir: Path, calls: Path, *, fail: bool = False, jar: bool = True) -> None:
    make_jar = f'touch "$out/kafka_2.13-{install.KAFKA_VERSION}.jar" "$out/kafka-clients.jar"'
    _script(
        bin_dir / "mvn",
        FAKE_MVN.format(calls=calls, fail="1" if fail else "0", make_jar=make_jar if jar else ""),
    )


def test_pom_names_kafka_and_the_log4j_backend() -> None:
    root = ET.fromstring(install.render_pom("4.1.2"))
    deps = {
        (d.findtext("m:groupId", namespaces=POM_NS), d.findtext("m:artifactId", namespaces=POM_NS)):
        d.findtext("m:version", namespaces=POM_NS)
        for d in root.iterfind("m:dependencies/m:dependency", POM_NS)
    }  # fmt: skip
    assert deps == {
        ("org.apache.kafka", "kafka_2.13"): "4.1.2",
        ("org.apache.logging.log4j", "log4j-slf4j-impl"): install.LOG4J_VERSION,
        ("org.apache.logging.log4j", "log4j-core"): install.LOG4J_VERSION,
    }


def test_download_once_then_reuse(tmp_path: Path, fake_bin: Path) -> None:
    calls = tmp_path / "calls.txt"
    _fake_mvn(fake_bin, calls)
    dist = DistLayout(root=tmp_path / "dist", version=install.KAFKA_VERSION)
    assert not install.is_installed(dist)

    libs = install.ensure_installed(dist)
    assert libs == dist.libs
    assert (libs / f"kafka_2.13-{install.KAFKA_VERSION}.jar").is_file()
    assert install.is_installed(dist)
    assert "dependency:copy-dependencies" in calls.read_text()
    assert f"<version>{install.KAFKA_VERSION}</version>" in dist.pom.read_text()

    install.ensure_installed(dist)
    assert len(calls.read_text().splitlines()) == 1  # not downloaded again


def test_mvn_failure_names_the_log(tmp_path: Path, fake_bin: Path) -> None:
    _fake_mvn(fake_bin, tmp_path / "calls.txt", fail=True)
    dist = DistLayout(root=tmp_path / "dist", version=install.KAFKA_VERSION)
    with pytest.raises(BrokerError, match=r"mvn failed \(exit 1\): see .*mvn-") as info:
        install.ensure_installed(dist)
    assert info.value.file == str(dist.mvn_log)
    assert "Could not resolve dependencies" in dist.mvn_log.read_text()
    assert not install.is_installed(dist)


def test_mvn_success_without_the_broker_jar_is_an_error(tmp_path: Path, fake_bin: Path) -> None:
    _fake_mvn(fake_bin, tmp_path / "calls.txt", jar=False)
    dist = DistLayout(root=tmp_path / "dist", version=install.KAFKA_VERSION)
    with pytest.raises(BrokerError, match=r"did not produce kafka_2\.13"):
        install.ensure_installed(dist)
    assert not install.is_installed(dist)


def test_missing_tools_are_clear_errors(fake_bin: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(fake_bin))
    with pytest.raises(BrokerError, match="java not found"):
        install.find_java()
    with pytest.raises(BrokerError, match="mvn not found"):
        install.find_mvn()


def test_java_home_wins_over_path(tmp_path: Path, fake_bin: Path, monkeypatch) -> None:
    java_home = tmp_path / "jdk"
    (java_home / "bin").mkdir(parents=True)
    java = _script(java_home / "bin" / "java", "#!/bin/sh\nexit 0\n")
    _script(fake_bin / "java", "#!/bin/sh\nexit 0\n")
    monkeypatch.setenv("JAVA_HOME", str(java_home))
    assert install.find_java() == str(java)


@pytest.mark.parametrize(
    ("banner", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_292"', 8),
    ],
)
def test_java_major_version(tmp_path: Path, banner: str, major: int) -> None:
    java = _script(tmp_path / "java", f"#!/bin/sh\necho '{banner}' >&2\n")
    assert install.java_major_version(str(java)) == major


def test_unreadable_java_version(tmp_path: Path) -> None:
    java = _script(tmp_path / "java", "#!/bin/sh\necho nonsense\n")
    with pytest.raises(BrokerError, match="cannot read the java version"):
        install.java_major_version(str(java))
