"""Hire and time-to-hire models trained on a synthetic history whose outcomes depend on the AI scores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from analytics_svc import synthetic
from analytics_svc.etl import Syncer
from analytics_svc.models import FEATURES, ModelStore, check_features
from analytics_svc.warehouse import Warehouse
from hiremesh.errors import FailedPrecondition, InvalidArgument
from tests.analytics_svc.seed import prepare, seed_hand_checked


async def synced(url: str, path: Path) -> Warehouse:
    wh = Warehouse.open(path)
    async for _ in Syncer(wh, url).sync("full"):
        pass
    return wh


@pytest.fixture
async def history(fresh_db_url: str, tmp_path: Path) -> AsyncIterator[Warehouse]:
    await prepare(fresh_db_url)
    await asyncio.to_thread(synthetic.seed, fresh_db_url, synthetic.Sizes(candidates=300, jobs=16, applications=2000))
    wh = await synced(fresh_db_url, tmp_path / "analytics.duckdb")
    yield wh
    wh.close()


def features(**values: float) -> list[float]:
    base = {
        "match_score": 60,
        "skills_score": 60,
        "experience_score": 50,
        "semantic_score": 60,
        "years_experience": 5,
        "required_experience": 3,
        "skills_count": 5,
        "missing_skills_count": 1,
        "has_safety_issues": 0,
        "ai_confidence": 0.7,
    }
    return check_features({**base, **values})


def test_hire_model_beats_the_majority_baseline(history: Warehouse, tmp_path: Path) -> None:
    store = ModelStore(history, tmp_path / "models")
    steps: list[str] = []
    (hire, tth) = store.train(["hire", "time_to_hire"], lambda stage, d, t, msg: steps.append(stage))
    assert hire.samples >= 500
    assert hire.accuracy > hire.baseline_accuracy + 0.05
    assert hire.cv_mean > hire.baseline_accuracy
    assert 0 < hire.f1 <= 1 and 0 < hire.precision <= 1 and 0 < hire.recall <= 1
    assert tth.mae < tth.baseline_mae
    assert {"hire", "time_to_hire"} <= set(steps)
    assert hire.data_watermark is not None

    strong = store.predict_hire(features(match_score=95, skills_score=95, semantic_score=95, missing_skills_count=0))
    weak = store.predict_hire(features(match_score=20, skills_score=20, semantic_score=20, missing_skills_count=5))
    assert strong.probability > weak.probability and strong.likely_hire and not weak.likely_hire
    assert 0 <= weak.confidence <= 1 and set(strong.feature_importances) == set(FEATURES)
    fast = store.predict_time(features(match_score=95))
    slow = store.predict_time(features(match_score=30))
    assert fast.days < slow.days and fast.low_days <= fast.days <= fast.high_days

    # Saved with metrics and reloaded by a new store (a restarted service).
    assert (tmp_path / "models" / "hire.joblib").exists() and (tmp_path / "models" / "hire.metrics.json").exists()
    again = ModelStore(history, tmp_path / "models")
    assert set(again.load()) == {"hire", "time_to_hire"}
    assert again.predict_hire(features()).model_version == hire.version


async def test_too_little_data_or_no_model_fails_with_a_clear_message(fresh_db_url: str, tmp_path: Path) -> None:
    await prepare(fresh_db_url)
    await seed_hand_checked(fresh_db_url)
    wh = await synced(fresh_db_url, tmp_path / "analytics.duckdb")
    try:
        store = ModelStore(wh, tmp_path / "models")
        with pytest.raises(FailedPrecondition, match="at least 20"):
            store.train(["hire"], lambda *a: None)
        with pytest.raises(FailedPrecondition, match="no hire model trained yet"):
            store.predict_hire(features())
        tiny = ModelStore(wh, tmp_path / "models", min_samples=3)
        cur = wh.cursor()
        cur.execute("UPDATE fact_applications SET is_hired = false")
        cur.close()
        with pytest.raises(FailedPrecondition, match="both outcomes"):
            tiny.train(["hire"], lambda *a: None)
    finally:
        wh.close()


def test_features_are_validated() -> None:
    with pytest.raises(InvalidArgument) as err:
        features(match_score=140)
    assert err.value.field == "features.match_score"
    with pytest.raises(InvalidArgument):
        features(ai_confidence=float("nan"))
