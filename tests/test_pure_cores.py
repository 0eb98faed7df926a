"""Pure cores stay pure: the modules that hold domain policy import no database driver, gRPC or protobuf, not
even through another first-party module (issue 19: pure cores, thin adapters)."""

from __future__ import annotations

import pytest

from tests import import_graph as graph

# Policy modules a test runs on in-memory inputs; their adapters (SQL, protobuf) live beside them.
PURE_CORES = ("search_svc.ranking_policy", "search_svc.fusion", "hiremesh.page_tokens")
IO_LIBRARIES = ("psycopg", "psycopg_pool", "grpc", "google.protobuf", "hiremesh.v1", "aiohttp", "numpy")
# The domain errors every layer raises; the module also maps them to status codes for hiremesh.server (grpc).
SHARED_VOCABULARY = {"hiremesh.errors"}


def _io_imports(name: str) -> set[tuple[str, str]]:
    known = graph.modules()
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen or current not in known or current in SHARED_VOCABULARY:
            continue
        seen.add(current)
        todo.extend(graph.internal_imports(known[current]))
    return {
        (module, imported)
        for module in seen
        for imported in known[module].imports
        if any(imported == lib or imported.startswith(lib + ".") for lib in IO_LIBRARIES)
    }


@pytest.mark.parametrize("core", PURE_CORES)
def test_a_pure_core_reaches_no_io_library(core: str) -> None:
    assert core in graph.modules()
    assert _io_imports(core) == set(), f"{core} must stay free of SQL, gRPC and protobuf"


def test_the_check_sees_an_adapter() -> None:
    assert any(lib == "psycopg" for _, lib in _io_imports("search_svc.ranking_store"))
