from __future__ import annotations

from pathlib import Path

import pytest

from streamsec.broker.layout import BrokerLayout
from streamsec.errors import BrokerError


def test_paths_live_under_the_resolved_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    layout = BrokerLayout(Path(".streamsec"), "default")
    assert layout.home == tmp_path / ".streamsec"
    assert layout.dir == tmp_path / ".streamsec" / "kafka" / "default"
    assert layout.server_log.is_relative_to(layout.dir)
    dist = layout.dist("4.1.2")
    assert dist.libs == tmp_path / ".streamsec" / "kafka" / "dist" / "kafka-4.1.2" / "libs"
    assert BrokerLayout(Path(".streamsec"), "other").dist("4.1.2") == dist  # shared download


@pytest.mark.parametrize("name", ["", "../x", "a/b", "-x", "x" * 65, "a b"])
def test_instance_names_cannot_escape_the_home(tmp_path: Path, name: str) -> None:
    with pytest.raises(BrokerError, match="invalid broker instance"):
        BrokerLayout(tmp_path, name)
