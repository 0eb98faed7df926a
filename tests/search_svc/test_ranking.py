"""Ranking SQL on a real PostgreSQL + pgvector, with a stand-in vector function instead of the model.

The stand-in maps each topic word to its own direction, so which rows are nearest is known exactly; the
real model is exercised by tests/integration/test_search_grpc.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from hiremesh.db import migrate, open_pool
from hiremesh.errors import InvalidArgument, NotFound
from search_svc import lexical, ranking_policy, term_stats
from search_svc.ranking import Ranker
from search_svc.ranking_policy import Filters, Options
from search_svc.ranking_store import CANDIDATE_TARGET, Query

MIGRATIONS = Path(__file__).resolve().parents[2] / "search_svc" / "migrations"
TOPICS = ["python", "java", "nursing", "accounting", "welding", "design"]


def standin_vector(text: str, jitter: int = 0) -> np.ndarray:
    """A unit vector near the axis of the first topic word in `text` (a deterministic stand-in embedding)."""
    seed = int(hashlib.sha256(f"{text}|{jitter}".encode()).hexdigest()[:8], 16)
    vec = np.random.default_rng(seed).normal(0, 0.05, 384).astype(np.float32)
    for i, topic in enumerate(TOPICS):
        if topic in text.lower():
            vec[i] += 1.0
            break
    return vec / np.linalg.norm(vec)


# search_svc's Embedder is a gRPC client class, not a Protocol: passing this stand-in to Ranker takes a
# `type: ignore[arg-type]`.
class StandinEmbedder:
    async def embed_one(self, text: str) -> np.ndarray:
        return standin_vector(text)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pool(module_db_url: str) -> AsyncIterator[Any]:
    await migrate(module_db_url, "catalog", MIGRATIONS)
    pool = await open_pool(module_db_url, max_size=4)
    rows = []
    for i in range(3000):
        topic = TOPICS[i % len(TOPICS)]
        # 30 rows in Reykjavik, all of them "design" people: far from a python query vector.
        location = "Reykjavik" if i % 100 == 5 else ("50%_off town" if i == 7 else "Berlin")
        rows.append(
            (
                f"Person {i}",
                location,
                float(i % 15),
                [topic.title()],
                f"{topic} specialist number {i}",
                standin_vector(topic, i),
            )
        )
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO catalog.candidates (name, location, years_experience, skills, resume_text, embedding, "
            "embedded_at) VALUES (%s, %s, %s, %s, %s, %s, now())",
            rows,
        )
        await cur.execute(
            "INSERT INTO catalog.jobs (title, status, required_skills) VALUES "
            "('Python developer', 'open', '{Python}'), ('Python architect', 'closed', '{Python}')"
        )
    yield pool
    await pool.close()


@pytest.fixture
def ranker(pool: Any) -> Ranker:
    return Ranker(pool, StandinEmbedder())  # type: ignore[arg-type]


async def test_vector_search_ranks_by_cosine(ranker: Ranker) -> None:
    result = await ranker.candidates_for_text("python backend work", Options(mode="vector", top_k=20))
    assert len(result.hits) == 20
    assert all("python" in h.record.resume_text for h in result.hits)
    sims = [h.cosine_similarity for h in result.hits]
    assert sims == sorted(sims, reverse=True)
    assert [h.vector_position for h in result.hits] == list(range(1, 21))


async def test_a_selective_filter_does_not_starve_the_vector_leg(ranker: Ranker) -> None:
    # Every Reykjavik row is far from the query, so a plain HNSW scan with ef_search=40 finds none of them.
    opts = Options(mode="vector", top_k=10, ef_search=40, filters=Filters(location="reykjavik"))
    result = await ranker.candidates_for_text("python", opts)
    assert len(result.hits) == 10
    assert {h.record.location for h in result.hits} == {"Reykjavik"}


async def test_min_similarity_drops_weak_hits(ranker: Ranker) -> None:
    opts = Options(mode="vector", top_k=50, min_similarity=0.5, filters=Filters(location="reykjavik"))
    assert (await ranker.candidates_for_text("python", opts)).hits == []


async def test_filters_for_experience_and_skills(ranker: Ranker) -> None:
    opts = Options(mode="hybrid", top_k=30, filters=Filters(min_years=12, required_skills=("java",)))
    hits = (await ranker.candidates_for_text("java", opts)).hits
    assert hits
    assert all(h.record.years_experience >= 12 and "Java" in h.record.skills for h in hits)
    assert all(h.matched_skills == ["Java"] for h in hits)


async def test_like_metacharacters_in_a_location_are_literal(ranker: Ranker) -> None:
    hits = await ranker.candidates_for_text("python", Options(mode="hybrid", filters=Filters(location="50%_off")))
    assert [h.record.name for h in hits.hits] == ["Person 7"]


@pytest.mark.parametrize("text", ["'; DROP TABLE catalog.candidates; --", "nursing) OR 1=1 --", "\\", "!!! & | :*"])
async def test_sql_metacharacters_in_keyword_queries_are_inert(ranker: Ranker, pool: Any, text: str) -> None:
    try:
        await ranker.candidates_for_text(text, Options(mode="keyword"))
    except InvalidArgument as err:  # a query with no word in it: a clear error, and nothing else happens
        assert err.field == "text"
    async with pool.connection() as conn:
        count = await (await conn.execute("SELECT count(*) FROM catalog.candidates")).fetchone()
    assert count[0] == 3000


async def test_websearch_syntax_works_in_keyword_mode(ranker: Ranker) -> None:
    hits = (await ranker.candidates_for_text('"welding specialist" -python', Options(mode="keyword", top_k=5))).hits
    assert len(hits) == 5
    assert all("welding" in h.record.resume_text and h.keyword_rank > 0 for h in hits)
    assert all(h.keyword_position >= 1 and h.vector_position == 0 for h in hits)
    none = await ranker.candidates_for_text('"welding number" -welding', Options(mode="keyword"))
    assert none.hits == []  # exclusions are exact, not a bag of terms


async def test_rare_terms_outweigh_common_ones(ranker: Ranker, pool: Any) -> None:
    tag = "qzxtag"  # a word no other row has
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO catalog.candidates (name, resume_text) VALUES (%s, %s), (%s, %s)",
            [
                "Common Words",
                f"{tag} specialist specialist specialist number number specialist",
                "Rare Word",
                f"{tag} Hibernate",
            ],
        )
    hits = (await ranker.candidates_for_text(f"{tag} Hibernate specialist", Options(mode="keyword"))).hits
    # 'specialist' and 'number' are in all of the 3000 fixture rows (which match through 'specialist' alone),
    # 'hibernate' in one: the row with the rare word comes first though the other says 'specialist' four times.
    assert [h.record.name for h in hits[:2]] == ["Rare Word", "Common Words"]
    assert all(0 < h.keyword_rank <= 1 and h.score == h.keyword_rank for h in hits)
    assert [h.keyword_position for h in hits] == list(range(1, len(hits) + 1))


async def test_a_pasted_job_description_is_a_bag_of_terms(ranker: Ranker) -> None:
    text = (
        "We are hiring a welding specialist for our shipyard. You will weld, inspect seams, read drawings "
        "and keep the workshop safe; certification and a driving licence are a plus."
    )
    hits = (await ranker.candidates_for_text(text, Options(mode="keyword", top_k=5))).hits
    assert len(hits) == 5  # no resume holds every word, yet the welders come first
    assert all("welding" in h.record.resume_text for h in hits)


async def test_a_query_of_stop_words_is_a_clear_error_in_keyword_mode(ranker: Ranker) -> None:
    with pytest.raises(InvalidArgument) as err:
        await ranker.candidates_for_text("the and of to be", Options(mode="keyword"))
    assert err.value.field == "text" and "stop words" in err.value.message


async def test_scores_stay_the_same_when_pending_counts_are_folded(ranker: Ranker, pool: Any) -> None:
    opts = Options(mode="hybrid", top_k=10)
    before = (await ranker.candidates_for_text("nursing specialist", opts)).hits
    await term_stats.fold(pool)
    async with pool.connection() as conn:
        pending = await (await conn.execute("SELECT count(*) FROM catalog.term_stats_pending")).fetchone()
    assert pending[0] == 0
    after = (await ranker.candidates_for_text("nursing specialist", opts)).hits
    assert [h.record.id for h in after] == [h.record.id for h in before]
    assert [h.score for h in after] == pytest.approx([h.score for h in before])


async def test_term_counts_follow_inserts_updates_and_deletes(pool: Any) -> None:
    async def docs(lexeme: str) -> int:
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT coalesce((SELECT docs FROM catalog.term_stats WHERE corpus = 'candidates' "
                "AND dim = catalog.term_dim(%s)), 0) + coalesce((SELECT sum(delta) FROM catalog.term_stats_pending "
                "WHERE corpus = 'candidates' AND dim = catalog.term_dim(%s)), 0)",
                [lexeme, lexeme],
            )
            return int((await cur.fetchone())[0])

    async with pool.connection() as conn:
        cur = await conn.execute(
            "INSERT INTO catalog.candidates (name, resume_text) VALUES ('Counted', 'zymurgy zymurgy') RETURNING id"
        )
        row_id = (await cur.fetchone())[0]
        assert await docs("zymurgy") == 1  # counted once per row, however often the word appears
        await conn.execute("UPDATE catalog.candidates SET resume_text = 'oenology' WHERE id = %s", [row_id])
        assert (await docs("zymurgy"), await docs("oenology")) == (0, 1)
        await conn.execute("UPDATE catalog.candidates SET embedded_at = now() WHERE id = %s", [row_id])
        assert await docs("oenology") == 1  # a change that leaves the text alone counts nothing
        await term_stats.fold(pool)
        await conn.execute("DELETE FROM catalog.candidates WHERE id = %s", [row_id])
        assert await docs("oenology") == 0


async def test_the_keyword_leg_scores_only_rows_with_the_rarest_terms(pool: Any) -> None:
    tight = Ranker(pool, StandinEmbedder(), lexical_budget=100)  # type: ignore[arg-type]
    # 'java' is in 500 rows, 'specialist' in all 3000: within the budget only the java rows are scored.
    hits = (await tight.candidates_for_text("java specialist", Options(mode="keyword", top_k=50))).hits
    assert len(hits) == 50 and all("java" in h.record.resume_text for h in hits)


async def test_job_search_defaults_to_open_jobs(ranker: Ranker) -> None:
    hits = (await ranker.jobs_for_text("python", Options(mode="keyword"))).hits
    assert [h.record.title for h in hits] == ["Python developer"]
    closed = await ranker.jobs_for_text("python", Options(mode="keyword", filters=Filters(job_status="closed")))
    assert [h.record.title for h in closed.hits] == ["Python architect"]


@pytest.mark.parametrize(
    ("opts", "field"),
    [
        (Options(top_k=201), "options.top_k"),
        (Options(min_similarity=1.5), "options.min_similarity"),
        (Options(ef_search=5000), "options.ef_search"),
        (Options(filters=Filters(min_years=-1)), "options.filters.min_years_experience"),
    ],
)
async def test_bad_options_name_the_field(ranker: Ranker, opts: Options, field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        await ranker.candidates_for_text("python", opts)
    assert err.value.field == field


def test_ef_search_grows_with_pool_and_filters() -> None:
    assert ranking_policy.pick_ef_search(Options(), 10) == 40
    assert ranking_policy.pick_ef_search(Options(), 10, rows=100_000) == 40
    assert ranking_policy.pick_ef_search(Options(), 10, rows=1_000_000) == 150
    assert ranking_policy.pick_ef_search(Options(), 10, rows=5_000_000) == 300
    assert ranking_policy.pick_ef_search(Options(filters=Filters(location="x")), 150) == 300
    assert ranking_policy.pick_ef_search(Options(ef_search=77), 500) == 77


async def test_scoring_given_candidates_agrees_with_hybrid_search(ranker: Ranker, pool: Any) -> None:
    async with pool.connection() as conn:
        job = await (
            await conn.execute("SELECT id::text FROM catalog.jobs WHERE title = 'Python developer'")
        ).fetchone()
    found = (await ranker.candidates_for_job(job[0], Options(mode="hybrid", top_k=8))).hits
    ids = [h.record.id for h in reversed(found)]
    scored = await ranker.score_candidates(job[0], ids)
    assert [h.record.id for h in scored] == ids  # the caller's order
    by_id = {h.record.id: h for h in found}
    for hit in scored:
        same = by_id[hit.record.id]
        assert hit.score == pytest.approx(same.score)
        assert (hit.cosine_similarity, hit.keyword_rank) == pytest.approx((same.cosine_similarity, same.keyword_rank))
        assert hit.fusion == "weighted_z" and hit.vector_position == 0


async def test_scoring_names_a_bad_or_unknown_candidate(ranker: Ranker, pool: Any) -> None:
    async with pool.connection() as conn:
        job = await (await conn.execute("SELECT id::text FROM catalog.jobs LIMIT 1")).fetchone()
    with pytest.raises(InvalidArgument) as err:
        await ranker.score_candidates(job[0], ["not-an-id"])
    assert err.value.field == "candidate_ids[0]"
    with pytest.raises(InvalidArgument):
        await ranker.score_candidates(job[0], [])
    with pytest.raises(NotFound):
        await ranker.score_candidates(job[0], ["00000000-0000-4000-8000-000000000001"])


async def test_a_job_sourced_vector_search_uses_its_fresh_stored_vector_else_its_text(
    ranker: Ranker, pool: Any
) -> None:
    # The stored vector points at accounting while the text says welding: which rows come back tells which
    # vector the search used.
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "INSERT INTO catalog.jobs (title, required_skills, embedding, embedded_at) "
                "VALUES ('Welding lead', '{Welding}', %s, now() + interval '1 second') RETURNING id::text",
                (standin_vector("accounting"),),
            )
        ).fetchone()
    job_id = row[0]
    try:
        fresh = await ranker.candidates_for_job(job_id, Options(mode="vector", top_k=5))
        assert [h.record.skills for h in fresh.hits] == [["Accounting"]] * 5
        assert all(h.matched_skills == [] for h in fresh.hits)  # the job asks for welding, they have accounting
        assert [h.vector_position for h in fresh.hits] == [1, 2, 3, 4, 5]
        sims = [h.cosine_similarity for h in fresh.hits]
        assert sims == sorted(sims, reverse=True) and sims[0] > 0.3

        async with pool.connection() as conn:  # an edit makes the stored vector stale
            await conn.execute(
                "UPDATE catalog.jobs SET title = 'Welding lead (nights)', updated_at = now() + "
                "interval '1 hour' WHERE id = %s",
                (job_id,),
            )
        stale = await ranker.candidates_for_job(job_id, Options(mode="vector", top_k=5))
        assert [h.record.skills for h in stale.hits] == [["Welding"]] * 5
        assert all(h.matched_skills == ["Welding"] for h in stale.hits)
    finally:
        async with pool.connection() as conn:
            await conn.execute("DELETE FROM catalog.jobs WHERE id = %s", (job_id,))
    with pytest.raises(NotFound):
        await ranker.candidates_for_job(job_id, Options(mode="vector"))


async def test_search_settings_end_with_the_search(ranker: Ranker, pool: Any) -> None:
    result = await ranker.candidates_for_text(
        "java", Options(mode="vector", top_k=5, ef_search=333, filters=Filters(location="reykjavik"))
    )
    assert result.ef_search == 333 and result.hits
    conns = [await pool.getconn() for _ in range(pool.max_size)]
    try:
        for conn in conns:  # whichever connection ran it: no setting outlived the statement
            cur = await conn.execute(
                "SELECT current_setting('hnsw.ef_search', true), "
                "current_setting('hnsw.iterative_scan', true), "
                "current_setting('hnsw.max_scan_tuples', true)"
            )
            # NULLs on a connection that never loaded pgvector's library; its defaults on the others
            assert await cur.fetchone() in {(None, None, None), ("40", "off", "20000")}
    finally:
        for conn in conns:
            await pool.putconn(conn)


async def test_jobs_for_a_candidate_by_vector_use_the_candidates_stored_vector_and_skills(
    ranker: Ranker, pool: Any
) -> None:
    async with pool.connection() as conn:
        job = await (
            await conn.execute(
                "INSERT INTO catalog.jobs (title, required_skills, embedding, embedded_at) "
                "VALUES ('Backend role', '{Java}', %s, now() + interval '1 second') RETURNING id::text",
                (standin_vector("java"),),
            )
        ).fetchone()
        cand = await (
            await conn.execute("SELECT id::text FROM catalog.candidates WHERE skills = '{Java}' ORDER BY name LIMIT 1")
        ).fetchone()
    try:
        result = await ranker.jobs_for_candidate(cand[0], Options(mode="vector", top_k=3))
        assert [h.record.id for h in result.hits][:1] == [job[0]]
        assert result.hits[0].matched_skills == ["Java"] and result.hits[0].vector_position == 1
    finally:
        async with pool.connection() as conn:
            await conn.execute("DELETE FROM catalog.jobs WHERE id = %s", (job[0],))


@pytest.mark.parametrize("text", ["python specialist with java", '"nursing specialist" -welding'])
async def test_text_hybrid_found_while_embedding_equals_the_one_statement_search(
    ranker: Ranker, pool: Any, text: str
) -> None:
    """Typed text's keyword pool is found while the text is embedded; the result is the one a single
    statement over both legs gives (the path a stored row's search takes)."""
    opts = ranking_policy.check_options(Options(mode="hybrid", top_k=12))
    early = await ranker.candidates_for_text(text, opts)
    query = Query(text, standin_vector(text), [], lexical.classify(text))
    async with ranker.store.session() as s:
        whole = await ranker._fused(s, CANDIDATE_TARGET, query, opts, 50, ranking_policy.pick_ef_search(opts, 50))
    assert early.hits and [h.record.id for h in early.hits] == [h.record.id for h in whole]
    for a, b in zip(early.hits, whole, strict=True):
        assert (a.score, a.keyword_rank) == pytest.approx((b.score, b.keyword_rank))
        assert (a.keyword_position, a.vector_position) == (b.keyword_position, b.vector_position)
