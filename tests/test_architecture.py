"""The layout's rules, read from the source (ast): the documented gRPC call graph and the one-way imports."""

from __future__ import annotations

import ast
import re

import pytest

from tests import import_graph as graph

ARCHITECTURE = graph.REPO / "docs" / "ARCHITECTURE.md"
NAMES = {"embedding", "search", "screening", "guardrail", "analytics"}


def documented_calls() -> dict[str, set[str]]:
    """service -> services it calls, from the "gRPC call graph" table of docs/ARCHITECTURE.md."""
    text = ARCHITECTURE.read_text()
    section = text.split("### gRPC call graph", 1)[1]
    table: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] in graph.SERVICES:
            table[cells[0]] = set(re.findall(r"\w+", cells[1])) & NAMES
        elif table and not line.startswith("|"):
            break
    return table


def test_the_documented_call_graph_is_the_one_the_services_build() -> None:
    documented = documented_calls()
    assert set(documented) == set(graph.SERVICES), "every service has a row in the call graph table"
    built = {service: graph.grpc_calls(service) for service in graph.SERVICES}
    assert documented == built


def test_the_call_graph_reader_sees_lazy_and_indirect_clients() -> None:
    # screening builds its embedding client inside a function and its analytics client through an imported tool:
    # a reader that missed either would let the table drift without failing.
    assert {"embedding", "analytics"} <= graph.grpc_calls("screening_svc")
    assert graph.grpc_calls("embedding_svc") == set()


# The one-way import rule (DESIGN.md): which top-level packages each one may import besides itself. The runtime
# imports no other first-party package, a service only the runtime (what it needs from another service it asks
# over gRPC), the operator tools anything.
MAY_IMPORT = {
    graph.RUNTIME: set(),
    **{service: {graph.RUNTIME} for service in graph.SERVICES},
    graph.OPS: set(graph.PACKAGES),
}


def _edges_between_packages() -> set[tuple[str, str]]:
    """(importer, imported module) pairs of the first-party source whose top-level packages differ."""
    return {
        (name, imported)
        for name, module in graph.modules().items()
        for imported in graph.internal_imports(module)
        if graph.top_package(imported) != graph.top_package(name)
    }


def _forbidden(source: str, edges: set[tuple[str, str]] | None = None) -> set[tuple[str, str]]:
    """The import edges out of package `source` (of `edges`, by default the source's) MAY_IMPORT does not allow."""
    edges = _edges_between_packages() if edges is None else edges
    return {
        (importer, imported)
        for importer, imported in edges
        if graph.top_package(importer) == source and graph.top_package(imported) not in MAY_IMPORT[source]
    }


def test_every_package_has_an_import_rule() -> None:
    # A new top-level package would otherwise import (and be imported) with no rule at all.
    packages = {graph.top_package(name) for name in graph.modules()}
    assert packages == set(MAY_IMPORT) == set(graph.PACKAGES)


def test_no_service_imports_another_service_or_the_operator_tools() -> None:
    # What a service needs from another it asks over gRPC, or the shared piece lives in hiremesh/ (DESIGN.md); the
    # operator tools are not in a service's process at all.
    assert set().union(*(_forbidden(service) for service in graph.SERVICES)) == set()


def test_the_runtime_imports_no_service_and_no_operator_tool() -> None:
    # hiremesh/ is the runtime every service imports: importing a service or hiremesh_ops/ from it would load that
    # code (and its dependencies) into every service.
    assert _forbidden(graph.RUNTIME) == set()


def test_the_import_rules_catch_a_forbidden_edge() -> None:
    # The rules must be able to fail: the operator tools' real edges (to the runtime and to services) are allowed
    # out of hiremesh_ops/, and the same edges are reported once their importer sits in a service or the runtime.
    ops_edges = {
        (importer, imported)
        for importer, imported in _edges_between_packages()
        if graph.top_package(importer) == graph.OPS
    }
    assert ("hiremesh_ops.users_cli", "gateway.users") in ops_edges  # imported inside a function
    assert _forbidden(graph.OPS) == set()
    for source in (graph.RUNTIME, "search_svc"):
        moved = {(importer.replace(graph.OPS, source, 1), imported) for importer, imported in ops_edges}
        assert "gateway.users" in {imported for _, imported in _forbidden(source, moved)}, source


def test_the_import_reader_sees_every_kind_of_import() -> None:
    # Lazy (in a function), relative and `from package import module` imports all count as edges.
    screening_main = graph.modules()["screening_svc.__main__"]
    assert "screening_svc.pipeline" in graph.internal_imports(screening_main)  # imported inside a function
    guardrail_report = graph.modules()["guardrail_svc.report"]
    assert "hiremesh.analysis" in graph.internal_imports(guardrail_report)
    cli = graph.modules()["hiremesh_ops.cli"]
    assert "hiremesh_ops.llm_server" in graph.internal_imports(cli)  # `from hiremesh_ops.x import y` in a function


def test_production_code_has_no_test_switch() -> None:
    # Test-only behaviour is patched in by tests/fixtures/service_hooks.py; a HIREMESH_*TEST* variable read by a
    # service would be a switch anyone could flip in production.
    pattern = re.compile(r"HIREMESH_\w*TEST\w*")
    found = {
        (name, match) for name, module in graph.modules().items() for match in pattern.findall(module.path.read_text())
    }
    assert found == set()


# Functions of hiremesh.config (and os) that read the process environment.
_ENV_READS = {
    "env_str",
    "env_int",
    "env_float",
    "env_bool",
    "env_choice",
    "env_path",
    "service_addr",
    "service_port",
    "database_url",
    "getenv",
}
# Modules that touch os.environ without reading a setting: search's parser pool hands its environment to the
# child process it starts.
_PASSES_THE_ENVIRONMENT_ON = {"search_svc.parse_pool"}


def _environment_readers(package: str) -> set[str]:
    readers = set()
    for name, module in graph.modules().items():
        if graph.top_package(name) != package:
            continue
        for node in ast.walk(ast.parse(module.path.read_text())):
            called = node.func if isinstance(node, ast.Call) else None
            label = (
                called.id
                if isinstance(called, ast.Name)
                else called.attr
                if isinstance(called, ast.Attribute)
                else None
            )
            if label in _ENV_READS or (isinstance(node, ast.Attribute) and node.attr == "environ"):
                readers.add(name)
    return readers


@pytest.mark.parametrize("service", graph.SERVICES)
def test_every_setting_comes_through_the_service_config(service: str) -> None:
    # A setting read where it is used bypasses the config object: no start-up check, no one list of settings.
    readers = _environment_readers(service) - _PASSES_THE_ENVIRONMENT_ON
    assert {name for name in readers if name.rsplit(".", 1)[-1] != "config"} == set()


def test_the_environment_reader_sees_every_way_of_reading() -> None:
    # hiremesh.config reads through os.environ and hiremesh_ops' CLI through the env_* helpers.
    assert "hiremesh.config" in _environment_readers("hiremesh")
    assert _environment_readers("hiremesh_ops") - {"hiremesh_ops.config"}
