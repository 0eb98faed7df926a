"""Vector, keyword and hybrid search over candidates and jobs: the statements of search_svc.ranking_store, the
policy of search_svc.ranking_policy, and embedding_svc for text and for rows whose stored vector is stale.

Each hit carries why it matched (MatchExplanation's fields). Typed text in HYBRID mode runs its keyword leg
while the text is embedded (they take about as long), then one statement for the rest.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
from psycopg_pool import AsyncConnectionPool

from hiremesh.errors import InvalidArgument, NotFound, Unavailable
from hiremesh.skills import extract_skills
from search_svc import fusion, lexical, metrics, paging, ranking_policy
from search_svc.candidates import TABLE as CANDIDATES
from search_svc.embedder import Embedder
from search_svc.jobs import TABLE as JOBS
from search_svc.ranking_policy import MAX_TOP_K, Hit, Options, R, Result
from search_svc.ranking_store import (
    CANDIDATE_TARGET,
    JOB_TARGET,
    KeywordPool,
    Query,
    RankingStore,
    StoreSession,
    Target,
)
from search_svc.records import Candidate, Job
from search_svc.rows import Table


class Ranker:
    """Runs searches; needs embedding_svc only for text queries or rows whose vector is stale."""

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        embedder: Embedder,
        policy: fusion.Policy | None = None,
        lexical_budget: lexical.Budget | int | None = None,
    ) -> None:
        self.embedder = embedder
        self.policy = policy or fusion.Policy()
        budget = (
            lexical.Budget.fixed(lexical_budget)
            if isinstance(lexical_budget, int)
            else lexical_budget or lexical.Budget()
        )
        self.store = RankingStore(pool, budget)

    async def candidates_for_job(self, job_id: str, opts: Options) -> Result[Candidate]:
        return await self._search(CANDIDATE_TARGET, opts, source=(JOBS, paging.parse_id(job_id, "job_id")))

    async def candidates_for_text(self, text: str, opts: Options) -> Result[Candidate]:
        return await self._search(CANDIDATE_TARGET, opts, text=lexical.check_text(text))

    async def jobs_for_candidate(self, candidate_id: str, opts: Options) -> Result[Job]:
        return await self._search(JOB_TARGET, opts, source=(CANDIDATES, paging.parse_id(candidate_id, "candidate_id")))

    async def jobs_for_text(self, text: str, opts: Options) -> Result[Job]:
        return await self._search(JOB_TARGET, opts, text=lexical.check_text(text))

    async def score_candidates(
        self, job_id: str, candidate_ids: list[str], lexical_weight: float | None = None
    ) -> list[Hit[Candidate]]:
        """Each candidate scored against the job as hybrid search scores its hits (weighted z-scores: a
        pair has no positions to fuse), in the order given; NotFound names the first unknown id."""
        job_id = paging.parse_id(job_id, "job_id")
        if not 1 <= len(candidate_ids) <= MAX_TOP_K:
            raise InvalidArgument("candidate_ids", f"give between 1 and {MAX_TOP_K} candidate ids")
        ids = [paging.parse_id(c, f"candidate_ids[{i}]") for i, c in enumerate(candidate_ids)]
        ranking_policy.check_options(Options(lexical_weight=lexical_weight))
        pair_policy = ranking_policy.pair_policy(self.policy, lexical_weight)
        async with self.store.session() as s:
            query = await s.source(JOBS, job_id)
            if query.vector is None:
                query.vector = await self._embed(query.text)
            found, ref = await s.pairs(job_id, query.vector, ids)
            missing = next((i for i in ids if i not in found), None)
            if missing is not None:
                raise NotFound(f"candidate {missing} not found")
            assert ref is not None  # a row was found, and each row carries the statistics
            pool = [found[i] for i in dict.fromkeys(ids)]
            ranked = ranking_policy.Ranked(
                ranking_policy.score_given(ids, pool, ref, pair_policy), pair_policy.method, pair_policy.lexical_weight
            )
            records = await s.records(CANDIDATE_TARGET, [c.candidate.row_id for c in ranked.scored])
            hits = ranking_policy.explain(ranked, records)
        for hit in hits:
            hit.matched_skills = ranking_policy.matched_skills(hit.record.skills or [], query.skills)
        return hits

    async def _embed(self, text: str) -> np.ndarray:
        try:
            return await self.embedder.embed_one(text)
        except Unavailable as exc:
            raise Unavailable(f"{exc.message}; searching by meaning needs it (KEYWORD mode works without it)") from None

    async def _search(
        self, target: Target[R], opts: Options, *, text: str = "", source: tuple[Table, str] | None = None
    ) -> Result[R]:
        opts = ranking_policy.check_options(opts)
        started = time.perf_counter()
        if opts.mode == "vector":
            fast = await self._vector_search(target, opts, text, source, started)
            if fast is not None:
                return fast
        wants_vector = opts.mode in ("vector", "hybrid")
        query = Query(text, None, extract_skills(text), lexical.classify(text) if text else None)
        pool_size = ranking_policy.pool_size(opts)
        keyword_pool: KeywordPool | None = None
        if source is None and opts.mode == "hybrid":
            # Embedding typed text takes as long as the keyword leg: run them side by side, then the rest.
            keyword_pool, query.vector = await self._keyword_pool_while_embedding(target, query, opts, pool_size)
        elif source is None and wants_vector:
            query.vector = await self._embed(text)  # before taking a connection: the call may be slow
        async with self.store.session() as s:
            table_rows = await s.row_estimate(target.table) if wants_vector else 0
            ef = ranking_policy.pick_ef_search(opts, pool_size, table_rows)
            if source is not None:
                query = await s.source(*source)
                if wants_vector and query.vector is None:
                    query.vector = await self._embed(query.text)
            if opts.mode == "vector" and query.vector is not None:
                # VECTOR mode with a vector in hand (a stored row's text re-embedded): one statement.
                rows, _skills = await s.nearest(target, opts, ef, vector=query.vector)
                hits = ranking_policy.nearest_hits(rows, opts.min_similarity)
            else:
                hits = await self._fused(s, target, query, opts, pool_size, ef, keyword_pool)
        metrics.SEARCH_LATENCY.labels(target.table.name, opts.mode).observe(time.perf_counter() - started)
        _mark_matched_skills(target, hits, query.skills, opts)
        return Result(hits, opts.mode, ef if wants_vector else 0)

    async def _keyword_pool_while_embedding(
        self, target: Target[Any], query: Query, opts: Options, pool_size: int
    ) -> tuple[KeywordPool, np.ndarray]:
        """The keyword leg's pool for typed text, found while the text is embedded."""
        embedding = asyncio.ensure_future(self._embed(query.text))
        try:
            found = await self.store.keyword_pool(target, query, opts, pool_size)
        except BaseException:
            embedding.cancel()
            raise
        return found, await embedding

    async def _fused(
        self,
        s: StoreSession,
        target: Target[R],
        query: Query,
        opts: Options,
        pool_size: int,
        ef: int,
        keyword_pool: KeywordPool | None = None,
    ) -> list[Hit[R]]:
        """KEYWORD and HYBRID modes: pool both legs, score every pooled row, keep the best top_k."""
        semantic = opts.mode == "hybrid" and query.vector is not None
        legs = await s.legs(target, query, opts, pool_size, ef, semantic, keyword_pool)
        if not legs.pool:
            await _explain_empty(s, query, opts)
            return []
        ranked = ranking_policy.rank_pool(legs.pool, legs.reference, opts, self.policy)
        return ranking_policy.explain(ranked, await s.records(target, [c.candidate.row_id for c in ranked.scored]))

    async def _vector_search(
        self, target: Target[R], opts: Options, text: str, source: tuple[Table, str] | None, started: float
    ) -> Result[R] | None:
        """VECTOR mode in one round trip: the search settings, the source row's stored vector, the nearest rows
        and their explanation come from one statement on a connection checked out without a round trip.

        None when a source row gave nothing back: it does not exist (NotFound), its vector is stale or missing
        (its text must be embedded first), or no row matches; the general path sorts those out at the price of
        a few more round trips.
        """
        skills: list[str] = []
        vector = None
        if source is None:
            skills = extract_skills(text)
            vector = await self._embed(text)  # before taking a connection: the call may be slow
        async with self.store.session() as s:
            ef = ranking_policy.pick_ef_search(opts, opts.top_k, await s.row_estimate(target.table))
            rows, source_skills = await s.nearest(target, opts, ef, vector=vector, source=source)
        hits = ranking_policy.nearest_hits(rows, opts.min_similarity)
        if source is not None:
            if not hits:
                return None
            skills = source_skills
        metrics.SEARCH_LATENCY.labels(target.table.name, opts.mode).observe(time.perf_counter() - started)
        _mark_matched_skills(target, hits, skills, opts)
        return Result(hits, opts.mode, ef)


async def _explain_empty(s: StoreSession, query: Query, opts: Options) -> None:
    """An empty KEYWORD result for typed text that has no searchable word is the caller's mistake."""
    if opts.mode != "keyword" or query.lexical is None:
        return
    if not await s.has_searchable_words(query.text):
        raise InvalidArgument(
            "text",
            "the query has no searchable words (only stop words, numbers or "
            "punctuation); KEYWORD search needs at least one",
        )


def _mark_matched_skills(target: Target[R], hits: list[Hit[R]], skills: list[str], opts: Options) -> None:
    wanted = [*skills, *opts.filters.required_skills]
    for hit in hits:
        hit.matched_skills = ranking_policy.matched_skills(target.skills(hit.record) or [], wanted)
