"""A synthetic hiring history written straight into the catalog and screening tables with COPY.

Used by the tests (a history whose hires depend on the AI scores, so a model can learn it) and by
bench/analytics.py (a million applications). Hire odds rise with the match score and with experience above
the job's requirement; time to decision shrinks as the score rises.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

SKILLS = [
    "python",
    "sql",
    "go",
    "rust",
    "java",
    "kubernetes",
    "docker",
    "aws",
    "react",
    "typescript",
    "spark",
    "airflow",
    "terraform",
    "pytorch",
    "pandas",
    "postgresql",
    "kafka",
    "graphql",
]
TITLES = [
    "Data Engineer",
    "Backend Engineer",
    "Frontend Engineer",
    "ML Engineer",
    "Site Reliability Engineer",
    "Product Manager",
    "Data Scientist",
    "Platform Engineer",
]


@dataclass(frozen=True)
class Sizes:
    candidates: int
    jobs: int
    applications: int


def uuid_strings(kind: int, start: int, count: int) -> list[str]:
    """Deterministic ids: `kind` in the high half, a counter in the low half (32 hex digits)."""
    return [f"{kind:016x}{i:016x}" for i in range(start, start + count)]


def _pg_array(rng: np.random.Generator, sizes: np.ndarray) -> list[str]:
    vocab = np.array(SKILLS)
    return ["{" + ",".join(rng.choice(vocab, size=int(k), replace=False)) + "}" for k in sizes]


def _copy(conn: psycopg.Connection, table: str, data: pa.Table) -> None:
    buf = io.BytesIO()
    pacsv.write_csv(data, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    columns = ", ".join(data.column_names)
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
        view = buf.getbuffer()
        for offset in range(0, len(view), 8 << 20):
            copy.write(view[offset : offset + (8 << 20)])


def _ts(seconds: np.ndarray) -> pa.Array:
    return pa.array((seconds * 1e6).astype("int64"), pa.int64()).cast(pa.timestamp("us", tz="UTC"))


def seed(
    url: str, sizes: Sizes, *, seed: int = 7, now: datetime | None = None, chunk: int = 250_000, id_offset: int = 0
) -> None:
    """Write `sizes` rows into catalog.candidates/jobs/applications and screening.results.

    Ids count up from `id_offset`, so a second call with a larger offset adds a disjoint history.
    """
    if -(-sizes.applications // sizes.candidates) > sizes.jobs:
        raise ValueError("applications / candidates must not exceed jobs: each (candidate, job) pair applies once")
    rng = np.random.default_rng(seed)
    now_s = (now or datetime.now(UTC)).timestamp()
    with psycopg.connect(url, autocommit=True) as conn:
        cand_years = rng.uniform(0, 20, sizes.candidates).round(1)
        cand_skills = rng.integers(1, 10, sizes.candidates)
        created = now_s - 400 * 86400 + rng.uniform(0, 10 * 86400, sizes.candidates)
        _copy(
            conn,
            "catalog.candidates",
            pa.table(
                {
                    "id": uuid_strings(0xC, id_offset, sizes.candidates),
                    "name": [f"Candidate {i}" for i in range(sizes.candidates)],
                    "years_experience": cand_years,
                    "skills": _pg_array(rng, cand_skills),
                    "created_at": _ts(created),
                    "updated_at": _ts(created),
                }
            ),
        )
        job_min = rng.choice([0.0, 1.0, 2.0, 3.0, 5.0, 8.0], sizes.jobs)
        job_created = now_s - 390 * 86400 + rng.uniform(0, 86400, sizes.jobs)
        _copy(
            conn,
            "catalog.jobs",
            pa.table(
                {
                    "id": uuid_strings(0xA, id_offset, sizes.jobs),
                    "title": [TITLES[i % len(TITLES)] for i in range(sizes.jobs)],
                    "company": [f"Company {i % 37}" for i in range(sizes.jobs)],
                    "min_experience": job_min,
                    "max_experience": job_min + 5,
                    "required_skills": _pg_array(rng, rng.integers(2, 6, sizes.jobs)),
                    "created_at": _ts(job_created),
                    "updated_at": _ts(job_created),
                }
            ),
        )
        for start in range(0, sizes.applications, chunk):
            _seed_applications(
                conn, rng, sizes, start, min(chunk, sizes.applications - start), now_s, cand_years, job_min, id_offset
            )


def _seed_applications(
    conn: psycopg.Connection,
    rng: np.random.Generator,
    sizes: Sizes,
    start: int,
    n: int,
    now_s: float,
    cand_years: np.ndarray,
    job_min: np.ndarray,
    off: int,
) -> None:
    idx = np.arange(start, start + n)
    # Application i pairs candidate i % C with a job chosen so every (candidate, job) pair is distinct.
    cand = idx % sizes.candidates
    job = (idx // sizes.candidates + cand * 7) % sizes.jobs
    match = np.clip(rng.normal(60, 16, n), 0, 100).round().astype(np.int64)
    years_gap = cand_years[cand] - job_min[job]
    missing = np.clip(rng.poisson(np.maximum(0.2, (100 - match) / 25)), 0, 6)
    logit = (match - 68) / 6 + 0.25 * np.clip(years_gap, -5, 5) - 0.4 * missing
    hired = rng.random(n) < 1 / (1 + np.exp(-logit))
    applied = now_s - rng.uniform(1, 360, n) * 86400
    days = np.where(hired, 4 + 0.35 * (100 - match) + rng.normal(0, 2, n), rng.uniform(1, 30, n)).clip(0.5)
    decided = (rng.random(n) < 0.7) & (applied + days * 86400 < now_s)
    status = np.where(
        decided, np.where(hired, "hired", "rejected"), rng.choice(np.array(["pending", "reviewing", "accepted"]), n)
    )
    decided_at = np.where(decided, applied + days * 86400, np.nan)
    app_ids = uuid_strings(0xE, off + start, n)
    cand_ids = [f"{0xC:016x}{c + off:016x}" for c in cand]
    job_ids = [f"{0xA:016x}{j + off:016x}" for j in job]
    decided_us = np.nan_to_num(decided_at * 1e6).astype(np.int64)
    decided_col = pc.cast(pa.array(decided_us, pa.int64(), mask=np.isnan(decided_at)), pa.timestamp("us", tz="UTC"))
    updated = np.where(decided, decided_at, applied)
    _copy(
        conn,
        "catalog.applications",
        pa.table(
            {
                "id": app_ids,
                "candidate_id": cand_ids,
                "job_id": job_ids,
                "status": status,
                "applied_at": _ts(applied),
                "updated_at": _ts(updated),
                "decided_at": decided_col,
            }
        ),
    )
    screened = rng.random(n) < 0.9
    m = int(screened.sum())
    sel = np.nonzero(screened)[0]
    safety = rng.random(m) < 0.06
    screened_at = applied[sel] + 3600
    analysis = ['{"missing_skills": [' + ",".join(['"x"'] * int(k)) + "]}" for k in missing[sel]]
    _copy(
        conn,
        "screening.results",
        pa.table(
            {
                "id": [f"{0xD:016x}{i + off:016x}" for i in idx[sel]],
                "application_id": [app_ids[i] for i in sel],
                "candidate_id": [cand_ids[i] for i in sel],
                "job_id": [job_ids[i] for i in sel],
                "engine": np.where(rng.random(m) < 0.7, "llm", "evidence"),
                "engine_version": ["v1"] * m,
                "match_score": match[sel],
                "skills_score": np.clip(match[sel] + rng.normal(0, 8, m), 0, 100).round(1),
                "experience_score": np.clip(50 + 5 * years_gap[sel], 0, 100).round(1),
                "semantic_score": np.clip(match[sel] + rng.normal(0, 10, m), 0, 100).round(1),
                "confidence": rng.uniform(0.4, 0.95, m).round(3),
                "recommendation": np.where(match[sel] >= 70, "advance", "hold"),
                "analysis": analysis,
                "pii_count": np.where(safety, rng.integers(1, 4, m), 0),
                "bias_count": np.where(safety & (rng.random(m) < 0.3), 1, 0),
                "toxicity_score": rng.uniform(0, 0.2, m).round(3),
                "has_safety_issues": safety,
                "created_at": _ts(screened_at),
                "updated_at": _ts(screened_at),
            }
        ),
    )
