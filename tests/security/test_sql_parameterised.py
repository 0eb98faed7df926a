"""Only parameterised SQL: no service builds SQL text from values (see tests/security/sql_audit.py).

Interpolations that remain are identifiers and SQL fragments from fixed module constants; each one was
reviewed and is listed below per file by its exact source text. A new interpolation fails this test until
someone reviews it (and, if it carries a value, turns it into a `%s` parameter or `sql.Identifier`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.security.sql_audit import Finding, scan_source

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ["hiremesh", "embedding_svc", "search_svc", "screening_svc", "guardrail_svc", "analytics_svc", "gateway"]

# file -> interpolated expressions reviewed as identifiers / constant SQL fragments (never request data).
REVIEWED: dict[str, set[str]] = {
    # procrastinate's schema name, a module constant.
    "screening_svc/queue.py": {"SCHEMA"},
    # DuckDB warehouse: table names from the TABLES / SOURCES tuples, staging suffixes, and SELECTs built by
    # warehouse.fact_select / candidate_rollup from constants; `gone_pairs` is one of two constant subqueries.
    "analytics_svc/etl.py": {
        "table",
        "fact",
        "TABLES['fact_applications']",
        "fact_select(suffix=STAGING)",
        "agg",
        "TABLES['agg_candidates']",
        "candidate_rollup(fact)",
        "source.table",
        "source.key",
        "chg",
        "source.name",
        "target",
        "TABLES[source.table]",
        "gone_pairs",
        "STAGING",
        "source.pg_table",
        "fact_select('WHERE application_id IN (SELECT application_id FROM affected)')",
        "candidate_rollup('fact_applications', 'WHERE candidate_id IN (SELECT * FROM affected_candidates)')",
    },
    # EXPORT_TABLES names; `quoted` is the service's own temp-file path with quotes doubled (DuckDB's COPY TO
    # cannot bind its target as a parameter).
    "analytics_svc/export.py": {"table", "quoted"},
    "analytics_svc/extract.py": {"target", "source.transform"},
    # `where` / `extra` are literals at both call sites; the limit is an int() of the configured row cap.
    "analytics_svc/models.py": {"_FEATURE_SQL", "extra", "where", "int(self._max_rows)"},
    "analytics_svc/reports.py": {"_RATE"},
    "analytics_svc/sources.py": {"cols", "self.pg_table"},
    # Seeding synthetic data: table and column names of the generated Arrow tables.
    "analytics_svc/synthetic.py": {"table", "columns"},
    "analytics_svc/warehouse.py": {"fact", "where", "name", "columns", "sql", "t"},
}


def _all_findings() -> list[Finding]:
    out: list[Finding] = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if rel.startswith("hiremesh/v1/"):
                continue
            out.extend(scan_source(path.read_text(), rel))
    return out


def test_service_code_builds_no_sql_from_values() -> None:
    unreviewed = [f for f in _all_findings() if f.expr not in REVIEWED.get(f.file, set())]
    assert not unreviewed, "SQL text built with values (use %s parameters or psycopg.sql.Identifier):\n" + "\n".join(
        map(str, unreviewed)
    )


def test_whitelist_has_no_stale_entries() -> None:
    """An entry nobody needs any more is removed, so the whitelist cannot grow into a blanket pass."""
    used = {(f.file, f.expr) for f in _all_findings()}
    stale = [(file, expr) for file, exprs in REVIEWED.items() for expr in exprs if (file, expr) not in used]
    assert not stale, f"whitelisted interpolations no longer in the code: {stale}"


# --- the audit itself must catch real violations -----------------------------------------------------------
VIOLATIONS = {
    "cur.execute(f\"SELECT * FROM catalog.candidates WHERE email = '{email}'\")": ("f-string", "email"),
    'cur.execute("DELETE FROM catalog.jobs WHERE id = %s" % job_id)': ("% formatting", "job_id"),
    "cur.execute(\"UPDATE catalog.jobs SET title = '{}' WHERE id = 1\".format(title))": (".format()", "title"),
    'cur.execute("SELECT id FROM catalog.candidates WHERE name LIKE \'" + request.name + "\'")': (
        "concatenation",
        "request.name",
    ),
    'q = f"""\n  INSERT INTO screening.tasks (id, job_id)\n  VALUES (\'{task.id}\', \'{job}\')"""': (
        "f-string",
        "task.id",
    ),
    'conn.execute(f"select * from t where a = {value}")': ("f-string", "value"),
}
SAFE = [
    'cur.execute("SELECT * FROM catalog.candidates WHERE email = %s", (email,))',
    'sql.SQL("SELECT {cols} FROM catalog.candidates WHERE id = %s").format(cols=sql.Identifier(name))',
    'log.info(f"imported {count} candidates from {folder}")',
    'raise InvalidArgument("update_mask", f"{path!r} is not an updatable field")',
    'msg = "select a file from %s" % folder',  # English, not a statement
    'conn.execute("SELECT count(*) FROM catalog.jobs WHERE status = %(s)s", {"s": status})',
]


@pytest.mark.parametrize("source", list(VIOLATIONS))
def test_audit_catches_a_violation(source: str) -> None:
    kind, expr = VIOLATIONS[source]
    found = [(f.kind, f.expr) for f in scan_source(source)]
    assert (kind, expr) in found, f"missed {kind} of {expr} in {source!r}: {found}"


@pytest.mark.parametrize("source", SAFE)
def test_audit_passes_safe_code(source: str) -> None:
    assert list(scan_source(source)) == []


def test_counter_of_findings_matches_review() -> None:
    """Guards the test's reach: the scan really reads the packages (analytics builds DuckDB SQL by name)."""
    per_file = Counter(f.file for f in _all_findings())
    assert per_file["analytics_svc/etl.py"] > 10
