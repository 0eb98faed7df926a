"""The runtime's public surface: every hiremesh/ module lists it in `__all__`, and nothing else is imported.

Read statically (ast) over every package, the tests and the benchmarks. A name a module outside hiremesh/ takes
from the runtime (`from hiremesh.x import name`, `from hiremesh import x` then `x.name`, `import hiremesh.x`) must
be in that module's `__all__`, and the module itself in `hiremesh.__all__`. The generated stubs (`hiremesh.v1`,
written by `make proto` and checked for drift) are the one exception: their surface is the .proto contract.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests import import_graph as graph

RUNTIME_DIR = graph.REPO / graph.RUNTIME
GENERATED = f"{graph.RUNTIME}.v1"
# Everything outside hiremesh/ that imports from it: the operator tools, the services, tests and benchmarks.
IMPORTERS = (graph.OPS, *graph.SERVICES, "tests", "bench")


def _name(path: Path) -> str:
    return ".".join(path.relative_to(graph.REPO).with_suffix("").parts).removesuffix(".__init__")


@cache
def runtime_modules() -> dict[str, Path]:
    """The hand-written modules of hiremesh/ (the package itself included), by dotted name."""
    return {_name(path): path for path in sorted(RUNTIME_DIR.rglob("*.py")) if not _name(path).startswith(GENERATED)}


def declared_all(path: Path) -> list[str] | None:
    """The string literals of a module-level `__all__ = [...]` (or annotated assignment); None without one."""
    for node in ast.parse(path.read_text(), str(path)).body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            assert isinstance(node, ast.Assign | ast.AnnAssign)  # what has targets above
            value = node.value
            assert isinstance(value, ast.List | ast.Tuple), f"{path}: __all__ is not a literal list"
            names = [e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            assert len(names) == len(value.elts), f"{path}: __all__ holds something other than strings"
            return names
    return None


@cache
def surface(module: str) -> frozenset[str]:
    path = runtime_modules()[module]
    return frozenset(declared_all(path) or ())


def runtime_names_used(source: str, filename: str = "<source>") -> Iterator[tuple[int, str, str]]:
    """(line, runtime module, name) for each runtime name `source` imports or reads off an imported module.

    A module taken whole (`from hiremesh import x`, `import hiremesh.x`) counts as the name x of `hiremesh`;
    attributes read off it (`x.name`) count as names of `hiremesh.x`.
    """
    known = runtime_modules()
    tree = ast.parse(source, filename)
    aliases: dict[str, str] = {}  # local name -> runtime module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module.startswith(GENERATED) or node.module.partition(".")[0] != graph.RUNTIME:
                continue
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                yield node.lineno, node.module, alias.name
                if full in known:
                    aliases[alias.asname or alias.name] = full
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] != graph.RUNTIME or len(parts) == 1 or alias.name.startswith(GENERATED):
                    continue
                yield node.lineno, graph.RUNTIME, parts[1]
                if alias.asname and alias.name in known:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            yield node.lineno, aliases[node.value.id], node.attr


def violations(source: str, filename: str = "<source>") -> set[str]:
    """Each runtime name `source` uses that its module's `__all__` does not list."""
    return {
        f"{filename}:{line}: {module}.{name}"
        for line, module, name in runtime_names_used(source, filename)
        if module in runtime_modules() and name not in surface(module)
    }


def _importer_files() -> Iterator[Path]:
    for top in IMPORTERS:
        yield from sorted((graph.REPO / top).rglob("*.py"))


@pytest.mark.parametrize("module", sorted(runtime_modules()))
def test_every_runtime_module_declares_its_public_surface(module: str) -> None:
    names = declared_all(runtime_modules()[module])
    assert names is not None, f"{module} has no __all__"
    assert len(set(names)) == len(names), f"{module}.__all__ lists a name twice"
    assert not [n for n in names if n.startswith("_")], f"{module}.__all__ lists a private name"


@pytest.mark.parametrize("module", sorted(runtime_modules()))
def test_every_name_in_all_exists(module: str) -> None:
    if module == graph.RUNTIME:  # the package lists its public modules
        missing = [n for n in surface(module) if importlib.util.find_spec(f"{module}.{n}") is None]
    else:
        loaded = importlib.import_module(module)
        missing = [n for n in surface(module) if not hasattr(loaded, n)]
    assert missing == [], f"{module}.__all__ names what it does not define"


def test_code_outside_the_runtime_uses_only_its_public_surface() -> None:
    found: set[str] = set()
    for path in _importer_files():
        found |= violations(path.read_text(), str(path.relative_to(graph.REPO)))
    assert found == set(), "add the name to the module's __all__ if it is meant to be used, else use what is"


def test_the_surface_check_reports_private_names_and_internal_modules() -> None:
    # The check must be able to fail: each form of use below reaches outside a module's __all__.
    source = "\n".join(
        [
            "from hiremesh.skills import _vocabulary, extract_skills",  # a private name beside a public one
            "from hiremesh import skill_index, config",  # an internal module beside a public one
            "import hiremesh.tls as tls",  # an internal module, imported whole
            "from hiremesh import config as hc",
            "hc._PORTS_CACHE, hc.env_int, tls.TlsConfig",  # a private attribute of a public module
            "from hiremesh.v1 import search_pb2",  # the generated stubs: exempt
        ]
    )
    assert violations(source) == {
        "<source>:1: hiremesh.skills._vocabulary",
        "<source>:2: hiremesh.skill_index",
        "<source>:3: hiremesh.tls",
        "<source>:5: hiremesh.config._PORTS_CACHE",
    }
    assert sum(1 for _ in _importer_files()) > 100  # the scan reads the whole repository, not one folder
