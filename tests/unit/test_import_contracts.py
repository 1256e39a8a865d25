"""The layering, as import contracts (import-linter; pyproject.toml [tool.importlinter]).

* no import cycle between the modules of any package;
* nothing below the worker imports the worker (only the CLI does);
* crypto never imports the key stores built on it (``streamsec.crypto.stores``);
* the pure core (topology, detection, classification, protection, actions, the
  event builders, pipeline, records, crypto, decryption) imports neither a Kafka
  client, Faust nor asyncio.

A broken contract prints import-linter's report (captured by pytest) naming the
offending imports. ``lint-imports`` in the repository root runs the same check.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import importlinter.api  # noqa: F401 (configures import-linter; the [test] extra has it)
import pytest
from importlinter.application import use_cases

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
CONTRACTS = ("no-cycles", "worker-on-top", "crypto-below-keystore", "pure-core")


def test_every_contract_is_configured() -> None:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    assert {c["id"] for c in config["contracts"]} == set(CONTRACTS)
    pure = next(c for c in config["contracts"] if c["id"] == "pure-core")
    assert {"aiokafka", "faust", "asyncio"} <= set(pure["forbidden_modules"])


@pytest.mark.parametrize("contract_id", CONTRACTS)
def test_contract_is_kept(contract_id: str) -> None:
    kept = use_cases.lint_imports(
        config_filename=str(PYPROJECT), limit_to_contracts=(contract_id,), cache_dir=None,
        no_logo=True,
    )
    assert kept, f"import contract {contract_id!r} is broken (report above)"


def test_the_graph_sees_the_imports_the_contracts_forbid() -> None:
    """The contracts can fail: the worker does import Faust and asyncio, and those
    edges are in the graph import-linter checks (external packages included)."""
    import grimp

    graph = grimp.build_graph("streamsec", include_external_packages=True, cache_dir=None)
    assert graph.direct_import_exists(importer="streamsec.worker.agents", imported="faust")
    assert graph.direct_import_exists(importer="streamsec.worker.agents", imported="asyncio")
    assert not graph.direct_import_exists(
        importer="streamsec.protection.protector", imported="asyncio"
    )
