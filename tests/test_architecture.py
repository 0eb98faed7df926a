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
