"""Named, parameterised reports over the warehouse, with typed columns.

Every parameter is validated and bound with `?` placeholders, never formatted into SQL. Unknown reports and
bad or unknown parameters raise InvalidArgument naming them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from analytics_svc import metrics
from analytics_svc.warehouse import Warehouse
from hiremesh.errors import InvalidArgument

Kind = Literal["int", "double", "string", "bool", "timestamp"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind


@dataclass
class Report:
    name: str
    columns: list[Column]
    rows: list[tuple[Any, ...]]
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    data_as_of: datetime | None = None

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip((c.name for c in self.columns), row, strict=True)) for row in self.rows]


def int_param(low: int, high: int) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise InvalidArgument(f"params.{name}", f"expected an integer, got {raw!r}") from None
        if not low <= value <= high:
            raise InvalidArgument(f"params.{name}", f"must be between {low} and {high}, got {value}")
        return value

    return parse


def text_param(name: str, raw: str) -> str:
    value = raw.strip()
    if not value or len(value) > 200:
        raise InvalidArgument(f"params.{name}", "must be 1 to 200 characters")
    return value


@dataclass(frozen=True)
class Spec:
    sql: str
    params: dict[str, tuple[Callable[[str, str], Any], Any]]  # name -> (parser, default; None = required)
    order: tuple[str, ...] = ()  # parameter order of the ? placeholders


_RATE = "count(*) FILTER (WHERE is_hired)::DOUBLE / nullif(count(*) FILTER (WHERE is_decided), 0)"

SPECS: dict[str, Spec] = {
    "funnel": Spec(
        """
        SELECT stage, applications,
               100.0 * applications / nullif(max(applications) FILTER (WHERE stage = 'applied') OVER (), 0)
                   AS percent_of_applied,
               CASE WHEN stage <> 'rejected'
                    THEN 100.0 * applications / nullif(lag(applications) OVER (ORDER BY stage_order), 0) END
                   AS percent_of_previous
        FROM v_hiring_funnel ORDER BY stage_order""",
        {},
    ),
    "ai_performance": Spec(
        f"""
        SELECT engine, count(*) AS screened, avg(match_score) AS avg_match_score,
               avg(ai_confidence) AS avg_confidence, count(*) FILTER (WHERE is_decided) AS decided,
               count(*) FILTER (WHERE is_hired) AS hired, {_RATE} AS hire_rate,
               avg(match_score) FILTER (WHERE is_hired) AS avg_score_hired,
               avg(match_score) FILTER (WHERE is_decided AND NOT is_hired) AS avg_score_rejected,
               count(*) FILTER (WHERE is_hired AND match_score >= 70)::DOUBLE
                   / nullif(count(*) FILTER (WHERE is_decided AND match_score >= 70), 0) AS hire_rate_score_70,
               count(*) FILTER (WHERE degraded) AS degraded
        FROM fact_applications
        WHERE is_screened AND screened_at >= now() - ?::INTEGER * INTERVAL 1 DAY
        GROUP BY engine ORDER BY engine""",  # noqa: S608
        {"days": (int_param(1, 3650), 30)},
        ("days",),
    ),
    "top_candidates": Spec(
        """
        SELECT candidate_id::VARCHAR AS candidate_id, name, applications, best_match_score, avg_match_score, hires
        FROM v_top_candidates
        ORDER BY best_match_score DESC, avg_match_score DESC, candidate_id LIMIT ?""",
        {"limit": (int_param(1, 1000), 20)},
        ("limit",),
    ),
    "safety_trends": Spec(
        """
        SELECT date_trunc('week', screened_at::TIMESTAMP) AS week, count(*) AS screened,
               count(*) FILTER (WHERE has_safety_issues) AS with_issues,
               count(*) FILTER (WHERE has_safety_issues)::DOUBLE / count(*) AS issue_rate,
               sum(pii_count)::BIGINT AS pii_findings, sum(bias_count)::BIGINT AS bias_findings,
               avg(toxicity_score) AS avg_toxicity, max(toxicity_score) AS max_toxicity
        FROM fact_applications
        WHERE is_screened
          AND screened_at >= (date_trunc('week', now()::TIMESTAMP) - (?::INTEGER - 1) * INTERVAL 7 DAY)::TIMESTAMPTZ
        GROUP BY 1 ORDER BY 1""",
        {"weeks": (int_param(1, 520), 8)},
        ("weeks",),
    ),
    "job_title_success": Spec(
        f"""
        SELECT job_title AS title, count(DISTINCT job_id) AS jobs, count(*) AS applications,
               count(*) FILTER (WHERE is_decided) AS decided, count(*) FILTER (WHERE is_hired) AS hired,
               {_RATE} AS hire_rate, avg(match_score) AS avg_match_score,
               avg(match_score) FILTER (WHERE is_hired) AS avg_score_hired,
               avg(days_to_decision) FILTER (WHERE is_hired) AS avg_days_to_hire
        FROM fact_applications WHERE contains(lower(job_title), lower(?))
        GROUP BY job_title ORDER BY applications DESC, title""",  # noqa: S608
        {"title": (text_param, None)},
        ("title",),
    ),
    "job_performance": Spec(
        """
        SELECT job_id::VARCHAR AS job_id, title, company, job_status, applications, screened, hired,
               avg_match_score, avg_days_to_hire
        FROM v_job_performance ORDER BY applications DESC, job_id LIMIT ?""",
        {"limit": (int_param(1, 1000), 20)},
        ("limit",),
    ),
    "hiring_trends": Spec(
        """
        SELECT date_trunc('day', applied_at) AS day, count(*) AS applications,
               count(*) FILTER (WHERE is_screened) AS screened, count(*) FILTER (WHERE is_hired) AS hired,
               avg(match_score) AS avg_match_score
        FROM fact_applications WHERE applied_at >= now() - ?::INTEGER * INTERVAL 1 DAY
        GROUP BY 1 ORDER BY 1""",
        {"days": (int_param(1, 3650), 30)},
        ("days",),
    ),
    "summary": Spec(
        f"""
        SELECT (SELECT count(*) FROM dim_candidates) AS candidates, (SELECT count(*) FROM dim_jobs) AS jobs,
               (SELECT count(*) FROM dim_jobs WHERE status = 'open') AS open_jobs, count(*) AS applications,
               count(*) FILTER (WHERE is_screened) AS screened, count(*) FILTER (WHERE is_decided) AS decided,
               count(*) FILTER (WHERE is_hired) AS hired, {_RATE} AS hire_rate,
               avg(match_score) AS avg_match_score,
               avg(days_to_decision) FILTER (WHERE is_hired) AS avg_days_to_hire,
               count(*) FILTER (WHERE has_safety_issues)::DOUBLE
                   / nullif(count(*) FILTER (WHERE is_screened), 0) AS safety_issue_rate
        FROM fact_applications""",  # noqa: S608
        {},
    ),
}

NAMES = (*SPECS, "schedules")


def parse_params(name: str, raw: Mapping[str, str]) -> list[Any]:
    """Validate `raw` against report `name`; the values in placeholder order."""
    spec = SPECS.get(name)
    if spec is None:
        raise InvalidArgument("name", f"unknown report {name!r}; known: {', '.join(NAMES)}")
    for key in raw:
        if key not in spec.params:
            allowed = ", ".join(spec.params) or "none"
            raise InvalidArgument(f"params.{key}", f"unknown parameter for report {name!r} (allowed: {allowed})")
    values: dict[str, Any] = {}
    for key, (parser, default) in spec.params.items():
        if key in raw:
            values[key] = parser(key, raw[key])
        elif default is None:
            raise InvalidArgument(f"params.{key}", f"required by report {name!r}")
        else:
            values[key] = default
    return [values[key] for key in spec.order]


def _kind(type_name: object) -> Kind:
    t = str(type_name).upper()
    if t == "BOOLEAN":
        return "bool"
    if "INT" in t:
        return "int"
    if t.startswith(("DOUBLE", "FLOAT", "REAL", "DECIMAL")):
        return "double"
    if t.startswith(("TIMESTAMP", "DATE")):
        return "timestamp"
    return "string"


def _value(value: Any, kind: Kind) -> Any:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if kind == "timestamp" and isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


def run_report(warehouse: Warehouse, name: str, raw: Mapping[str, str]) -> Report:
    """Compute report `name` (blocking: call it in an executor)."""
    args = parse_params(name, raw)
    start = time.perf_counter()
    cur = warehouse.cursor()
    try:
        cur.execute(SPECS[name].sql, args)
        description = cur.description or []
        columns = [Column(d[0], _kind(d[1])) for d in description]
        rows = [tuple(_value(v, c.kind) for v, c in zip(row, columns, strict=True)) for row in cur.fetchall()]
    finally:
        cur.close()
    metrics.REPORT_SECONDS.labels(name).observe(time.perf_counter() - start)
    return Report(name, columns, rows, data_as_of=warehouse.last_sync())
