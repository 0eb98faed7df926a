"""Reports over the hand-checked history in seed.py; every expected number is worked out in the comments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from analytics_svc.etl import Syncer, SyncResult
from analytics_svc.reports import run_report
from analytics_svc.warehouse import Warehouse
from hiremesh.errors import InvalidArgument
from tests.analytics_svc.seed import prepare, seed_hand_checked


@pytest.fixture
async def warehouse(fresh_db_url: str, tmp_path: Path) -> AsyncIterator[Warehouse]:
    await prepare(fresh_db_url)
    await seed_hand_checked(fresh_db_url)
    wh = Warehouse.open(tmp_path / "analytics.duckdb")
    async for event in Syncer(wh, fresh_db_url).sync("full"):
        assert not isinstance(event, SyncResult) or event.rows("fact_applications") == 7
    yield wh
    wh.close()


def records(wh: Warehouse, name: str, **params: Any) -> list[dict[str, Any]]:
    return run_report(wh, name, {k: str(v) for k, v in params.items()}).records()


def test_funnel(warehouse: Warehouse) -> None:
    rows = {r["stage"]: r for r in records(warehouse, "funnel")}
    # 7 applied; 6 screened (all but #5); reviewing+ = #3 reviewing, #6 accepted, #1 #4 hired; 2 hired.
    assert {k: v["applications"] for k, v in rows.items()} == {
        "applied": 7,
        "screened": 6,
        "reviewing": 4,
        "accepted": 3,
        "hired": 2,
        "rejected": 2,
    }
    assert rows["hired"]["percent_of_applied"] == pytest.approx(100 * 2 / 7)
    assert rows["hired"]["percent_of_previous"] == pytest.approx(100 * 2 / 3)
    assert rows["applied"]["percent_of_previous"] is None


def test_summary(warehouse: Warehouse) -> None:
    (row,) = records(warehouse, "summary")
    assert row["candidates"] == 4 and row["jobs"] == 3 and row["open_jobs"] == 2
    assert row["applications"] == 7 and row["screened"] == 6 and row["decided"] == 4 and row["hired"] == 2
    assert row["hire_rate"] == pytest.approx(0.5)
    assert row["avg_match_score"] == pytest.approx((80 + 50 + 70 + 90 + 40 + 60) / 6)  # latest result of #6: 40
    assert row["avg_days_to_hire"] == pytest.approx((10 + 4) / 2, abs=0.01)
    assert row["safety_issue_rate"] == pytest.approx(1 / 6)


def test_ai_performance_respects_the_window(warehouse: Warehouse) -> None:
    # Last 30 days: #3 (evidence 70, undecided), #4 (evidence 90, hired), #6 (llm 40), #7 (llm 60, rejected).
    recent = {r["engine"]: r for r in records(warehouse, "ai_performance", days=30)}
    assert recent["evidence"]["screened"] == 2 and recent["evidence"]["avg_match_score"] == pytest.approx(80)
    assert recent["evidence"]["hired"] == 1 and recent["evidence"]["hire_rate"] == pytest.approx(1.0)
    assert recent["llm"]["screened"] == 2 and recent["llm"]["hire_rate"] == pytest.approx(0.0)
    # 60 days adds #1 (llm 80, hired) and #2 (llm 50, rejected).
    wide = {r["engine"]: r for r in records(warehouse, "ai_performance", days=60)}
    assert wide["llm"]["screened"] == 4 and wide["llm"]["avg_match_score"] == pytest.approx(57.5)
    assert wide["llm"]["hire_rate"] == pytest.approx(1 / 3)
    assert wide["llm"]["avg_score_hired"] == pytest.approx(80)


def test_top_candidates(warehouse: Warehouse) -> None:
    rows = records(warehouse, "top_candidates", limit=2)
    # Ada best 90 (avg 85, 2 hires); Cy best 70 (avg 55); Ben best 60; Di never screened.
    assert [(r["name"], r["best_match_score"], r["hires"]) for r in rows] == [("Ada", 90, 2), ("Cy", 70, 0)]
    assert rows[0]["avg_match_score"] == pytest.approx(85)
    assert len(records(warehouse, "top_candidates")) == 3


def test_job_title_success_is_case_insensitive_and_parameterised(warehouse: Warehouse) -> None:
    rows = records(warehouse, "job_title_success", title="data engineer")
    assert [r["title"] for r in rows] == ["Data Engineer", "Senior Data Engineer"]
    de = rows[0]
    assert (de["applications"], de["decided"], de["hired"]) == (3, 2, 1)
    assert de["hire_rate"] == pytest.approx(0.5) and de["avg_days_to_hire"] == pytest.approx(10, abs=0.01)
    assert de["avg_match_score"] == pytest.approx((80 + 50 + 70) / 3)
    assert records(warehouse, "job_title_success", title="'; DROP TABLE fact_applications; --") == []
    assert warehouse.counts()["fact_applications"] == 7


def test_safety_trends(warehouse: Warehouse) -> None:
    rows = records(warehouse, "safety_trends", weeks=10)
    assert sum(r["screened"] for r in rows) == 6
    assert sum(r["with_issues"] for r in rows) == 1
    assert sum(r["pii_findings"] for r in rows) == 2 and sum(r["bias_findings"] for r in rows) == 1


def test_columns_are_typed(warehouse: Warehouse) -> None:
    report = run_report(warehouse, "summary", {})
    kinds = {c.name: c.kind for c in report.columns}
    assert kinds["applications"] == "int" and kinds["hire_rate"] == "double"
    trends = run_report(warehouse, "safety_trends", {})
    assert {c.name: c.kind for c in trends.columns}["week"] == "timestamp"
    assert report.data_as_of is not None


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("nope", {}, "name"),
        ("ai_performance", {"days": "many"}, "params.days"),
        ("ai_performance", {"days": "0"}, "params.days"),
        ("top_candidates", {"limit": "100000"}, "params.limit"),
        ("job_title_success", {}, "params.title"),
        ("funnel", {"colour": "red"}, "params.colour"),
    ],
)
def test_bad_report_or_parameter_is_named(warehouse: Warehouse, name: str, params: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        run_report(warehouse, name, params)
    assert err.value.field == field
