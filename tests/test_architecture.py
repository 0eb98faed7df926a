"""The layout's rules, read from the source (ast): the documented gRPC call graph and the one-way imports."""

from __future__ import annotations

import re

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


# Known violations of the one-way import rule, left for the operator-tools package of issue 19 item 1 (the CLI
# moves out of hiremesh/ to the top of the graph). Each entry is (importer, imported module); remove an entry when
# its import is gone. Anything not listed here fails.
KNOWN_RUNTIME_TO_SERVICE = {
    ("hiremesh.cli", "screening_svc.llm_server"),  # issue 19: `hiremesh up --local-llm` launches the LLM server
    ("hiremesh.users_cli", "gateway.tokens"),  # issue 19: `hiremesh users` manages the gateway's API keys
    ("hiremesh.users_cli", "gateway.users"),
}


def _cross_imports() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(service -> other service, hiremesh -> service) import edges of the first-party source."""
    between_services: set[tuple[str, str]] = set()
    runtime_to_service: set[tuple[str, str]] = set()
    for name, module in graph.modules().items():
        source = graph.top_package(name)
        for imported in graph.internal_imports(module):
            target = graph.top_package(imported)
            if target not in graph.SERVICES or target == source:
                continue
            if source in graph.SERVICES:
                between_services.add((name, imported))
            elif source == graph.RUNTIME:
                runtime_to_service.add((name, imported))
    return between_services, runtime_to_service


def test_no_service_imports_another_service() -> None:
    # What a service needs from another it asks over gRPC, or the shared piece lives in hiremesh/ (DESIGN.md).
    between_services, _ = _cross_imports()
    assert between_services == set()


def test_the_runtime_imports_no_service() -> None:
    _, runtime_to_service = _cross_imports()
    new = runtime_to_service - KNOWN_RUNTIME_TO_SERVICE
    assert new == set(), "hiremesh/ is the runtime every service imports: it must not import a service"
    gone = KNOWN_RUNTIME_TO_SERVICE - runtime_to_service
    assert gone == set(), "a known violation is fixed: remove it from KNOWN_RUNTIME_TO_SERVICE"


def test_the_import_reader_sees_every_kind_of_import() -> None:
    # Lazy (in a function), relative and `from package import module` imports all count as edges.
    screening_main = graph.modules()["screening_svc.__main__"]
    assert "screening_svc.pipeline" in graph.internal_imports(screening_main)  # imported inside a function
    guardrail_report = graph.modules()["guardrail_svc.report"]
    assert "hiremesh.analysis" in graph.internal_imports(guardrail_report)


def test_production_code_has_no_test_switch() -> None:
    # Test-only behaviour is patched in by tests/fixtures/service_hooks.py; a HIREMESH_*TEST* variable read by a
    # service would be a switch anyone could flip in production.
    pattern = re.compile(r"HIREMESH_\w*TEST\w*")
    found = {(name, match) for name, module in graph.modules().items()
             for match in pattern.findall(module.path.read_text())}
    assert found == set()
