"""Toxicity with the real alt-profanity-check model and the rules around it."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrail_svc.toxicity import DetoxifyBackend, ProfanityCheckBackend, ToxicityBackendError, ToxicityScorer

PROFESSIONAL = [
    "Strong Python developer with five years of Kafka experience.",
    "The candidate communicates clearly and mentors junior engineers.",
    "Led the migration to Kubernetes and cut deployment time by half.",
    "Her design reviews are thorough and constructive.",
]
TOXIC = [
    "You are a fucking idiot and your code is shit.",
    "This resume is complete bullshit, what a moron.",
    "I will kill you if you reject my application.",
    "Immigrants are animals and should go back to your own country.",
    "Women are too emotional to be engineers.",
]
# Recruiting and engineering jargon that must never score as toxic.
JARGON = [
    "You have a killer instinct for closing deals.",
    "We need someone who can execute on an ambitious roadmap.",
    "Attack problems head on and own the outcome.",
    "Kill the process and shoot me an email when the job is done.",
    "Crush your targets and hit the ground running.",
    "Our rockstar ninja engineers love a good hackathon.",
    "Experience with penetration testing and the attack surface of web apps.",
    "Fire-fighting production incidents under tight deadlines.",
    "Battle-tested, bullet-proof designs that beat the competition.",
]


def test_toxic_and_professional_are_separated(scorer: ToxicityScorer) -> None:
    toxic = scorer.score_many(TOXIC)
    clean = scorer.score_many(PROFESSIONAL)
    assert all(r.toxic for r in toxic), [(t, r.score) for t, r in zip(TOXIC, toxic, strict=True)]
    assert not any(r.toxic for r in clean)
    assert min(r.score for r in toxic) > max(r.score for r in clean)


@pytest.mark.parametrize("phrase", JARGON)
def test_recruiting_jargon_is_not_toxic(scorer: ToxicityScorer, phrase: str) -> None:
    result = scorer.score(phrase)
    assert not result.toxic and not result.findings, (phrase, result.dimensions)


def test_rules_catch_threats_and_identity_attacks_without_swear_words(scorer: ToxicityScorer) -> None:
    threat = scorer.score("Reject me and I will hurt you. Watch your back.")
    assert threat.toxic and {f.category for f in threat.findings} == {"threat"}
    assert all(f.source == "rules" for f in threat.findings)
    attack = scorer.score("Muslims are inferior.")
    assert attack.toxic and attack.findings[0].category == "identity_attack"
    assert attack.dimensions["identity_attack"] >= 0.9 > attack.dimensions["profanity"]


def test_report_names_backend_and_its_real_dimensions(scorer: ToxicityScorer) -> None:
    result = scorer.score(PROFESSIONAL[0])
    assert result.backend == "profanity-check"
    assert set(result.dimensions) == {"profanity", "threat", "identity_attack", "self_harm"}
    assert "insult" not in result.dimensions and result.threshold == 0.7


def test_threshold_is_configurable_per_call(scorer: ToxicityScorer) -> None:
    text = "Attack problems head on."  # a middling score from the bag-of-words model
    assert not scorer.score(text).toxic
    assert scorer.score(text, threshold=0.01).toxic


def test_finding_spans_point_at_the_sentence(scorer: ToxicityScorer) -> None:
    text = "Great Go skills. This code is shit. Clear communicator."
    (finding,) = scorer.score(text).findings
    assert text[finding.start : finding.end].strip() == "This code is shit."


def test_fast_path_agrees_with_library() -> None:
    backend = ProfanityCheckBackend()
    from profanity_check import predict_prob

    texts = TOXIC + PROFESSIONAL + JARGON
    ours = [s["profanity"] for s in backend.score(texts)]
    assert ours == pytest.approx(list(predict_prob(texts)), abs=1e-9)


def test_detoxify_checkpoint_without_package_fails_clearly(tmp_path: Path) -> None:
    checkpoint = tmp_path / "toxic_original.ckpt"
    checkpoint.write_bytes(b"not a real checkpoint")
    with pytest.raises(ToxicityBackendError, match="detoxify package is not installed"):
        DetoxifyBackend(checkpoint)
    with pytest.raises(ToxicityBackendError, match="no file"):
        DetoxifyBackend(tmp_path / "missing.ckpt")
