"""The hybrid ranking policy (search_svc.fusion) and the keyword query classifier, without a database."""

from __future__ import annotations

import pytest

from search_svc import fusion, lexical
from search_svc.fusion import Candidate, Policy, Reference

REF = Reference(rows=256, cosine_mean=0.2, cosine_std=0.1, lexical_mean=0.02, lexical_std=0.01)


def test_weighted_z_puts_strong_evidence_on_both_legs_first() -> None:
    pool = [
        Candidate("semantic-only", 0.6, 0.02, 1, 0),  # z 4.0 / 0.0
        Candidate("both", 0.5, 0.05, 2, 2),  # z 3.0 / 3.0
        Candidate("lexical-only", 0.2, 0.07, 0, 1),
    ]  # z 0.0 / 5.0
    scored = fusion.fuse(pool, REF, Policy("weighted_z", 0.5))
    assert [s.candidate.row_id for s in scored] == ["both", "lexical-only", "semantic-only"]
    assert scored[0].score == pytest.approx(3.0)
    assert (scored[0].semantic_z, scored[0].lexical_z) == pytest.approx((3.0, 3.0))


def test_the_weight_moves_the_order_between_the_legs() -> None:
    pool = [Candidate("semantic", 0.6, 0.02, 1, 2), Candidate("lexical", 0.2, 0.07, 2, 1)]
    assert fusion.fuse(pool, REF, Policy(lexical_weight=0.0))[0].candidate.row_id == "semantic"
    assert fusion.fuse(pool, REF, Policy(lexical_weight=1.0))[0].candidate.row_id == "lexical"


def test_the_score_does_not_depend_on_the_rest_of_the_pool() -> None:
    one = Candidate("x", 0.45, 0.04, 3, 4)
    alone = fusion.fuse([one], REF, Policy())[0].score
    crowded = fusion.fuse([one, *[Candidate(f"r{i}", 0.3, 0.01 * i, i, i) for i in range(5, 60)]], REF, Policy())
    assert next(s.score for s in crowded if s.candidate.row_id == "x") == pytest.approx(alone)


def test_a_row_without_a_vector_is_neutral_on_meaning() -> None:
    scored = fusion.fuse([Candidate("new", None, 0.05, 0, 1)], REF, Policy(lexical_weight=0.4))
    assert scored[0].semantic_z == 0.0
    assert scored[0].score == pytest.approx(0.4 * 3.0)


def test_a_catalog_too_small_to_sample_uses_the_pool() -> None:
    pool = [Candidate("a", 0.5, 0.1, 1, 1), Candidate("b", 0.3, 0.0, 2, 2)]
    scored = fusion.fuse(pool, Reference(1, 0.0, 0.0, 0.0, 0.0), Policy())
    assert [s.candidate.row_id for s in scored] == ["a", "b"]
    assert scored[0].score == pytest.approx(1.0) and scored[1].score == pytest.approx(-1.0)


def test_rrf_rewards_rows_in_both_lists() -> None:
    pool = [
        Candidate("a", 0.9, 0.0, 1, 0),
        Candidate("b", 0.8, 0.0, 2, 0),
        Candidate("c", 0.7, 0.1, 3, 1),
        Candidate("d", 0.1, 0.05, 0, 2),
    ]
    scored = fusion.fuse(pool, REF, Policy("rrf", 0.5))
    assert [s.candidate.row_id for s in scored] == ["c", "a", "b", "d"]  # b and d tie: the vector order first
    assert scored[0].score == pytest.approx(0.5 / 63 + 0.5 / 61)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_policy_refuses_a_weight_outside_0_1(bad: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        Policy(lexical_weight=bad)


def test_policy_refuses_an_unknown_method() -> None:
    with pytest.raises(ValueError, match="unknown fusion method"):
        Policy("borda")  # type: ignore[arg-type]  # not a FusionMethod, on purpose


@pytest.mark.parametrize(
    ("text", "strict"),
    [
        ('"welding specialist" -python', True),
        ("java or python", True),
        ("kubernetes -openshift", True),
        ("python django postgres", False),
        ("C++ & Go; DROP TABLE x --", False),
        (
            "Senior Java developer. Spring Boot or Micronaut, Hibernate, Maven and JUnit; you will design REST APIs, "
            "review code and mentor two juniors in a distributed team.",
            False,
        ),
    ],
)
def test_short_queries_with_operators_are_strict_and_everything_else_a_bag_of_terms(text: str, strict: bool) -> None:
    assert lexical.classify(text).strict is strict
