"""The DuckDB warehouse file: its tables, views, watermarks and the atomic swap of a full rebuild.

One process owns the file (DuckDB locks it); every thread works on its own cursor. A full sync builds
`<table>__staging` tables next to the live ones and swaps them in with one short transaction, so a reader
(or a crash, even SIGKILL) only ever sees the old or the new warehouse, never a half-built one.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

STAGING = "__staging"

TABLES: dict[str, str] = {
    "dim_candidates": """
        candidate_id UUID, name VARCHAR, location VARCHAR, headline VARCHAR, years_experience DOUBLE,
        skills VARCHAR[], skills_count INTEGER, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ""",
    "dim_jobs": """
        job_id UUID, title VARCHAR, company VARCHAR, department VARCHAR, location VARCHAR,
        min_experience DOUBLE, max_experience DOUBLE, required_skills VARCHAR[], status VARCHAR,
        created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ""",
    "src_applications": """
        application_id UUID, candidate_id UUID, job_id UUID, status VARCHAR, applied_at TIMESTAMPTZ,
        updated_at TIMESTAMPTZ, decided_at TIMESTAMPTZ""",
    "src_screening_results": """
        result_id UUID, application_id UUID, candidate_id UUID, job_id UUID, engine VARCHAR,
        engine_version VARCHAR, model VARCHAR, match_score INTEGER, skills_score DOUBLE, experience_score DOUBLE,
        semantic_score DOUBLE, confidence DOUBLE, recommendation VARCHAR, degraded BOOLEAN, pii_count INTEGER,
        bias_count INTEGER, toxicity_score DOUBLE, has_safety_issues BOOLEAN, missing_skills_count INTEGER,
        matched_skills_count INTEGER, duration_ms DOUBLE, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ""",
    "fact_applications": """
        application_id UUID, candidate_id UUID, job_id UUID, candidate_name VARCHAR, job_title VARCHAR,
        company VARCHAR, department VARCHAR, job_status VARCHAR, status VARCHAR, applied_at TIMESTAMPTZ,
        decided_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, years_experience DOUBLE, required_experience DOUBLE,
        skills_count INTEGER, missing_skills_count INTEGER, result_id UUID, is_screened BOOLEAN,
        engine VARCHAR, engine_version VARCHAR, match_score INTEGER, skills_score DOUBLE,
        experience_score DOUBLE, semantic_score DOUBLE, ai_confidence DOUBLE, recommendation VARCHAR,
        degraded BOOLEAN, screened_at TIMESTAMPTZ, pii_count INTEGER, bias_count INTEGER,
        toxicity_score DOUBLE, has_safety_issues BOOLEAN, is_hired BOOLEAN, is_decided BOOLEAN,
        days_to_decision DOUBLE""",
    # Per-candidate rollup of the facts, kept in step by every sync so top-N reads 1 row per candidate.
    "agg_candidates": """
        candidate_id UUID, name VARCHAR, applications BIGINT, screened BIGINT, best_match_score INTEGER,
        avg_match_score DOUBLE, hires BIGINT""",
}

# Tables a user sees (and exports); src_* are the raw mirrors the facts are rebuilt from.
EXPORT_TABLES = ("dim_candidates", "dim_jobs", "fact_applications", "src_screening_results", "agg_candidates")

# The fact of each application: its latest screening result (by creation time) for the same candidate
# and job, which also covers results that were stored without an application id.
FACT_SELECT = """
WITH apps AS (SELECT * FROM {apps} {where}),
latest AS (
    SELECT r.* FROM {results} r
    WHERE (r.candidate_id, r.job_id) IN (SELECT candidate_id, job_id FROM apps)
    QUALIFY row_number() OVER (PARTITION BY r.candidate_id, r.job_id
                               ORDER BY r.created_at DESC, r.updated_at DESC, r.result_id DESC) = 1
)
SELECT a.application_id, a.candidate_id, a.job_id, c.name, j.title, j.company, j.department, j.status,
       a.status, a.applied_at, a.decided_at, a.updated_at, c.years_experience, j.min_experience, c.skills_count,
       coalesce(r.missing_skills_count,
                len(list_filter(j.required_skills,
                                lambda s: NOT list_contains(list_transform(c.skills, lambda x: lower(x)),
                                                            lower(s)))))::INTEGER,
       r.result_id, r.result_id IS NOT NULL, r.engine, r.engine_version, r.match_score, r.skills_score,
       r.experience_score, r.semantic_score, r.confidence, r.recommendation, r.degraded, r.created_at,
       coalesce(r.pii_count, 0), coalesce(r.bias_count, 0), coalesce(r.toxicity_score, 0),
       coalesce(r.has_safety_issues, false), a.status = 'hired', a.status IN ('hired', 'rejected'),
       CASE WHEN a.decided_at IS NOT NULL AND a.status IN ('hired', 'rejected', 'accepted')
            THEN date_diff('second', a.applied_at, a.decided_at) / 86400.0 END
FROM apps a
LEFT JOIN {candidates} c ON c.candidate_id = a.candidate_id
LEFT JOIN {jobs} j ON j.job_id = a.job_id
LEFT JOIN latest r ON r.candidate_id = a.candidate_id AND r.job_id = a.job_id
"""

VIEWS: dict[str, str] = {
    "v_hiring_funnel": """
        WITH g AS (SELECT status, count(*) AS n, count(*) FILTER (WHERE is_screened) AS screened
                   FROM fact_applications GROUP BY status),
        c AS (SELECT coalesce(sum(n), 0) AS applied, coalesce(sum(screened), 0) AS screened,
                     coalesce(sum(n) FILTER (WHERE status IN ('reviewing', 'accepted', 'hired')), 0) AS reviewing,
                     coalesce(sum(n) FILTER (WHERE status IN ('accepted', 'hired')), 0) AS accepted,
                     coalesce(sum(n) FILTER (WHERE status = 'hired'), 0) AS hired,
                     coalesce(sum(n) FILTER (WHERE status = 'rejected'), 0) AS rejected FROM g)
        SELECT 1 AS stage_order, 'applied' AS stage, applied::BIGINT AS applications FROM c
        UNION ALL SELECT 2, 'screened', screened::BIGINT FROM c
        UNION ALL SELECT 3, 'reviewing', reviewing::BIGINT FROM c
        UNION ALL SELECT 4, 'accepted', accepted::BIGINT FROM c
        UNION ALL SELECT 5, 'hired', hired::BIGINT FROM c
        UNION ALL SELECT 6, 'rejected', rejected::BIGINT FROM c""",
    "v_ai_performance": """
        SELECT engine, count(*) AS screened, avg(match_score) AS avg_match_score,
               avg(ai_confidence) AS avg_confidence, count(*) FILTER (WHERE is_decided) AS decided,
               count(*) FILTER (WHERE is_hired) AS hired,
               avg(match_score) FILTER (WHERE is_hired) AS avg_score_hired,
               avg(match_score) FILTER (WHERE is_decided AND NOT is_hired) AS avg_score_rejected,
               count(*) FILTER (WHERE degraded) AS degraded
        FROM fact_applications WHERE is_screened GROUP BY engine""",
    "v_top_candidates": """
        SELECT candidate_id, name, applications, best_match_score, avg_match_score, hires
        FROM agg_candidates WHERE screened > 0""",
    "v_job_performance": """
        SELECT job_id, any_value(job_title) AS title, any_value(company) AS company,
               any_value(job_status) AS job_status, count(*) AS applications,
               count(*) FILTER (WHERE is_screened) AS screened, count(*) FILTER (WHERE is_hired) AS hired,
               avg(match_score) AS avg_match_score, avg(days_to_decision) FILTER (WHERE is_hired) AS avg_days_to_hire
        FROM fact_applications GROUP BY job_id""",
    "v_safety_compliance": """
        SELECT date_trunc('week', screened_at::TIMESTAMP) AS week, count(*) AS screened,
               count(*) FILTER (WHERE has_safety_issues) AS with_issues, sum(pii_count) AS pii_findings,
               sum(bias_count) AS bias_findings, avg(toxicity_score) AS avg_toxicity,
               max(toxicity_score) AS max_toxicity
        FROM fact_applications WHERE is_screened GROUP BY 1""",
}

META = """
CREATE TABLE IF NOT EXISTS _watermarks (source VARCHAR PRIMARY KEY, watermark_us BIGINT, synced_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS _sync_log (started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, mode VARCHAR,
    status VARCHAR, rows_read BIGINT, message VARCHAR);
CREATE TABLE IF NOT EXISTS _schedule_runs (name VARCHAR PRIMARY KEY, last_run TIMESTAMPTZ, last_status VARCHAR,
    last_message VARCHAR);
"""


def candidate_rollup(fact: str, where: str = "") -> str:
    """The SELECT producing agg_candidates rows from fact table `fact`."""
    return f"""SELECT candidate_id, any_value(candidate_name), count(*), count(*) FILTER (WHERE is_screened),
                      max(match_score), avg(match_score), count(*) FILTER (WHERE is_hired)
               FROM {fact} {where} GROUP BY candidate_id"""  # noqa: S608


def scalar(cur: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first value of the first row (None when no row); the result is fully consumed."""
    rows = cur.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def fact_select(where: str = "", *, suffix: str = "", apps: str | None = None) -> str:
    """The SELECT producing fact rows for the applications in `apps` (default: all) matching `where`."""
    return FACT_SELECT.format(
        apps=apps or f"src_applications{suffix}",
        where=where,
        results=f"src_screening_results{suffix}",
        candidates=f"dim_candidates{suffix}",
        jobs=f"dim_jobs{suffix}",
    )


class Warehouse:
    """The open DuckDB file; `cursor()` gives each thread its own connection to it."""

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection) -> None:
        self.path = path
        self._con = con
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path) -> Warehouse:
        """Open (or create) the file, drop what a killed full sync left behind, ensure tables and views."""
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path))
        con.execute("SET TimeZone = 'UTC'")
        wh = cls(path, con)
        wh._prepare()
        return wh

    def _prepare(self) -> None:
        cur = self.cursor()
        try:
            cur.execute(META)
            for (name,) in cur.execute(
                "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '%__staging'"
            ).fetchall():
                cur.execute(f'DROP TABLE IF EXISTS "{name}"')
            for name, columns in TABLES.items():
                cur.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")
            for name, sql in VIEWS.items():
                cur.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
            cur.execute("CHECKPOINT")
        finally:
            cur.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            cur = self._con.cursor()
        cur.execute("SET TimeZone = 'UTC'")
        return cur

    def close(self) -> None:
        with self._lock:
            self._con.close()

    # --- watermarks and sync bookkeeping ---------------------------------------------------------------
    def watermarks(self) -> dict[str, int]:
        cur = self.cursor()
        try:
            rows = cur.execute("SELECT source, watermark_us FROM _watermarks").fetchall()
        finally:
            cur.close()
        return {name: int(value) for name, value in rows if value is not None}

    def last_sync(self) -> datetime | None:
        cur = self.cursor()
        try:
            value = scalar(cur, "SELECT max(finished_at) FROM _sync_log WHERE status = 'ok'")
        finally:
            cur.close()
        return value if isinstance(value, datetime) else None

    def counts(self) -> dict[str, int]:
        cur = self.cursor()
        try:
            return {t: int(scalar(cur, f"SELECT count(*) FROM {t}")) for t in TABLES}  # noqa: S608
        finally:
            cur.close()


def set_watermarks(cur: duckdb.DuckDBPyConnection, marks: dict[str, int]) -> None:
    """Record each source's watermark (inside the caller's transaction)."""
    now = datetime.now(UTC)
    for source, value in marks.items():
        cur.execute("INSERT OR REPLACE INTO _watermarks VALUES (?, ?, ?)", [source, value, now])
