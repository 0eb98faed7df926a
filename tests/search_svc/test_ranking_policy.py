"""The ranking policy (search_svc.ranking_policy) on typed in-memory rows: no database, no server."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hiremesh.errors import InvalidArgument
from search_svc import ranking_policy as rp
from search_svc.fusion import Candidate, Policy, Reference
from search_svc.ranking_policy import Filters, Nearest, Options

REF = Reference(rows=256, cosine_mean=0.2, cosine_std=0.1, lexical_mean=0.02, lexical_std=0.01)
# z-scores against REF: semantic (cos - 0.2) / 0.1, lexical (lex - 0.02) / 0.01
SEMANTIC = Candidate("semantic", 0.7, 0.02, 1, 3)  # z 5 / 0
LEXICAL = Candidate("lexical", 0.2, 0.08, 3, 1)  # z 0 / 6
BOTH = Candidate("both", 0.5, 0.05, 2, 2)  # z 3 / 3
POOL = [SEMANTIC, LEXICAL, BOTH]


def ids(ranked: rp.Ranked) -> list[str]:
    return [s.candidate.row_id for s in ranked.scored]


def hybrid(**kw: object) -> Options:
    return rp.check_options(Options(mode="hybrid", **kw))  # type: ignore[arg-type]


def test_hybrid_orders_by_the_fused_score_and_says_how() -> None:
    ranked = rp.rank_pool(POOL, REF, hybrid(), Policy("weighted_z", 0.5))
    assert ids(ranked) == ["both", "lexical", "semantic"]  # 3.0, 3.0 (tie: vector order), 2.5
    assert (ranked.method, ranked.lexical_weight) == ("weighted_z", 0.5)
    assert ranked.scored[0].score == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("weight", "order"), [(0.0, ["semantic", "both", "lexical"]), (1.0, ["lexical", "both", "semantic"])]
)
def test_a_request_weight_at_either_end_overrides_the_deployment(weight: float, order: list[str]) -> None:
    ranked = rp.rank_pool(POOL, REF, hybrid(lexical_weight=weight), Policy("weighted_z", 0.5))
    assert ids(ranked) == order
    assert ranked.lexical_weight == weight  # 0.0 is a weight, not "unset"
    only = "semantic_z" if weight == 0.0 else "lexical_z"
    assert [s.score for s in ranked.scored] == pytest.approx([getattr(s, only) for s in ranked.scored])


def test_no_request_weight_keeps_the_deployments() -> None:
    ranked = rp.rank_pool(POOL, REF, hybrid(), Policy("rrf", 0.3))
    assert (ranked.method, ranked.lexical_weight) == ("rrf", 0.3)


def test_equal_scores_keep_the_vector_legs_order_then_the_id() -> None:
    pool = [
        Candidate("b", 0.4, 0.04, 0, 1),
        Candidate("z", 0.4, 0.04, 2, 2),
        Candidate("a", 0.4, 0.04, 0, 3),
        Candidate("y", 0.4, 0.04, 1, 4),
    ]
    # A row the vector leg did not return (position 0) comes after every row it did.
    assert ids(rp.rank_pool(pool, REF, hybrid(), Policy())) == ["y", "z", "a", "b"]


def test_keyword_mode_ranks_by_lexical_similarity_even_with_statistics() -> None:
    pool = [
        Candidate("second", None, 0.3, 0, 2),
        Candidate("first", None, 0.5, 0, 1),
        Candidate("tie-later", None, 0.3, 0, 4),
        Candidate("tie-earlier", None, 0.3, 0, 3),
    ]
    ranked = rp.rank_pool(pool, REF, Options(mode="keyword", top_k=10), Policy("weighted_z", 0.2))
    assert ids(ranked) == ["first", "second", "tie-earlier", "tie-later"]
    assert (ranked.method, ranked.lexical_weight) == ("lexical", 1.0)
    assert [s.score for s in ranked.scored] == [0.5, 0.3, 0.3, 0.3]
    assert all(s.semantic_z == s.lexical_z == 0.0 for s in ranked.scored)


def test_hybrid_without_the_semantic_leg_falls_back_to_lexical() -> None:
    ranked = rp.rank_pool(POOL, None, hybrid(lexical_weight=0.0), Policy())
    assert ids(ranked) == ["lexical", "both", "semantic"] and ranked.method == "lexical"


def test_min_similarity_filters_before_the_cut() -> None:
    pool = [Candidate(f"r{i}", cos, 0.02 + 0.01 * i, i + 1, i + 1) for i, cos in enumerate([0.9, 0.3, 0.6, 0.1, 0.5])]
    # By words alone r4 > r3 > r2 > r1 > r0; r3 and r1 are below the cosine: top_k is filled from what is left.
    ranked = rp.rank_pool(pool, REF, hybrid(top_k=2, min_similarity=0.4, lexical_weight=1.0), Policy())
    assert ids(ranked) == ["r4", "r2"]
    # Equal shares: r0 and r4 tie at 3.5 (the vector leg's order decides), r2 scores 3.0.
    assert ids(rp.rank_pool(pool, REF, hybrid(top_k=5, min_similarity=0.4), Policy())) == ["r0", "r4", "r2"]


def test_min_similarity_drops_rows_without_a_vector_and_is_ignored_in_keyword_mode() -> None:
    pool = [Candidate("no-vector", None, 0.9, 0, 1), Candidate("vector", 0.5, 0.1, 1, 2)]
    assert ids(rp.rank_pool(pool, REF, hybrid(min_similarity=0.1), Policy())) == ["vector"]
    assert ids(rp.rank_pool(pool, None, hybrid(min_similarity=0.1), Policy())) == ["vector"]
    keyword = rp.check_options(Options(mode="keyword", min_similarity=0.99))
    assert ids(rp.rank_pool(pool, None, keyword, Policy())) == ["no-vector", "vector"]


def test_empty_legs_give_no_hits() -> None:
    for opts in (hybrid(), Options(mode="keyword")):
        ranked = rp.rank_pool([], REF, opts, Policy())
        assert ranked.scored == [] and rp.explain(ranked, {"x": "record"}) == []
    assert rp.nearest_hits([], 0.5) == []


@given(st.lists(st.tuples(st.floats(-1, 1), st.floats(0, 1)), max_size=40), st.integers(1, 45))
def test_the_cut_is_a_prefix_of_the_whole_order(sims: list[tuple[float, float]], top_k: int) -> None:
    pool = [Candidate(f"r{i:02d}", cos, lex, i + 1, len(sims) - i) for i, (cos, lex) in enumerate(sims)]
    whole = ids(rp.rank_pool(pool, REF, hybrid(top_k=rp.MAX_TOP_K), Policy()))
    cut = ids(rp.rank_pool(pool, REF, hybrid(top_k=top_k), Policy()))
    assert cut == whole[:top_k] and len(cut) == min(top_k, len(pool))


def test_explain_carries_both_similarities_and_skips_deleted_rows() -> None:
    ranked = rp.rank_pool(
        [BOTH, Candidate("gone", 0.9, 0.9, 4, 4), Candidate("new", None, 0.05, 0, 5)], REF, hybrid(), Policy()
    )
    hits = rp.explain(ranked, {"both": "B", "new": "N"})
    assert [h.record for h in hits] == ["B", "N"]
    b, n = hits
    assert (b.cosine_similarity, b.keyword_rank, b.vector_position, b.keyword_position) == (0.5, 0.05, 2, 2)
    assert b.semantic_z == pytest.approx(3.0) and b.lexical_z == pytest.approx(3.0)
    assert (b.fusion, b.lexical_weight) == ("weighted_z", 0.5)
    assert (n.cosine_similarity, n.semantic_z, n.vector_position) == (0.0, 0.0, 0)  # no vector yet: neutral


def test_nearest_hits_score_by_cosine_and_keep_the_legs_positions() -> None:
    rows = [Nearest("a", 0.9), Nearest("b", 0.7), Nearest("c", 0.45), Nearest("d", 0.2)]
    hits = rp.nearest_hits(rows, 0.5)
    assert [(h.record, h.score, h.cosine_similarity, h.vector_position, h.fusion) for h in hits] == [
        ("a", 0.9, 0.9, 1, "cosine"),
        ("b", 0.7, 0.7, 2, "cosine"),
    ]
    assert [h.vector_position for h in rp.nearest_hits(rows, 0.0)] == [1, 2, 3, 4]
    assert len(rp.nearest_hits(rows, -1.0)) == 4


def test_given_pairs_are_scored_in_the_callers_order_with_weighted_z() -> None:
    policy = rp.pair_policy(Policy("rrf", 0.3), None)
    assert (policy.method, policy.lexical_weight) == ("weighted_z", 0.3)
    assert rp.pair_policy(Policy("rrf", 0.3), 0.0).lexical_weight == 0.0
    pool = [Candidate(c.row_id, c.cosine, c.lexical, 0, 0) for c in POOL]
    scored = rp.score_given(["lexical", "semantic", "lexical"], pool, REF, policy)
    assert [s.candidate.row_id for s in scored] == ["lexical", "semantic", "lexical"]
    assert scored[0].score == pytest.approx(0.3 * 6.0) and scored[1].score == pytest.approx(0.7 * 5.0)


def test_matched_skills_are_the_records_spelling_in_its_order() -> None:
    assert rp.matched_skills(["Go", "PostgreSQL", "python"], ["POSTGRESQL", "Python", "Rust"]) == [
        "PostgreSQL",
        "python",
    ]
    assert rp.matched_skills(["Go"], []) == []


@pytest.mark.parametrize(
    ("top_k", "mode", "pool"),
    [
        (1, "hybrid", 50),
        (16, "hybrid", 50),
        (17, "hybrid", 51),
        (200, "hybrid", 600),
        (10, "keyword", 10),
        (200, "vector", 200),
    ],
)
def test_pool_size_bounds(top_k: int, mode: rp.Mode, pool: int) -> None:
    assert rp.pool_size(Options(mode=mode, top_k=top_k)) == pool


def test_options_at_their_bounds() -> None:
    assert rp.check_options(Options(top_k=0)).top_k == rp.DEFAULT_TOP_K
    assert rp.check_options(Options(top_k=rp.MAX_TOP_K)).top_k == rp.MAX_TOP_K
    for weight in (0.0, 1.0):
        assert rp.check_options(Options(lexical_weight=weight)).lexical_weight == weight
    assert rp.check_options(Options(min_similarity=-1.0, ef_search=rp.MAX_EF_SEARCH)).ef_search == rp.MAX_EF_SEARCH
    checked = rp.check_options(Options(filters=Filters(location="  Berlin ", required_skills=("python", "PYTHON"))))
    assert checked.filters.location == "Berlin" and len(checked.filters.required_skills) == 1


@pytest.mark.parametrize(
    ("opts", "field"),
    [
        (Options(top_k=rp.MAX_TOP_K + 1), "options.top_k"),
        (Options(top_k=-1), "options.top_k"),
        (Options(lexical_weight=1.0001), "options.lexical_weight"),
        (Options(lexical_weight=float("nan")), "options.lexical_weight"),
        (Options(min_similarity=float("inf")), "options.min_similarity"),
        (Options(ef_search=rp.MAX_EF_SEARCH + 1), "options.ef_search"),
        (Options(filters=Filters(min_years=float("nan"))), "options.filters.min_years_experience"),
    ],
)
def test_options_out_of_bounds_name_the_field(opts: Options, field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        rp.check_options(opts)
    assert err.value.field == field


def test_ef_search_doubles_under_a_real_filter_and_stays_capped() -> None:
    assert rp.pick_ef_search(Options(filters=Filters(location="   ")), 10) == 40  # blank is no filter
    assert rp.pick_ef_search(Options(filters=Filters(job_status="closed")), 10) == 40
    assert rp.pick_ef_search(Options(filters=Filters(min_years=1)), 10) == 80
    assert rp.pick_ef_search(Options(filters=Filters(required_skills=("go",))), 600) == rp.MAX_EF_SEARCH
