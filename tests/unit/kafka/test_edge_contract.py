"""The Kafka edge is the only place that builds a Kafka client, and the layers point one
way: consumer/ and lifecycle/ import nothing from worker/, and no streamsec modules
import each other in a cycle (imports inside functions included)."""

from __future__ import annotations

import ast
from pathlib import Path

import streamsec

ROOT = Path(streamsec.__file__).parent
CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient", "App"}


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        out[name] = ast.parse(path.read_text(encoding="utf-8"))
    return out


MODULES = _modules()


def _imports(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in MODULES}


def test_only_the_kafka_edge_builds_kafka_clients() -> None:
    builders = set()
    for name, tree in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in CLIENTS - {"App"} or called == "WorkerApp" or (
                    called == "App" and isinstance(func, ast.Attribute)
                    and getattr(func.value, "id", "") == "faust"
                ):
                    builders.add(name)
    # the Faust app (worker/app.py: WorkerApp, a faust.App) takes its credentials from
    # streamsec.kafka
    assert builders == {"streamsec.kafka.clients", "streamsec.worker.app"}


def test_consumer_and_lifecycle_import_nothing_from_worker() -> None:
    for name, tree in MODULES.items():
        if name.startswith(("streamsec.consumer", "streamsec.lifecycle")):
            assert not {m for m in _imports(tree) if m.startswith("streamsec.worker")}, name


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def test_no_import_cycle_between_modules() -> None:
    # a package's __init__ importing its own modules (re-exports) is not a cycle of roles
    graph = {
        name: {m for m in _imports(tree) if not m.startswith(name + ".") and m != name
               and not name.startswith(m + ".")}
        for name, tree in MODULES.items()
    }
    assert _cycles(graph) == []
