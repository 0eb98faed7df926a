"""In-process model for the embedding unit tests (the real built model, loaded once)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from embedding_svc.artifacts import model_path
from embedding_svc.model import MiniLM

REFERENCE = Path(__file__).resolve().parents[2] / "bench" / "reference" / "minilm_reference.json"


@pytest.fixture(scope="session")
def minilm(embedding_models: Path) -> MiniLM:
    model = MiniLM(model_path(embedding_models), threads=2)
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def minilm_int8(embedding_models: Path) -> MiniLM:
    model = MiniLM(model_path(embedding_models), threads=2, variant="int8")
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REFERENCE.read_text())
    return data
