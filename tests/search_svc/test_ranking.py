"""Ranking SQL on a real PostgreSQL + pgvector, with a stand-in vector function instead of the model.

The stand-in maps each topic word to its own direction, so which rows are nearest is known exactly; the
real model is exercised by tests/integration/test_search_grpc.py.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
from psycopg import sql

from hiremesh.db import migrate, open_pool
from hiremesh.errors import InvalidArgument, NotFound
from search_svc import ranking
from search_svc.ranking import Filters, Options, Ranker

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
        rows.append((f"Person {i}", location, float(i % 15), [topic.title()],
                     f"{topic} specialist number {i}", standin_vector(topic, i)))
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO catalog.candidates (name, location, years_experience, skills, resume_text, embedding, "
            "embedded_at) VALUES (%s, %s, %s, %s, %s, %s, now())", rows)
        await cur.execute("INSERT INTO catalog.jobs (title, status, required_skills) VALUES "
                          "('Python developer', 'open', '{Python}'), ('Python architect', 'closed', '{Python}')")
    yield pool
    await pool.close()


@pytest.fixture
def ranker(pool: Any) -> Ranker:
    return Ranker(pool, StandinEmbedder())  # type: ignore[arg-type]


def test_rrf_rewards_rows_in_both_lists() -> None:
    fused = ranking.rrf(["a", "b", "c"], ["c", "d"])
    assert fused[0][0] == "c"
    assert [i for i, _ in fused] == ["c", "a", "b", "d"]
    assert fused[0][1] == pytest.approx(1 / 63 + 1 / 61)


def test_any_terms_query_keeps_only_words() -> None:
    q = ranking.any_terms_query("C++ & Go; DROP TABLE x -- 'or' \"quoted\"", ["Kubernetes"])
    assert q == "kubernetes or go or drop or table or quoted"
    assert "'" not in q and ";" not in q


async def test_vector_search_ranks_by_cosine(ranker: Ranker) -> None:
    result = await ranker.candidates_for_text("python backend work", Options(mode="vector", top_k=20))
    assert len(result.hits) == 20
    assert all("python" in h.row["resume_text"] for h in result.hits)
    sims = [h.cosine_similarity for h in result.hits]
    assert sims == sorted(sims, reverse=True)
    assert [h.vector_position for h in result.hits] == list(range(1, 21))


async def test_a_selective_filter_does_not_starve_the_vector_leg(ranker: Ranker) -> None:
    # Every Reykjavik row is far from the query, so a plain HNSW scan with ef_search=40 finds none of them.
    opts = Options(mode="vector", top_k=10, ef_search=40, filters=Filters(location="reykjavik"))
    result = await ranker.candidates_for_text("python", opts)
    assert len(result.hits) == 10
    assert {h.row["location"] for h in result.hits} == {"Reykjavik"}


async def test_min_similarity_drops_weak_hits(ranker: Ranker) -> None:
    opts = Options(mode="vector", top_k=50, min_similarity=0.5, filters=Filters(location="reykjavik"))
    assert (await ranker.candidates_for_text("python", opts)).hits == []


async def test_filters_for_experience_and_skills(ranker: Ranker) -> None:
    opts = Options(mode="hybrid", top_k=30, filters=Filters(min_years=12, required_skills=("java",)))
    hits = (await ranker.candidates_for_text("java", opts)).hits
    assert hits
    assert all(h.row["years_experience"] >= 12 and "Java" in h.row["skills"] for h in hits)
    assert all(h.matched_skills == ["Java"] for h in hits)


async def test_like_metacharacters_in_a_location_are_literal(ranker: Ranker) -> None:
    hits = (await ranker.candidates_for_text("python", Options(mode="hybrid", filters=Filters(location="50%_off"))))
    assert [h.row["name"] for h in hits.hits] == ["Person 7"]


@pytest.mark.parametrize("text", ["'; DROP TABLE catalog.candidates; --", "nursing) OR 1=1 --", "\\", "!!! & | :*"])
async def test_sql_metacharacters_in_keyword_queries_are_inert(ranker: Ranker, pool: Any, text: str) -> None:
    await ranker.candidates_for_text(text, Options(mode="keyword"))
    async with pool.connection() as conn:
        count = await (await conn.execute("SELECT count(*) FROM catalog.candidates")).fetchone()
    assert count[0] == 3000


async def test_websearch_syntax_works_in_keyword_mode(ranker: Ranker) -> None:
    hits = (await ranker.candidates_for_text('"welding specialist" -python', Options(mode="keyword", top_k=5))).hits
    assert len(hits) == 5
    assert all("welding" in h.row["resume_text"] and h.keyword_rank > 0 for h in hits)
    assert all(h.keyword_position >= 1 and h.vector_position == 0 for h in hits)


async def keyword_ranks(pool: Any, fn: str, text: str, ids: list[str]) -> dict[str, float]:
    async with pool.connection() as conn:
        statement = sql.SQL("SELECT id::text, {fn}(tsv, websearch_to_tsquery('english', %s), %s) "
                            "FROM catalog.candidates WHERE id = ANY(%s::uuid[])").format(fn=sql.Identifier(fn))
        rows = await (await conn.execute(statement, [text, ranking.TS_NORMALISATION, ids])).fetchall()
    return {row_id: rank for row_id, rank in rows}


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
async def test_a_users_words_rank_by_cover_density_and_a_jobs_whole_text_by_term_weight(
        ranker: Ranker, pool: Any, mode: ranking.Mode) -> None:
    typed = (await ranker.candidates_for_text("python specialist", Options(mode=mode, top_k=20))).hits
    ids = [str(h.row["id"]) for h in typed]
    cover = await keyword_ranks(pool, "ts_rank_cd", "python specialist", ids)
    assert [h.keyword_rank for h in typed] == pytest.approx([cover[i] for i in ids])

    async with pool.connection() as conn:
        job = await (await conn.execute("SELECT id::text FROM catalog.jobs WHERE title = 'Python developer'")
                     ).fetchone()
    by_job = (await ranker.candidates_for_job(job[0], Options(mode=mode, top_k=20))).hits
    assert by_job and all("python" in h.row["resume_text"] for h in by_job)
    ids = [str(h.row["id"]) for h in by_job]
    query = ranking.any_terms_query("Python developer", ["Python"])
    weight = await keyword_ranks(pool, "ts_rank", query, ids)
    assert [h.keyword_rank for h in by_job] == pytest.approx([weight[i] for i in ids])
    if mode == "keyword":
        assert [h.keyword_rank for h in by_job] == sorted((h.keyword_rank for h in by_job), reverse=True)


async def test_job_search_defaults_to_open_jobs(ranker: Ranker) -> None:
    hits = (await ranker.jobs_for_text("python", Options(mode="keyword"))).hits
    assert [h.row["title"] for h in hits] == ["Python developer"]
    closed = await ranker.jobs_for_text("python", Options(mode="keyword", filters=Filters(job_status="closed")))
    assert [h.row["title"] for h in closed.hits] == ["Python architect"]


@pytest.mark.parametrize(("opts", "field"), [
    (Options(top_k=201), "options.top_k"),
    (Options(min_similarity=1.5), "options.min_similarity"),
    (Options(ef_search=5000), "options.ef_search"),
    (Options(filters=Filters(min_years=-1)), "options.filters.min_years_experience"),
])
async def test_bad_options_name_the_field(ranker: Ranker, opts: Options, field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        await ranker.candidates_for_text("python", opts)
    assert err.value.field == field


def test_ef_search_grows_with_pool_and_filters() -> None:
    assert ranking.pick_ef_search(Options(), 10) == 40
    assert ranking.pick_ef_search(Options(), 10, rows=100_000) == 40
    assert ranking.pick_ef_search(Options(), 10, rows=1_000_000) == 150
    assert ranking.pick_ef_search(Options(), 10, rows=5_000_000) == 300
    assert ranking.pick_ef_search(Options(filters=Filters(location="x")), 150) == 300
    assert ranking.pick_ef_search(Options(ef_search=77), 500) == 77


async def test_a_job_sourced_vector_search_uses_its_fresh_stored_vector_else_its_text(ranker: Ranker,
                                                                                      pool: Any) -> None:
    # The stored vector points at accounting while the text says welding: which rows come back tells which
    # vector the search used.
    async with pool.connection() as conn:
        row = await (await conn.execute(
            "INSERT INTO catalog.jobs (title, required_skills, embedding, embedded_at) "
            "VALUES ('Welding lead', '{Welding}', %s, now() + interval '1 second') RETURNING id::text",
            (standin_vector("accounting"),))).fetchone()
    job_id = row[0]
    try:
        fresh = await ranker.candidates_for_job(job_id, Options(mode="vector", top_k=5))
        assert [h.row["skills"] for h in fresh.hits] == [["Accounting"]] * 5
        assert all(h.matched_skills == [] for h in fresh.hits)  # the job asks for welding, they have accounting
        assert [h.vector_position for h in fresh.hits] == [1, 2, 3, 4, 5]
        sims = [h.cosine_similarity for h in fresh.hits]
        assert sims == sorted(sims, reverse=True) and sims[0] > 0.3

        async with pool.connection() as conn:  # an edit makes the stored vector stale
            await conn.execute("UPDATE catalog.jobs SET title = 'Welding lead (nights)', updated_at = now() + "
                               "interval '1 hour' WHERE id = %s", (job_id,))
        stale = await ranker.candidates_for_job(job_id, Options(mode="vector", top_k=5))
        assert [h.row["skills"] for h in stale.hits] == [["Welding"]] * 5
        assert all(h.matched_skills == ["Welding"] for h in stale.hits)
    finally:
        async with pool.connection() as conn:
            await conn.execute("DELETE FROM catalog.jobs WHERE id = %s", (job_id,))
    with pytest.raises(NotFound):
        await ranker.candidates_for_job(job_id, Options(mode="vector"))


async def test_search_settings_end_with_the_search(ranker: Ranker, pool: Any) -> None:
    result = await ranker.candidates_for_text("java", Options(mode="vector", top_k=5, ef_search=333,
                                                              filters=Filters(location="reykjavik")))
    assert result.ef_search == 333 and result.hits
    conns = [await pool.getconn() for _ in range(pool.max_size)]
    try:
        for conn in conns:  # whichever connection ran it: no setting outlived the statement
            cur = await conn.execute("SELECT current_setting('hnsw.ef_search', true), "
                                     "current_setting('hnsw.iterative_scan', true), "
                                     "current_setting('hnsw.max_scan_tuples', true)")
            # NULLs on a connection that never loaded pgvector's library; its defaults on the others
            assert await cur.fetchone() in {(None, None, None), ("40", "off", "20000")}
    finally:
        for conn in conns:
            await pool.putconn(conn)


async def test_jobs_for_a_candidate_by_vector_use_the_candidates_stored_vector_and_skills(ranker: Ranker,
                                                                                         pool: Any) -> None:
    async with pool.connection() as conn:
        job = await (await conn.execute(
            "INSERT INTO catalog.jobs (title, required_skills, embedding, embedded_at) "
            "VALUES ('Backend role', '{Java}', %s, now() + interval '1 second') RETURNING id::text",
            (standin_vector("java"),))).fetchone()
        cand = await (await conn.execute("SELECT id::text FROM catalog.candidates WHERE skills = '{Java}' "
                                         "ORDER BY name LIMIT 1")).fetchone()
    try:
        result = await ranker.jobs_for_candidate(cand[0], Options(mode="vector", top_k=3))
        assert [h.row["id"] for h in result.hits][:1] == [uuid.UUID(job[0])]
        assert result.hits[0].matched_skills == ["Java"] and result.hits[0].vector_position == 1
    finally:
        async with pool.connection() as conn:
            await conn.execute("DELETE FROM catalog.jobs WHERE id = %s", (job[0],))
