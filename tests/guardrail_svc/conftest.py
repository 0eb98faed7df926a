"""The real models, loaded once per test session (each load takes a few seconds)."""

from __future__ import annotations

import pytest

from guardrail_svc.pii import PiiDetector
from guardrail_svc.scanner import Guardrail, Limits
from guardrail_svc.toxicity import ProfanityCheckBackend, ToxicityScorer


@pytest.fixture(scope="session")
def detector() -> PiiDetector:
    return PiiDetector()


@pytest.fixture(scope="session")
def scorer() -> ToxicityScorer:
    return ToxicityScorer(ProfanityCheckBackend(), threshold=0.7)


@pytest.fixture(scope="session")
def guardrail(detector: PiiDetector, scorer: ToxicityScorer) -> Guardrail:
    return Guardrail(detector, scorer, Limits(max_text_bytes=1_000_000, max_batch_texts=256))
