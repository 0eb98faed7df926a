"""The repository's import graph and gRPC client constructions, read statically (ast), for the layout tests.

Every import counts, also one inside a function (a lazy import still ties the packages together) and one under
`if TYPE_CHECKING` (the type names another package's code).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("embedding_svc", "search_svc", "screening_svc", "guardrail_svc", "analytics_svc", "gateway")
RUNTIME = "hiremesh"  # what every service imports
OPS = "hiremesh_ops"  # the operator tools (the `hiremesh` command), at the top of the graph
PACKAGES = (RUNTIME, OPS, *SERVICES)
# The stub factories of hiremesh.clients and the generated stub classes, by the service they reach.
STUB_FACTORIES = {f"{name}_stub": name for name in ("embedding", "search", "guardrail", "screening", "analytics")}
STUB_CLASSES = {
    f"{name.capitalize()}Service{kind}": name
    for name in ("embedding", "search", "guardrail", "screening", "analytics")
    for kind in ("Stub", "AsyncStub")
}


@dataclass(frozen=True)
class Module:
    name: str  # dotted
    path: Path
    imports: frozenset[str]  # dotted names as written (a `from a.b import c` gives a.b and a.b.c)
    clients: frozenset[str]  # services whose stub this module constructs


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _called_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _parse(path: Path) -> Module:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    imports: set[str] = set()
    clients: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            imports.add(base)
            imports.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call):
            called = _called_name(node)
            if called in STUB_FACTORIES:
                clients.add(STUB_FACTORIES[called])
            elif called in STUB_CLASSES:
                clients.add(STUB_CLASSES[called])
    return Module(name, path, frozenset(imports), frozenset(clients))


@cache
def modules() -> dict[str, Module]:
    """Every first-party module (services, the runtime, operator tools) except the generated stubs.

    Every package at the top of the repository counts, not only those of PACKAGES, so a new one shows up in the
    layout tests (which give each package of PACKAGES its rule) instead of escaping them.
    """
    found: dict[str, Module] = {}
    for top in sorted(REPO.iterdir()):
        if not (top / "__init__.py").is_file() or top.name in ("tests", "bench"):
            continue
        for path in sorted(top.rglob("*.py")):
            if "v1" in path.relative_to(REPO).parts[:2] and path.parent.name == "v1":
                continue
            module = _parse(path)
            found[module.name] = module
    return found


def top_package(dotted: str) -> str:
    return dotted.partition(".")[0]


def internal_imports(module: Module) -> set[str]:
    """The first-party modules `module` imports (a `from pkg import name` of a non-module resolves to pkg)."""
    known = modules()
    out = set()
    for name in module.imports:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module.name:
            out.add(name)
    return out


def reachable(start: Iterable[str]) -> set[str]:
    """Modules reachable from `start` over imports (importing a.b.c also runs a and a.b)."""
    known = modules()
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen or name not in known:
            continue
        seen.add(name)
        todo.extend(internal_imports(known[name]))
        parent = name.rpartition(".")[0]
        if parent:
            todo.append(parent)
    return seen


def grpc_calls(service: str) -> set[str]:
    """The services `python -m <service>` builds a gRPC client for, in any module its process loads."""
    known = modules()
    # hiremesh.clients defines the factories (each constructs its stub class): a call of one is what counts.
    loaded = reachable([f"{service}.__main__"]) - {"hiremesh.clients"}
    called = set().union(*(known[name].clients for name in loaded))
    return called - {service.removesuffix("_svc")}
