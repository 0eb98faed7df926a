"""The PII findings cache: repeats skip the models yet answer exactly as they would, and it keeps no text."""

from __future__ import annotations

import pytest

from guardrail_svc import metrics
from guardrail_svc.config import GuardrailConfig
from guardrail_svc.pii import PiiDetector
from guardrail_svc.pii_cache import FindingsCache
from guardrail_svc.report import PiiFinding
from hiremesh.config import ConfigError
from tests.guardrail_svc.resumes import make_resume

QUESTION = "Ask Maria Gonzalez (maria.gonzalez@example.org) how she ran Kubernetes upgrades in Lisbon."


def hits() -> float:
    return float(metrics.PII_CACHE.labels("hit")._value.get())  # the child's private value is untyped


@pytest.fixture
def cached(detector: PiiDetector, monkeypatch: pytest.MonkeyPatch) -> PiiDetector:
    monkeypatch.setattr(detector, "cache", FindingsCache(64))
    return detector


def test_a_repeated_text_is_answered_from_the_cache_with_the_same_findings(
    cached: PiiDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = cached.analyze(QUESTION)
    assert {f.entity_type for f in first} >= {"PERSON", "EMAIL_ADDRESS", "LOCATION"}
    before = hits()

    def no_models(texts: list[str], *_: object, **__: object) -> object:
        assert not texts, "the models ran for a cached text"
        return iter(())

    monkeypatch.setattr(cached.nlp, "process_full", no_models)
    monkeypatch.setattr(cached.nlp, "process_fast", no_models)
    assert cached.analyze(QUESTION) == first
    assert hits() == before + 1


def test_the_cache_does_not_change_any_answer_over_real_strings(cached: PiiDetector) -> None:
    lines = [line for seed in range(4) for line in make_resume(seed).text.splitlines() if line.strip()]
    cold = cached.analyze_many(lines)
    warm = cached.analyze_many(lines)
    cached.cache = FindingsCache(0)
    assert cold == warm == cached.analyze_many(lines)
    assert any(cold), "the resumes' lines hold planted PII"


def test_each_entity_set_and_mode_has_its_own_entry(cached: PiiDetector) -> None:
    full = cached.analyze(QUESTION)
    fast = cached.analyze(QUESTION, mode="fast")
    emails = cached.analyze(QUESTION, entities=["EMAIL_ADDRESS"])
    assert "PERSON" in {f.entity_type for f in full}
    assert "PERSON" not in {f.entity_type for f in fast} and "EMAIL_ADDRESS" in {f.entity_type for f in fast}
    assert {f.entity_type for f in emails} == {"EMAIL_ADDRESS"}
    assert len(cached.cache) == 3


def test_least_recently_used_entries_go_first() -> None:
    cache = FindingsCache(2)
    finding = PiiFinding("PERSON", 0, 4, 0.85, "SpacyRecognizer")
    a, b, c = (cache.key(t, ["PERSON"], True) for t in ("Anna here", "Bert here", "Carl here"))
    cache.put(a, [finding])
    cache.put(b, [])
    assert cache.get(a) == [finding]  # a is now the most recent
    cache.put(c, [])
    assert len(cache) == 2 and cache.get(b) is None and cache.get(a) == [finding]


def test_long_texts_and_a_zero_size_cache_keep_nothing() -> None:
    assert FindingsCache(10).key("x" * 2_001, ["PERSON"], True) is None
    assert FindingsCache(0).key("short", ["PERSON"], True) is None
    cache = FindingsCache(0)
    cache.put(cache.key("short", ["PERSON"], True), [])
    assert len(cache) == 0


def test_the_cache_holds_no_text(cached: PiiDetector) -> None:
    cached.analyze(QUESTION)
    stored = repr(cached.cache._items)
    for piece in ("Maria", "Gonzalez", "maria.gonzalez", "Lisbon"):
        assert piece not in stored


def test_cache_size_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIREMESH_GUARDRAIL_PII_CACHE", "0")
    assert GuardrailConfig.from_env().pii_cache_entries == 0
    monkeypatch.setenv("HIREMESH_GUARDRAIL_PII_CACHE", "-1")
    with pytest.raises(ConfigError, match="HIREMESH_GUARDRAIL_PII_CACHE"):
        GuardrailConfig.from_env()
