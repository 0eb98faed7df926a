"""The hire predictor (random forest) and time-to-hire regression, trained on the warehouse's facts.

Models are saved with joblib next to their metrics and the warehouse watermark they were trained on, and
loaded again at start-up. Training and prediction are CPU work: callers run them in an executor.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, precision_score, r2_score, recall_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score, train_test_split

from analytics_svc.warehouse import Warehouse
from hiremesh.errors import FailedPrecondition, InvalidArgument, NotFound

log = logging.getLogger("analytics_svc.models")

ModelKind = Literal["hire", "time_to_hire"]
KINDS: tuple[ModelKind, ...] = ("hire", "time_to_hire")

FEATURES = (
    "match_score",
    "skills_score",
    "experience_score",
    "semantic_score",
    "years_experience",
    "required_experience",
    "skills_count",
    "missing_skills_count",
    "has_safety_issues",
    "ai_confidence",
)
_FEATURE_SQL = ", ".join(f"coalesce({f}::DOUBLE, 0)" for f in FEATURES)
_BOUNDS: dict[str, tuple[float, float]] = {
    "match_score": (0, 100),
    "skills_score": (0, 100),
    "experience_score": (0, 100),
    "semantic_score": (0, 100),
    "years_experience": (0, 80),
    "required_experience": (0, 80),
    "skills_count": (0, 10_000),
    "missing_skills_count": (0, 10_000),
    "has_safety_issues": (0, 1),
    "ai_confidence": (0, 1),
}

Progress = Callable[[str, int, int, str], None]


@dataclass
class Metrics:
    kind: ModelKind
    version: str
    samples: int
    trained_at: datetime
    data_watermark: datetime | None
    accuracy: float = 0.0
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0
    cv_mean: float = 0.0  # hire: CV accuracy; time_to_hire: CV mean absolute error (days)
    cv_std: float = 0.0
    baseline_accuracy: float = 0.0
    mae: float = 0.0
    r2: float = 0.0
    baseline_mae: float = 0.0
    feature_importances: dict[str, float] = field(default_factory=dict)
    residual_std: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["trained_at"] = self.trained_at.isoformat()
        data["data_watermark"] = self.data_watermark.isoformat() if self.data_watermark else None
        return data


@dataclass(frozen=True)
class HirePrediction:
    probability: float
    likely_hire: bool
    confidence: float
    model_version: str
    feature_importances: dict[str, float]


@dataclass(frozen=True)
class TimePrediction:
    days: float
    low_days: float
    high_days: float
    confidence: float
    model_version: str


def check_features(values: dict[str, float]) -> list[float]:
    """Validate a feature mapping (InvalidArgument naming the field) and return it in model order."""
    row = []
    for name in FEATURES:
        value = float(values.get(name, 0.0))
        low, high = _BOUNDS[name]
        if not math.isfinite(value) or not low <= value <= high:
            raise InvalidArgument(f"features.{name}", f"must be a number between {low:g} and {high:g}")
        row.append(value)
    return row


class ModelStore:
    """Trains, saves, loads and applies the two models."""

    def __init__(
        self,
        warehouse: Warehouse,
        folder: Path,
        *,
        min_samples: int = 20,
        min_time_samples: int = 10,
        max_rows: int = 50_000,
    ) -> None:
        self._wh = warehouse
        self._folder = folder
        self._min = min_samples
        self._min_time = min_time_samples
        self._max_rows = max_rows
        self._models: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def load(self) -> list[str]:
        """Load saved models; the kinds found."""
        for kind in KINDS:
            path = self._folder / f"{kind}.joblib"
            if path.exists():
                try:
                    self._models[kind] = joblib.load(path)
                except Exception:
                    log.exception("cannot load %s; retrain it", path)
        return list(self._models)

    def metrics(self, kind: ModelKind) -> Metrics | None:
        model = self._models.get(kind)
        return model["metrics"] if model else None

    # --- training --------------------------------------------------------------------------------------
    def _rows(self, where: str, extra: str = "") -> np.ndarray:
        cur = self._wh.cursor()
        try:
            sql = (
                f"SELECT {_FEATURE_SQL}{extra} FROM fact_applications WHERE {where} "  # noqa: S608 - constants
                f"ORDER BY hash(application_id) LIMIT {int(self._max_rows)}"
            )
            columns = cur.execute(sql).fetchnumpy()
        finally:
            cur.close()
        if not columns:
            return np.empty((0, len(FEATURES) + 1))
        return np.column_stack([np.asarray(c, dtype=float) for c in columns.values()])

    def _watermark(self) -> datetime | None:
        marks = self._wh.watermarks()
        return datetime.fromtimestamp(max(marks.values()) / 1e6, UTC) if marks else None

    def train(self, kinds: Sequence[ModelKind], progress: Progress, *, strict: bool = True) -> list[Metrics]:
        """Train `kinds`; with strict=False a model lacking data is skipped (FailedPrecondition if none trains)."""
        done: list[Metrics] = []
        skipped: list[str] = []
        for kind in kinds:
            try:
                done.append(self._train_hire(progress) if kind == "hire" else self._train_time(progress))
            except FailedPrecondition as exc:
                if strict:
                    raise
                skipped.append(exc.message)
                progress(kind, 0, 0, f"skipped: {exc.message}")
        if not done:
            raise FailedPrecondition("; ".join(skipped) or "no model requested")
        return done

    def _train_hire(self, progress: Progress) -> Metrics:
        progress("hire", 0, 4, "loading labelled applications")
        data = self._rows("is_screened AND is_decided", ", is_hired::DOUBLE")
        if len(data) < self._min:
            raise FailedPrecondition(
                f"hire model needs at least {self._min} screened applications with a decision (hired or "
                f"rejected); the warehouse has {len(data)} — sync first or wait for more decisions"
            )
        x, y = data[:, :-1], data[:, -1].astype(int)
        counts = np.bincount(y, minlength=2)
        if counts.min() == 0:
            only = "hired" if counts[1] else "rejected"
            raise FailedPrecondition(f"hire model needs both outcomes; all {len(y)} labelled applications are {only}")
        clf = RandomForestClassifier(n_estimators=100, min_samples_leaf=3, max_depth=12, random_state=0, n_jobs=2)
        folds = int(min(3, counts.min()))
        cv = np.array([0.0])
        if folds >= 2:
            progress("hire", 1, 4, f"{folds}-fold cross-validation on {len(y)} samples")
            cv = cross_val_score(clf, x, y, cv=StratifiedKFold(folds, shuffle=True, random_state=0), scoring="accuracy")
        progress("hire", 2, 4, "held-out evaluation")
        stratify = y if counts.min() >= 2 else None
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=0, stratify=stratify)
        clf.fit(x_tr, y_tr)
        pred = clf.predict(x_te)
        progress("hire", 3, 4, "fitting on all samples")
        clf.fit(x, y)
        now = datetime.now(UTC)
        metrics = Metrics(
            kind="hire",
            version=f"hire-{now:%Y%m%dT%H%M%SZ}",
            samples=len(y),
            trained_at=now,
            data_watermark=self._watermark(),
            accuracy=float(accuracy_score(y_te, pred)),
            precision=float(precision_score(y_te, pred, zero_division=0)),
            recall=float(recall_score(y_te, pred, zero_division=0)),
            f1=float(f1_score(y_te, pred, zero_division=0)),
            cv_mean=float(cv.mean()),
            cv_std=float(cv.std()),
            baseline_accuracy=float(max(y_te.mean(), 1 - y_te.mean())),
            feature_importances={f: float(v) for f, v in zip(FEATURES, clf.feature_importances_, strict=True)},
        )
        self._save("hire", {"model": clf, "metrics": metrics})
        progress("hire", 4, 4, f"accuracy {metrics.accuracy:.3f} vs baseline {metrics.baseline_accuracy:.3f}")
        return metrics

    def _train_time(self, progress: Progress) -> Metrics:
        progress("time_to_hire", 0, 3, "loading hires")
        data = self._rows("is_screened AND is_hired AND days_to_decision IS NOT NULL", ", days_to_decision")
        if len(data) < self._min_time:
            raise FailedPrecondition(
                f"time-to-hire model needs at least {self._min_time} screened hires with a "
                f"decision date; the warehouse has {len(data)}"
            )
        x, y = data[:, :-1], data[:, -1]
        reg = LinearRegression()
        folds = min(3, len(y) // 2)
        progress("time_to_hire", 1, 3, f"{folds}-fold cross-validation on {len(y)} hires")
        cv = -cross_val_score(
            reg, x, y, cv=KFold(folds, shuffle=True, random_state=0), scoring="neg_mean_absolute_error"
        )
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=0)
        reg.fit(x_tr, y_tr)
        pred = reg.predict(x_te)
        residual_std = float(np.std(y_te - pred))
        reg.fit(x, y)
        now = datetime.now(UTC)
        metrics = Metrics(
            kind="time_to_hire",
            version=f"time_to_hire-{now:%Y%m%dT%H%M%SZ}",
            samples=len(y),
            trained_at=now,
            data_watermark=self._watermark(),
            mae=float(mean_absolute_error(y_te, pred)),
            r2=float(r2_score(y_te, pred)) if len(y_te) > 1 else 0.0,
            baseline_mae=float(mean_absolute_error(y_te, np.full_like(y_te, y_tr.mean()))),
            cv_mean=float(cv.mean()),
            cv_std=float(cv.std()),
            residual_std=residual_std,
        )
        self._save("time_to_hire", {"model": reg, "metrics": metrics})
        progress("time_to_hire", 3, 3, f"MAE {metrics.mae:.2f} days vs baseline {metrics.baseline_mae:.2f}")
        return metrics

    def _save(self, kind: str, bundle: dict[str, Any]) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        path = self._folder / f"{kind}.joblib"
        tmp = path.with_suffix(".joblib.tmp")
        joblib.dump({**bundle, "features": FEATURES}, tmp)
        os.replace(tmp, path)  # a reader never loads a half-written model
        (self._folder / f"{kind}.metrics.json").write_text(json.dumps(bundle["metrics"].to_json(), indent=2))
        with self._lock:
            self._models[kind] = {**bundle, "features": FEATURES}

    # --- prediction ------------------------------------------------------------------------------------
    def _model(self, kind: ModelKind) -> dict[str, Any]:
        model = self._models.get(kind)
        if model is None:
            raise FailedPrecondition(f"no {kind} model trained yet: run TrainModels (hiremesh analytics train)")
        return model

    def features_for(self, application_id: str) -> list[float]:
        cur = self._wh.cursor()
        try:
            rows = cur.execute(
                f"SELECT is_screened, {_FEATURE_SQL} FROM fact_applications "  # noqa: S608
                "WHERE application_id = TRY_CAST(? AS UUID)",
                [application_id],
            ).fetchall()
        finally:
            cur.close()
        row = rows[0] if rows else None
        if row is None:
            raise NotFound(f"application {application_id} is not in the warehouse (sync first?)")
        if not row[0]:
            raise FailedPrecondition(f"application {application_id} has no screening result yet")
        return [float(v) for v in row[1:]]

    def predict_hire(self, features: list[float]) -> HirePrediction:
        model = self._model("hire")
        clf: RandomForestClassifier = model["model"]
        metrics: Metrics = model["metrics"]
        proba = clf.predict_proba(np.asarray([features]))[0]
        p = float(proba[list(clf.classes_).index(1)]) if 1 in clf.classes_ else 0.0
        # Far from 0.5 is a firmer call, but only as firm as the model is accurate.
        confidence = abs(2 * p - 1) * max(0.0, min(1.0, metrics.cv_mean or metrics.accuracy))
        return HirePrediction(p, p >= 0.5, confidence, metrics.version, metrics.feature_importances)

    def predict_time(self, features: list[float]) -> TimePrediction:
        model = self._model("time_to_hire")
        metrics: Metrics = model["metrics"]
        days = max(0.0, float(model["model"].predict(np.asarray([features]))[0]))
        spread = 1.645 * metrics.residual_std  # ~90% interval under normal residuals
        return TimePrediction(
            days, max(0.0, days - spread), days + spread, max(0.0, min(1.0, metrics.r2)), metrics.version
        )
