"""The deploy/ files are valid: Kubernetes schemas, compose targets, Prometheus rules, Grafana JSON."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
MONITORING = REPO / "deploy" / "monitoring"
K8S_VERSION = "1.33.0"


def _k8s_documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return docs


@pytest.mark.parametrize(("name", "doc"), _k8s_documents(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_manifest_matches_the_kubernetes_schema(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_validator_rejects_a_broken_manifest() -> None:
    doc = yaml.safe_load((K8S / "search.yaml").read_text().split("---")[0])
    doc["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kustomization_lists_every_manifest_and_only_existing_ones() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


def test_grpc_services_have_native_grpc_probes_and_headless_services() -> None:
    docs = dict(_k8s_documents())
    for svc, port in (
        ("embedding", 50051),
        ("search", 50052),
        ("screening", 50053),
        ("guardrail", 50054),
        ("analytics", 50055),
    ):
        deployment = docs[f"{svc}.yaml:Deployment/{svc}"]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["grpc"] == {"port": port, "service": f"hiremesh.v1.{svc.title()}Service"}
        assert container["livenessProbe"]["grpc"]["port"] == port
        assert docs[f"{svc}.yaml:Service/{svc}"]["spec"]["clusterIP"] == "None"
    config = docs["configmap.yaml:ConfigMap/hiremesh-config"]["data"]
    assert all(
        config[f"HIREMESH_{s}_ADDR"].startswith("dns:///")
        for s in ("EMBEDDING", "SEARCH", "SCREENING", "GUARDRAIL", "ANALYTICS")
    )


def test_only_the_gateway_is_open_to_the_outside() -> None:
    docs = dict(_k8s_documents())
    policies = {n: d for n, d in docs.items() if d["kind"] == "NetworkPolicy"}
    deny = policies["networkpolicies.yaml:NetworkPolicy/default-deny-ingress"]
    assert deny["spec"]["podSelector"] == {} and "ingress" not in deny["spec"]
    open_to_all = [d for d in policies.values() for rule in d["spec"].get("ingress", []) if "from" not in rule]
    assert [d["spec"]["podSelector"]["matchLabels"] for d in open_to_all] == [{"app.kubernetes.io/name": "gateway"}]


def test_compose_parses_and_names_only_existing_targets_and_files() -> None:
    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
    dockerfile = (REPO / "deploy" / "docker" / "Dockerfile").read_text()
    targets = set(re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, re.MULTILINE))
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            assert build["target"] in targets, f"{name}: unknown target {build['target']}"
            assert (REPO / "deploy" / build["context"] / build["dockerfile"]).resolve().is_file()
            assert build["target"] == name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / "deploy" / source).exists(), f"{name}: missing {source}"
    # Every COPY source in the Dockerfile exists in the repo.
    for source in re.findall(r"^COPY (?!--from)(?:--\S+ )*(\S+)", dockerfile, re.MULTILINE):
        assert (REPO / source).exists(), f"Dockerfile copies missing {source}"


def test_alert_rules_are_well_formed() -> None:
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    names = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["alert"] not in names
            names.add(rule["alert"])
            assert rule["expr"].strip()
            assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]
            assert rule["labels"]["severity"] in {"warning", "critical"}
            assert rule["annotations"]["summary"]
            assert re.fullmatch(r"\d+[smh]", rule.get("for", "0m"))
    expected = {"error rate", "latency", "backlog", "task failures", "pool", "fallback"}
    text = " ".join(r["annotations"]["summary"].lower() for g in rules["groups"] for r in g["rules"])
    assert all(word in text for word in expected), "an alert class from the runbook is missing"


def test_dashboard_is_valid_json_with_queries() -> None:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    panels = dashboard["panels"]
    assert len(panels) >= 8
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip()


# --- per-service images (issue 19): each target installs only core + its own extra -------------------------------
SERVICE_PACKAGES = {
    "embedding": "embedding_svc",
    "search": "search_svc",
    "screening": "screening_svc",
    "guardrail": "guardrail_svc",
    "analytics": "analytics_svc",
    "gateway": "gateway",
}


def _stages() -> dict[str, tuple[str, str]]:
    """{stage name: (the stage it starts FROM, its instructions)} of the Dockerfile."""
    dockerfile = (REPO / "deploy" / "docker" / "Dockerfile").read_text()
    parts = re.split(r"^FROM (\S+) AS (\S+)$", dockerfile, flags=re.MULTILINE)
    return {parts[i + 1]: (parts[i], parts[i + 2]) for i in range(1, len(parts), 3)}


def _chain(stages: dict[str, tuple[str, str]], name: str) -> str:
    """A stage's instructions with those of every stage it builds on, oldest first."""
    parent, body = stages[name]
    return (_chain(stages, parent) if parent in stages else "") + body


def _copied(text: str) -> set[str]:
    return set(re.findall(r"^COPY (?!--from)(?:--\S+ )*(\S+)", text, re.MULTILINE))


def _installed_extras(text: str) -> list[str]:
    return re.findall(r"pip install '\.\[([^\]]*)\]'", text)


@pytest.mark.parametrize("service", sorted(SERVICE_PACKAGES))
def test_each_service_target_installs_only_its_own_extra_and_package(service: str) -> None:
    stages = _stages()
    assert service in stages, f"Dockerfile has no `{service}` target"
    target = stages[service][1]
    venvs = re.findall(r"^COPY --from=(\S+) (?:--\S+ )*/opt/venv /opt/venv$", target, re.MULTILINE)
    assert venvs == [f"deps-{service}"]
    deps = _chain(stages, f"deps-{service}")
    assert _installed_extras(deps) == [service]
    assert re.findall(r"pip install[^\n]*\s\.(?:\s|$)", deps) == [], "a bare `pip install .` would skip the extra"
    packages = {source for source in _copied(deps) if source not in {"pyproject.toml", "README.md"}}
    # the runtime, the `hiremesh` command (healthchecks run `hiremesh probe`) and the service's own package
    assert packages == {"hiremesh", "hiremesh_ops", SERVICE_PACKAGES[service]}


def test_only_the_embedding_image_carries_the_model_and_only_guardrail_has_spacy() -> None:
    stages = _stages()
    with_model = {name for name, (_, body) in stages.items() if "COPY --from=models" in body}
    assert with_model == {"embedding"}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    with_spacy = {
        extra
        for extra, reqs in project["optional-dependencies"].items()
        if extra in SERVICE_PACKAGES and any(r.startswith(("spacy", "presidio")) for r in reqs)
    }
    assert with_spacy == {"guardrail"}
    assert not any(r.startswith(("spacy", "onnxruntime", "torch")) for r in project["dependencies"])


def test_k8s_images_are_dockerfile_targets_of_their_own_service() -> None:
    stages = _stages()
    for name, doc in _k8s_documents():
        if doc["kind"] not in {"Deployment", "Job"}:
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:
            match = re.fullmatch(r"ghcr\.io/hiremesh/hiremesh-([a-z]+):\S+", container["image"])
            if match is None:
                continue  # third-party images (vLLM)
            assert match.group(1) in stages, f"{name}: no Dockerfile target {match.group(1)}"
            expected = doc["metadata"]["name"].removeprefix("hiremesh-")
            assert match.group(1) == expected, f"{name} runs the {match.group(1)} image"
    migrate = _chain(stages, "deps-migrations")
    assert _installed_extras(migrate) == ["migrate"]
    # `hiremesh migrate` applies the migrations of every package that ships them.
    assert {p for p in _copied(migrate) if (REPO / p / "migrations").is_dir()} == {
        p.parent.name for p in REPO.glob("*/migrations") if (p.parent / "__init__.py").exists()
    }


def test_compose_images_are_named_after_their_target() -> None:
    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
    for name, service in compose["services"].items():
        if "build" in service:
            assert service["image"].split(":")[0] == f"hiremesh/{service['build']['target']}", name
    # A plain `docker build` (no --target) builds the last stage: the gateway, as before the split.
    assert list(_stages())[-1] == "gateway"
