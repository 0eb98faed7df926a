"""Source databases for the analytics tests: migrated catalog + screening schemas, seeded with plain SQL."""

from __future__ import annotations

from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[2]


async def prepare(url: str) -> None:
    """Apply the catalog and screening migrations (their owners' files) and empty every table."""
    from hiremesh.db import migrate

    await migrate(url, "catalog", REPO / "search_svc" / "migrations")
    await migrate(url, "screening", REPO / "screening_svc" / "migrations")
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(
            "TRUNCATE catalog.candidates, catalog.jobs, catalog.applications, "
            "screening.results, screening.tasks CASCADE"
        )


def cid(n: int) -> str:
    return f"00000000-0000-0000-0000-0000000000c{n}"


def jid(n: int) -> str:
    return f"00000000-0000-0000-0000-0000000000a{n}"


def aid(n: int) -> str:
    return f"00000000-0000-0000-0000-0000000000e{n}"


# A history small enough to check every report by hand (see test_reports.py for the expected numbers).
# Applications: (n, candidate, job, status, applied days ago, decided days ago or None)
APPLICATIONS = [
    (1, 1, 1, "hired", 40, 30),
    (2, 2, 1, "rejected", 40, 35),
    (3, 3, 1, "reviewing", 25, None),
    (4, 1, 2, "hired", 20, 16),
    (5, 4, 3, "pending", 12, None),
    (6, 3, 3, "accepted", 15, None),
    (7, 2, 3, "rejected", 10, 8),
]
# Results: (application n, engine, match score, has_safety_issues, pii, bias, hours after applying)
RESULTS = [
    (1, "llm", 80, False, 0, 0, 1),
    (2, "llm", 50, True, 2, 1, 1),
    (3, "evidence", 70, False, 0, 0, 1),
    (4, "evidence", 90, False, 0, 0, 1),
    (6, "llm", 30, False, 0, 0, 1),  # superseded by the next one: only the latest result counts
    (6, "llm", 40, False, 0, 0, 2),
    (7, "llm", 60, False, 0, 0, 1),
]


async def seed_hand_checked(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn, conn.transaction():
        # Every seeded candidate and job is 60 days old, older than the first sync.
        for n, name, years, skills in [
            (1, "Ada", 5, ["python", "sql"]),
            (2, "Ben", 2, ["python"]),
            (3, "Cy", 10, ["go", "kubernetes"]),
            (4, "Di", 1, []),
        ]:
            await conn.execute(
                "INSERT INTO catalog.candidates (id, name, years_experience, skills, created_at, updated_at) "
                "VALUES (%s, %s, %s, %s, now() - interval '60 days', now() - interval '60 days')",
                (cid(n), name, years, skills),
            )
        for n, title, min_exp, req, status in [
            (1, "Data Engineer", 3, ["python", "sql", "spark"], "open"),
            (2, "Senior Data Engineer", 5, ["python"], "open"),
            (3, "Frontend Engineer", 1, ["react"], "closed"),
        ]:
            await conn.execute(
                "INSERT INTO catalog.jobs (id, title, min_experience, required_skills, status, created_at, "
                "updated_at) VALUES (%s, %s, %s, %s, %s, now() - interval '60 days', now() - interval '60 days')",
                (jid(n), title, min_exp, req, status),
            )
        for n, c, j, status, applied, decided in APPLICATIONS:
            await conn.execute(
                "INSERT INTO catalog.applications (id, candidate_id, job_id, status, applied_at, decided_at, "
                "updated_at) VALUES (%s, %s, %s, %s, now() - make_interval(days => %s), "
                "now() - make_interval(days => %s), now() - make_interval(days => %s))",
                (aid(n), cid(c), jid(j), status, applied, decided, decided if decided is not None else applied),
            )
        for i, (n, engine, score, safety, pii, bias, hours) in enumerate(RESULTS):
            _, c, j, _, applied, _ = APPLICATIONS[n - 1]
            await conn.execute(
                "INSERT INTO screening.results (application_id, candidate_id, job_id, engine, engine_version, "
                "match_score, confidence, analysis, has_safety_issues, pii_count, bias_count, created_at, "
                "updated_at) VALUES (%s, %s, %s, %s, %s, %s, 0.8, '{}'::jsonb, %s, %s, %s, "
                "now() - make_interval(days => %s) + make_interval(hours => %s), "
                "now() - make_interval(days => %s) + make_interval(hours => %s))",
                (aid(n), cid(c), jid(j), engine, f"v{i}", score, safety, pii, bias, applied, hours, applied, hours),
            )
