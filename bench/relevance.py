"""Relevance on real resumes, through the public REST API, next to TF-IDF and raw MiniLM in the same run.

    PYTHONPATH=. .venv/bin/python bench/relevance.py [--variants fp32 int8] [--out bench/reference/relevance.json]

Starts its own mesh with `hiremesh up` (a fresh HIREMESH_HOME in /tmp, free ports, the evidence engine), so
nothing else in a catalog can change the figures, and for each embedding variant asked for:
1. uploads every labelled resume as a user would (`POST /api/v1/candidates`, multipart): the texts of
   ../shared/data/resumes-dev.csv as .txt files and the files of ../shared/data/resume-files/ as they are
   (a file the API refuses is counted per format and left out);
2. creates one job per category from bench/data/relevance_jobs.json (a title and 2-4 lines each, written
   for this bench as a recruiter would, not from the resumes);
3. text search (`GET /search/candidates?q=<title + description>`) and job-sourced search
   (`GET /jobs/{id}/candidates`) in every mode, and hybrid job-sourced search at several lexical weights:
   precision@5, MRR and nDCG@10, a hit being a resume of the job's category;
4. screens 4 in-category and 4 out-of-category resumes per job with the evidence engine
   (`POST /api/v1/screenings`) and reports the AUC of match_score and of each sub-score per job, averaged;
5. computes the same figures for two baselines over the same texts (the resume text the API stored, the
   same query text): scikit-learn TF-IDF cosine (sublinear tf, English stop words) and raw MiniLM cosine
   (the service's model file, run locally: what "embed both, take the cosine" gives).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import math
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
import numpy as np  # noqa: E402

from tests.fixtures.procs import free_port  # noqa: E402

# ../shared/data next to the checkout (or next to a folder that holds it, for a git worktree)
DATA = next(
    (p / "shared" / "data" for p in REPO.parents if (p / "shared" / "data").is_dir()), REPO.parent / "shared" / "data"
)
JOBS_FILE = REPO / "bench" / "data" / "relevance_jobs.json"
MODES = ("vector", "keyword", "hybrid")
WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)
TOP_K = 10
SCREEN_PER_SIDE = 4
FOLDER_CATEGORIES = (
    ("peoplesoft", "PeopleSoft"),
    ("sql", "SQL Developer"),
    ("workday", "workday"),
    ("react", "React"),
    ("internship", "Internship"),
)


@dataclass
class Resume:
    category: str
    file_name: str
    content: bytes
    candidate_id: str = ""
    text: str = ""


@dataclass
class Ranking:
    p5: list[float] = field(default_factory=list)
    mrr: list[float] = field(default_factory=list)
    ndcg: list[float] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)

    def add(self, ranked: Sequence[str], relevant: set[str], ms: float = 0.0) -> None:
        hits = [r in relevant for r in ranked[:TOP_K]]
        self.p5.append(sum(hits[:5]) / 5)
        self.mrr.append(next((1 / (i + 1) for i, h in enumerate(hits) if h), 0.0))
        ideal = sum(1 / math.log2(i + 2) for i in range(min(TOP_K, len(relevant))))
        self.ndcg.append(sum(1 / math.log2(i + 2) for i, h in enumerate(hits) if h) / ideal if ideal else 0.0)
        if ms:
            self.ms.append(ms)

    def summary(self) -> dict[str, float]:
        out = {
            "p@5": round(statistics.fmean(self.p5), 3),
            "mrr": round(statistics.fmean(self.mrr), 3),
            "ndcg@10": round(statistics.fmean(self.ndcg), 3),
        }
        if self.ms:
            out["p50_ms"] = round(statistics.median(self.ms), 1)
        return out


def auc(scores_in: Sequence[float], scores_out: Sequence[float]) -> float:
    """Probability that an in-category resume scores above an out-of-category one (ties count half)."""
    pairs = [(a > b) + 0.5 * (a == b) for a in scores_in for b in scores_out]
    return sum(pairs) / len(pairs)


def folder_category(path: Path) -> str:
    rel = path.relative_to(DATA / "resume-files")
    name = (rel.parts[0] if len(rel.parts) > 1 else rel.name).lower()
    return next(cat for key, cat in FOLDER_CATEGORIES if key in name)


def load_resumes() -> list[Resume]:
    resumes: list[Resume] = []
    with open(DATA / "resumes-dev.csv", newline="", encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            resumes.append(Resume(row["category"], f"dev-{i:03d}.txt", row["resume"].encode()))
    for path in sorted((DATA / "resume-files").rglob("*")):
        if path.is_file():
            resumes.append(Resume(folder_category(path), path.name, path.read_bytes()))
    return resumes


class Mesh:
    """`hiremesh up` in a fresh home on free ports; stopped (SIGTERM, then its cluster) on exit."""

    def __init__(self, variant: str) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="hiremesh-relevance-", dir="/tmp"))
        self.home.chmod(0o755)
        ports = {
            n: free_port() for n in ("EMBEDDING", "SEARCH", "SCREENING", "GUARDRAIL", "ANALYTICS", "GATEWAY", "PG")
        }
        self.url = f"http://127.0.0.1:{ports['GATEWAY']}/api/v1"
        self.env = {
            **os.environ,
            "HIREMESH_HOME": str(self.home),
            "HIREMESH_SCREENING_ENGINE": "evidence",
            "HIREMESH_EMBEDDING_VARIANT": variant,
            "HIREMESH_GATEWAY_RATE_LIMIT": "0",
            "HIREMESH_MODEL_DIR": os.environ.get("HIREMESH_MODEL_DIR", str(REPO / ".hiremesh" / "models")),
            **{f"HIREMESH_{k}_PORT": str(v) for k, v in ports.items()},
        }
        self.env.pop("HIREMESH_DATABASE_URL", None)
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Mesh:
        self.out = open(self.home / "up.out", "wb")  # closed in __exit__
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hiremesh_ops.cli", "up"],
            cwd=REPO,
            env=self.env,
            stdout=self.out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 600
        while b"hiremesh is up" not in (self.home / "up.out").read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("hiremesh up failed:\n" + (self.home / "up.out").read_text()[-3000:])
            time.sleep(0.5)
        self.token = (self.home / "admin-token").read_text().strip()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        subprocess.run(
            [sys.executable, "-m", "hiremesh_ops.cli", "db", "stop"],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            timeout=120,
        )
        self.out.close()


class Api:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.s = session
        self.base = base

    async def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        async with self.s.request(method, self.base + path, **kw) as resp:
            body = await resp.json(content_type=None) if resp.content_length != 0 else None
            return resp.status, body


async def upload(api: Api, resumes: list[Resume]) -> Counter[str]:
    refused: Counter[str] = Counter()
    gate = asyncio.Semaphore(4)

    async def one(r: Resume) -> None:
        form = aiohttp.FormData()
        form.add_field("resume", r.content, filename=r.file_name)
        async with gate:
            status, body = await api.call("POST", "/candidates", data=form)
        if status in (200, 201):
            r.candidate_id = body["candidate"]["id"]
        else:
            refused[f"{Path(r.file_name).suffix.lower()}: {body.get('error', {}).get('message', status)}"[:140]] += 1

    await asyncio.gather(*(one(r) for r in resumes))
    # Stored text (what the product ranks) and a wait until every vector is written.
    for r in resumes:
        if not r.candidate_id:
            continue
        for _ in range(240):
            _, body = await api.call("GET", f"/candidates/{r.candidate_id}")
            cand = body["candidate"]
            if not cand.get("embedding_stale"):
                break
            await asyncio.sleep(0.5)
        r.text = cand.get("resume_text", "")
    return refused


async def search(api: Api, path: str, params: dict[str, Any]) -> tuple[list[str], float]:
    started = time.perf_counter()
    status, body = await api.call("GET", path, params={k: str(v) for k, v in params.items()})
    ms = (time.perf_counter() - started) * 1000
    if status != 200:
        raise RuntimeError(f"GET {path} {params}: {status} {body}")
    return [h["candidate"]["id"] for h in body.get("hits", [])], ms


async def screen(api: Api, candidate_id: str, job_id: str) -> dict[str, Any]:
    status, body = await api.call(
        "POST", "/screenings", json={"candidate_id": candidate_id, "job_id": job_id, "engine": "ENGINE_EVIDENCE"}
    )
    if status != 202:
        raise RuntimeError(f"POST /screenings: {status} {body}")
    task_id = body["task"]["id"]
    for _ in range(1200):
        _, body = await api.call("GET", f"/screenings/{task_id}")
        task = body["task"]
        if task["state"] in ("TASK_STATE_SUCCEEDED", "TASK_STATE_FAILED", "TASK_STATE_CANCELLED"):
            break
        await asyncio.sleep(0.25)
    if task["state"] != "TASK_STATE_SUCCEEDED":
        raise RuntimeError(f"screening {task_id} ended {task['state']}: {task.get('error')}")
    _, result = await api.call("GET", f"/screening-results/{task['result_id']}")
    analysis: dict[str, Any] = result["result"]["analysis"]
    return analysis


def baselines(queries: list[str], docs: list[str]) -> dict[str, np.ndarray]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from embedding_svc.model import MiniLM

    tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    d = tfidf.fit_transform(docs)
    tf = (tfidf.transform(queries) @ d.T).toarray()
    model_dir = Path(os.environ.get("HIREMESH_MODEL_DIR", REPO / ".hiremesh" / "models")) / "all-MiniLM-L6-v2"
    model = MiniLM(model_dir, threads=2)
    dv = np.stack([e.vector for e in model.embed(docs)])
    qv = np.stack([e.vector for e in model.embed(queries)])
    return {"tfidf": tf, "minilm": qv @ dv.T}


async def run_variant(
    variant: str, resumes: list[Resume], jobs: dict[str, dict[str, str]], rng_seed: int
) -> dict[str, Any]:
    for r in resumes:
        r.candidate_id, r.text = "", ""
    with Mesh(variant) as mesh:
        headers = {"Authorization": f"Bearer {mesh.token}"}
        async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=300)) as session:
            api = Api(session, mesh.url)
            refused = await upload(api, resumes)
            kept = [r for r in resumes if r.candidate_id and r.text.strip()]
            by_cat: dict[str, set[str]] = defaultdict(set)
            for r in kept:
                by_cat[r.category].add(r.candidate_id)
            job_ids: dict[str, str] = {}
            for cat, job in jobs.items():
                status, body = await api.call(
                    "POST", "/jobs", json={"title": job["title"], "description": job["description"]}
                )
                assert status == 201, body
                job_ids[cat] = body["job"]["id"]
            await asyncio.sleep(1.0)  # job vectors: written with the job, but let the catch-up settle
            rankings: dict[str, Ranking] = defaultdict(Ranking)
            for cat, job in jobs.items():
                text = f"{job['title']}\n{job['description']}"
                for mode in MODES:
                    ids, ms = await search(api, "/search/candidates", {"q": text, "mode": mode, "top_k": TOP_K})
                    rankings[f"text {mode}"].add(ids, by_cat[cat], ms)
                    ids, ms = await search(api, f"/jobs/{job_ids[cat]}/candidates", {"mode": mode, "top_k": TOP_K})
                    rankings[f"job {mode}"].add(ids, by_cat[cat], ms)
                for w in WEIGHTS:
                    ids, _ = await search(
                        api, f"/jobs/{job_ids[cat]}/candidates", {"mode": "hybrid", "top_k": TOP_K, "lexical_weight": w}
                    )
                    rankings[f"job hybrid w={w}"].add(ids, by_cat[cat])
            # Screening pairs: 4 in-category, 4 from other categories, the same for every method.
            rng = random.Random(rng_seed)
            pairs: dict[str, tuple[list[Resume], list[Resume]]] = {}
            for cat in jobs:
                inside = [r for r in kept if r.category == cat]
                outside = [r for r in kept if r.category != cat and r.category in jobs]
                pairs[cat] = (
                    rng.sample(inside, min(SCREEN_PER_SIDE, len(inside))),
                    rng.sample(outside, SCREEN_PER_SIDE),
                )
            screened: dict[tuple[str, str], dict[str, Any]] = {}
            for cat, (inside, outside) in pairs.items():
                results = await asyncio.gather(*(screen(api, r.candidate_id, job_ids[cat]) for r in inside + outside))
                for r, analysis in zip(inside + outside, results, strict=True):
                    screened[(cat, r.candidate_id)] = analysis
    # Baselines over the same texts the API stored and the same query text.
    queries = [f"{j['title']}\n{j['description']}" for j in jobs.values()]
    scores = baselines(queries, [r.text for r in kept])
    cats = list(jobs)
    for name, matrix in scores.items():
        for qi, cat in enumerate(cats):
            order = np.argsort(-matrix[qi], kind="stable")
            rankings[f"baseline {name}"].add([kept[i].candidate_id for i in order], by_cat[cat])
    index = {r.candidate_id: i for i, r in enumerate(kept)}
    aucs: dict[str, list[float]] = defaultdict(list)
    for qi, (cat, (inside, outside)) in enumerate(pairs.items()):
        for key in ("match_score", "skills_score", "experience_score", "semantic_score", "lexical_score"):
            if key not in screened[(cat, inside[0].candidate_id)] and key != "match_score":
                continue
            aucs[f"screening {key}"].append(
                auc(
                    [float(screened[(cat, r.candidate_id)].get(key, 0)) for r in inside],
                    [float(screened[(cat, r.candidate_id)].get(key, 0)) for r in outside],
                )
            )
        for name, matrix in scores.items():
            aucs[f"baseline {name}"].append(
                auc(
                    [matrix[qi, index[r.candidate_id]] for r in inside],
                    [matrix[qi, index[r.candidate_id]] for r in outside],
                )
            )
    pair_rows = [
        {
            "job": cat,
            "in_category": r in inside,
            "candidate_id": r.candidate_id,
            **{
                k: screened[(cat, r.candidate_id)].get(k)
                for k in (
                    "match_score",
                    "skills_score",
                    "experience_score",
                    "semantic_score",
                    "lexical_score",
                    "confidence",
                )
            },
        }
        for cat, (inside, outside) in pairs.items()
        for r in inside + outside
    ]
    return {
        "variant": variant,
        "screened_pairs": pair_rows,
        "resumes": {"offered": len(resumes), "ranked": len(kept), "categories": len(jobs), "refused": dict(refused)},
        "ranking": {name: r.summary() for name, r in sorted(rankings.items())},
        "screening_auc": {name: round(statistics.fmean(v), 3) for name, v in sorted(aucs.items())},
    }


def cpu() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text()
        model = next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name"))
        flags = next(line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags"))
        wanted = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if f in flags]
        return f"{model} ({' '.join(wanted)})"
    except (OSError, StopIteration):
        return platform.processor()


def print_table(results: list[dict[str, Any]]) -> None:
    names = list(results[0]["ranking"])
    header = "".join(f"{r['variant']:>28}" for r in results)
    print(f"\n{'ranking (p@5 / MRR / nDCG@10)':34}{header}")
    for name in names:
        cells = "".join(
            f"{r['ranking'][name]['p@5']:>10.3f}{r['ranking'][name]['mrr']:>9.3f}{r['ranking'][name]['ndcg@10']:>9.3f}"
            for r in results
        )
        print(f"{name:34}{cells}")
    print(f"\n{'screening AUC':34}" + "".join(f"{r['variant']:>10}" for r in results))
    for name in results[0]["screening_auc"]:
        print(f"{name:34}" + "".join(f"{r['screening_auc'][name]:>10.3f}" for r in results))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=["fp32"], choices=["fp32", "int8", "auto"])
    parser.add_argument("--seed", type=int, default=11, help="which resumes are screened")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    resumes = load_resumes()
    jobs = json.loads(JOBS_FILE.read_text())
    results = [await run_variant(v, resumes, jobs, args.seed) for v in args.variants]
    print(f"cpu: {cpu()}")
    for r in results:
        print(f"{r['variant']}: {r['resumes']}")
    print_table(results)
    if args.out:
        args.out.write_text(
            json.dumps({"cpu": cpu(), "command": " ".join(sys.argv), "results": results}, indent=2) + "\n"
        )


if __name__ == "__main__":
    asyncio.run(main())
