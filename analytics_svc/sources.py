"""What the warehouse reads from PostgreSQL, and how each source lands in DuckDB.

Each `Source` pairs a PostgreSQL SELECT (streamed out with COPY as CSV, timestamps as epoch microseconds so
no time-zone text is parsed) with the DuckDB SELECT that turns one Arrow batch into warehouse rows. Only the
columns the analytics need are read: no resume text, e-mail or phone leave the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

# Arrays travel as one string joined with the ASCII unit separator, which no skill name contains.
SEP = "\x1f"


def _us(column: str) -> str:
    return f"(extract(epoch FROM {column}) * 1000000)::bigint"


def _ts(column: str) -> str:
    # Arrow already turned the *_us columns into UTC timestamps (see extract.to_arrow_types).
    return column


def _list(column: str) -> str:
    return f"CASE WHEN coalesce({column}, '') = '' THEN []::VARCHAR[] ELSE string_split({column}, chr(31)) END"


@dataclass(frozen=True)
class Source:
    """One PostgreSQL table mirrored into one warehouse table."""

    name: str  # the watermark's name and the progress stage
    table: str  # warehouse table
    key: str  # warehouse primary-key column
    pg_table: str
    pg_columns: tuple[tuple[str, str, pa.DataType], ...]  # (arrow name, PostgreSQL expression, arrow type)
    transform: str  # DuckDB SELECT list over the Arrow batch

    def copy_sql(self) -> str:
        cols = ", ".join(expr for _, expr, _ in self.pg_columns)
        # updated_at is compared as exact microseconds since the epoch so the watermark never rounds.
        return (
            f"COPY (SELECT {cols} FROM {self.pg_table} "  # noqa: S608 - constants only
            "WHERE updated_at > 'epoch'::timestamptz + %s * interval '1 microsecond') "
            "TO STDOUT (FORMAT csv)"
        )

    def count_sql(self) -> str:
        return (
            f"SELECT count(*) FROM {self.pg_table} "  # noqa: S608 - constants only
            "WHERE updated_at > 'epoch'::timestamptz + %s * interval '1 microsecond'"
        )

    @property
    def column_names(self) -> list[str]:
        return [name for name, _, _ in self.pg_columns]

    @property
    def column_types(self) -> dict[str, pa.DataType]:
        return {name: typ for name, _, typ in self.pg_columns}


S, F, N, B = pa.string(), pa.float64(), pa.int64(), pa.bool_()

CANDIDATES = Source(
    name="candidates",
    table="dim_candidates",
    key="candidate_id",
    pg_table="catalog.candidates",
    pg_columns=(
        ("id", "id", S),
        ("name", "name", S),
        ("location", "location", S),
        ("headline", "headline", S),
        ("years_experience", "years_experience", F),
        ("skills", "array_to_string(skills, E'\\x1f')", S),
        ("created_us", _us("created_at"), N),
        ("updated_us", _us("updated_at"), N),
    ),
    transform=f"""CAST(id AS UUID) AS candidate_id, name, location, headline, years_experience,
        {_list("skills")} AS skills, len({_list("skills")})::INTEGER AS skills_count,
        {_ts("created_us")} AS created_at, {_ts("updated_us")} AS updated_at""",
)

JOBS = Source(
    name="jobs",
    table="dim_jobs",
    key="job_id",
    pg_table="catalog.jobs",
    pg_columns=(
        ("id", "id", S),
        ("title", "title", S),
        ("company", "company", S),
        ("department", "department", S),
        ("location", "location", S),
        ("min_experience", "min_experience", F),
        ("max_experience", "max_experience", F),
        ("required_skills", "array_to_string(required_skills, E'\\x1f')", S),
        ("status", "status", S),
        ("created_us", _us("created_at"), N),
        ("updated_us", _us("updated_at"), N),
    ),
    transform=f"""CAST(id AS UUID) AS job_id, title, company, department, location, min_experience,
        max_experience, {_list("required_skills")} AS required_skills, status,
        {_ts("created_us")} AS created_at, {_ts("updated_us")} AS updated_at""",
)

APPLICATIONS = Source(
    name="applications",
    table="src_applications",
    key="application_id",
    pg_table="catalog.applications",
    pg_columns=(
        ("id", "id", S),
        ("candidate_id", "candidate_id", S),
        ("job_id", "job_id", S),
        ("status", "status", S),
        ("applied_us", _us("applied_at"), N),
        ("updated_us", _us("updated_at"), N),
        ("decided_us", _us("decided_at"), N),
    ),
    transform=f"""CAST(id AS UUID) AS application_id, CAST(candidate_id AS UUID) AS candidate_id,
        CAST(job_id AS UUID) AS job_id, status, {_ts("applied_us")} AS applied_at,
        {_ts("updated_us")} AS updated_at, {_ts("decided_us")} AS decided_at""",
)

_MISSING = (
    "CASE WHEN jsonb_typeof(analysis->'missing_skills') = 'array' "
    "THEN jsonb_array_length(analysis->'missing_skills') END"
)
_MATCHED = (
    "CASE WHEN jsonb_typeof(analysis->'matched_skills') = 'array' "
    "THEN jsonb_array_length(analysis->'matched_skills') END"
)

RESULTS = Source(
    name="results",
    table="src_screening_results",
    key="result_id",
    pg_table="screening.results",
    pg_columns=(
        ("id", "id", S),
        ("application_id", "application_id", S),
        ("candidate_id", "candidate_id", S),
        ("job_id", "job_id", S),
        ("engine", "engine", S),
        ("engine_version", "engine_version", S),
        ("model", "model", S),
        ("match_score", "match_score", N),
        ("skills_score", "skills_score", F),
        ("experience_score", "experience_score", F),
        ("semantic_score", "semantic_score", F),
        ("confidence", "confidence", F),
        ("recommendation", "recommendation", S),
        ("degraded", "degraded", B),
        ("pii_count", "pii_count", N),
        ("bias_count", "bias_count", N),
        ("toxicity_score", "toxicity_score", F),
        ("has_safety_issues", "has_safety_issues", B),
        ("missing_skills_count", _MISSING, N),
        ("matched_skills_count", _MATCHED, N),
        ("duration_ms", "duration_ms", F),
        ("created_us", _us("created_at"), N),
        ("updated_us", _us("updated_at"), N),
    ),
    transform=f"""CAST(id AS UUID) AS result_id, CAST(application_id AS UUID) AS application_id,
        CAST(candidate_id AS UUID) AS candidate_id, CAST(job_id AS UUID) AS job_id, engine, engine_version,
        model, match_score::INTEGER AS match_score, skills_score, experience_score, semantic_score, confidence,
        recommendation, degraded, pii_count::INTEGER AS pii_count, bias_count::INTEGER AS bias_count,
        toxicity_score, has_safety_issues, missing_skills_count::INTEGER AS missing_skills_count,
        matched_skills_count::INTEGER AS matched_skills_count, duration_ms,
        {_ts("created_us")} AS created_at, {_ts("updated_us")} AS updated_at""",
)

SOURCES: tuple[Source, ...] = (CANDIDATES, JOBS, APPLICATIONS, RESULTS)
