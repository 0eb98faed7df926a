"""Every metric the Grafana dashboard and the alert rules use is exported by a running mesh."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp

from tests.fixtures.mesh import Mesh
from tests.fixtures.procs import process_at

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
_NAME = re.compile(r"\bhiremesh_[a-z0-9_]+")
_SUFFIXES = ("_bucket", "_sum", "_count", "_created", "_total")


def _used_metrics() -> set[str]:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs.append((MONITORING / "alerts.yml").read_text())
    return {name for expr in exprs for name in _NAME.findall(expr)}


def _exported(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            names.add(name)
            if kind == "histogram":
                names.update({f"{name}_bucket", f"{name}_sum", f"{name}_count"})
            if kind == "counter" and not name.endswith("_total"):
                names.add(f"{name}_total")
        elif line and not line.startswith("#"):
            names.add(line.split("{")[0].split(" ")[0])
    return names


async def test_dashboard_and_alert_metrics_exist_in_a_running_mesh(mesh: Mesh) -> None:
    urls = [f"http://127.0.0.1:{mesh.gateway.metrics_port}/metrics"]  # the gateway's Prometheus port
    for addr in (
        mesh.backends.embedding,
        mesh.backends.search,
        mesh.backends.screening,
        mesh.backends.guardrail,
        mesh.backends.analytics,
    ):
        urls.append(f"http://127.0.0.1:{process_at(addr).metrics_port}/metrics")
    exported: set[str] = set()
    async with aiohttp.ClientSession() as http:
        # One real request so per-route families exist on the gateway too.
        async with http.get(f"{mesh.url}/api/v1/jobs", headers=mesh.headers()) as resp:
            assert resp.status == 200
        for url in urls:
            async with http.get(url) as resp:
                assert resp.status == 200, url
                exported |= _exported(await resp.text())
    used = _used_metrics()
    assert used, "the dashboard uses no hiremesh metric"
    missing = sorted(used - exported)
    assert not missing, f"dashboard/alerts use metrics no service exports: {missing}"
