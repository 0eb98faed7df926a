"""PII recall and precision on the labelled real resumes, this branch (through the API) next to another build,
and the two builds' full-scan latency side by side. Called by `bench/guardrail.py --labelled` (see its docstring
for the definitions)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

import aiohttp

from hiremesh.skills import canonical_skill

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("HIREMESH_SHARED_DATA", REPO.parents[1] / "shared" / "data"))
WORKER = Path(__file__).with_name("guardrail_worker.py")
RUNS_PER_ROUND = 10
_SKILL_SPLIT = re.compile(r"[,;|•\n\t/()]+|\s-\s|:\s")
Finding = tuple[str, int, int]


def load_records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / "pii-dev.jsonl").read_text().splitlines() if line.strip()]


def spans(record: dict[str, Any], label: str) -> list[tuple[int, int, str]]:
    """Labelled spans as half-open [start, end) (DataTurks' `end` is inclusive)."""
    out = []
    for ann in record.get("annotation") or []:
        if label in ann["label"]:
            for point in ann["points"]:
                out.append((point["start"], point["end"] + 1, point["text"]))
    return out


def _overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def _skill_items(record: dict[str, Any]) -> list[tuple[int, int]]:
    """Character spans of the vocabulary's skill terms inside labelled Skills spans."""
    text = record["content"]
    out = []
    for start, end, _ in spans(record, "Skills"):
        pos = start
        for piece in _SKILL_SPLIT.split(text[start:end]):
            at = text.find(piece, pos, end)
            if at < 0:
                continue
            pos = at + len(piece)
            item = piece.strip(" .-*")
            if item and len(item.split()) <= 4 and canonical_skill(item):
                left = at + piece.index(item)
                out.append((left, left + len(item)))
    return out


def score(records: list[dict[str, Any]], findings: list[list[Finding]]) -> dict[str, Any]:
    hits = {"name": [0, 0], "location": [0, 0], "email_or_link": [0, 0]}
    wanted = {
        "name": ("Name", {"PERSON"}),
        "location": ("Location", {"LOCATION", "STREET_ADDRESS"}),
        "email_or_link": ("Email Address", {"EMAIL_ADDRESS", "URL", "SOCIAL_PROFILE"}),
    }
    ner_total = ner_on_work = crossing = leaked = skills_blanked = skill_items = 0
    examples: list[str] = []
    for record, found in zip(records, findings, strict=True):
        text = record["content"]
        for key, (label, types) in wanted.items():
            for start, end, value in spans(record, label):
                if key == "location" and ("/" in value or "indeed" in value.lower()):
                    continue
                ok = any(t in types and _overlaps(s, e, start, end) for t, s, e in found)
                hits[key][0] += ok
                hits[key][1] += 1
                if key == "location" and not any(_overlaps(s, e, start, end) for _, s, e in found):
                    leaked += 1
        work = [
            (s, e) for label in ("Skills", "Companies worked at", "Designation") for s, e, _ in spans(record, label)
        ]
        for t, s, e in found:
            if t not in ("PERSON", "LOCATION"):
                continue
            ner_total += 1
            if "\n" in text[s:e]:
                crossing += 1
            if any(_overlaps(s, e, a, b) for a, b in work):
                ner_on_work += 1
                if len(examples) < 12:
                    examples.append(f"{t}: {text[s:e]!r}")
        for a, b in _skill_items(record):
            skill_items += 1
            skills_blanked += any(t in ("PERSON", "LOCATION") and _overlaps(s, e, a, b) for t, s, e in found)
    out: dict[str, Any] = {key: {"recall": round(c / n, 3) if n else None, "n": n} for key, (c, n) in hits.items()}
    out["person_or_location_on_skills_companies_titles"] = {
        "share": round(ner_on_work / ner_total, 3) if ner_total else None,
        "n": ner_total,
        "examples": examples,
    }
    out["person_or_location_across_line_break"] = crossing
    out["labelled_places_leaked_by_redaction"] = leaked
    out["labelled_skill_items_blanked"] = {"count": skills_blanked, "of": skill_items}
    return out


# --- builds -----------------------------------------------------------------------------------------------
def export_tree(ref: str) -> Path:
    """The packages a guardrail build imports, as of `ref`, in a temporary folder (git archive; no worktree)."""
    folder = Path(tempfile.mkdtemp(prefix="hiremesh-guardrail-"))
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "guardrail_svc", "hiremesh"], cwd=REPO, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


class Worker:
    def __init__(self, label: str, tree: Path) -> None:
        self.label = label
        env = {**os.environ, "PYTHONPATH": str(tree)}
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER)], cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert json.loads(self._read()) == {"ready": True}

    def _read(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.label} worker exited ({self.proc.wait()})")
        return line

    def call(self, **command: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        reply: dict[str, Any] = json.loads(self._read())
        return reply

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(30)


async def api_findings(gateway: str, token: str, texts: list[str]) -> list[list[Finding]]:
    out: list[list[Finding]] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        for text in texts:
            async with session.post(f"{gateway}/api/v1/guardrail/scan", json={"text": text}, headers=headers) as resp:
                body = await resp.json()
                if resp.status != 200:
                    raise RuntimeError(f"scan: HTTP {resp.status} {body}")
            out.append(
                [(f["entity_type"], int(f.get("start", 0)), int(f["end"])) for f in body["report"].get("pii", [])]
            )
    return out


def _p50(samples: list[float]) -> float:
    return round(statistics.median(samples), 2)


def run_labelled(gateway: str, baseline_ref: str, rounds: int, resume: str) -> dict[str, Any]:
    records = load_records()
    texts = [r["content"] for r in records]
    home = Path(os.environ.get("HIREMESH_HOME", REPO / ".hiremesh"))
    token = (home / "admin-token").read_text().strip()
    results: dict[str, Any] = {
        "resumes": len(records),
        "baseline_ref": baseline_ref,
        "cpu": _cpu_model(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    results["this_branch_via_api"] = score(records, asyncio.run(api_findings(gateway.rstrip("/"), token, texts)))

    baseline = Worker(baseline_ref, export_tree(baseline_ref))
    ours = Worker("this branch", REPO)
    try:
        results["workers"] = {w.label: w.call(op="where")["guardrail_svc"] for w in (baseline, ours)}
        results[f"{baseline_ref}_in_process"] = score(
            records, [[tuple(f) for f in fs] for fs in baseline.call(op="pii", texts=texts)["findings"]]
        )
        results["this_branch_in_process"] = score(
            records, [[tuple(f) for f in fs] for fs in ours.call(op="pii", texts=texts)["findings"]]
        )
        examples: list[dict[str, str]] = []
        for text in texts[:40]:
            head = text[:260]
            old, new = baseline.call(op="redact", text=head)["text"], ours.call(op="redact", text=head)["text"]
            if old != new and len(examples) < 4:
                examples.append({baseline_ref: old, "this branch": new})
        results["redaction_examples"] = examples
        # Alternate the builds round by round (warm-up first) so drift in machine load hits both alike.
        for worker in (baseline, ours):
            worker.call(op="time", text=resume, runs=5)
        samples: dict[str, list[float]] = {baseline.label: [], ours.label: []}
        ratios = []
        for _ in range(rounds):
            medians = {}
            for worker in (baseline, ours):
                ms = worker.call(op="time", text=resume, runs=RUNS_PER_ROUND)["ms"]
                samples[worker.label].extend(ms)
                medians[worker.label] = statistics.median(ms)
            ratios.append(medians[ours.label] / medians[baseline.label])
        results["full_scan_500_words"] = {
            "resume_words": len(resume.split()),
            f"{baseline_ref}_p50_ms": _p50(samples[baseline.label]),
            "this_branch_p50_ms": _p50(samples[ours.label]),
            "ratio_of_p50": round(
                statistics.median(samples[ours.label]) / statistics.median(samples[baseline.label]), 3
            ),
            "median_of_round_ratios": round(statistics.median(ratios), 3),
            "rounds": rounds,
            "runs_per_round": RUNS_PER_ROUND,
        }
    finally:
        baseline.close()
        ours.close()
    results["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return ""
