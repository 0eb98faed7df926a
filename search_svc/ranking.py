"""Vector, keyword and hybrid (reciprocal rank fusion) search over candidates and jobs.

The vector leg runs in its own transaction with `hnsw.ef_search` and `hnsw.iterative_scan = relaxed_order`
set locally, so filters cannot starve the result; the keyword leg uses `websearch_to_tsquery`, so user
text is a query language, never SQL. Each hit carries why it matched (MatchExplanation's fields).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from psycopg import AsyncConnection, AsyncCursor, sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from hiremesh.errors import InvalidArgument, NotFound, Unavailable
from hiremesh.skills import extract_skills, normalise_skills
from search_svc import metrics, paging
from search_svc.candidates import TABLE as CANDIDATES
from search_svc.embedder import Embedder
from search_svc.jobs import TABLE as JOBS
from search_svc.records import Candidate, Job, candidate_text, job_text
from search_svc.rows import Table, ilike_pattern

Mode = Literal["vector", "keyword", "hybrid"]
MAX_TOP_K = 200
DEFAULT_TOP_K = 10
MAX_EF_SEARCH = 1000
# (rows below, ef_search): the smallest ef_search with recall@10 >= 0.97 in bench/search.py on the graphs of
# migration 0005 (m=16, ef_construction=200; docs/BENCHMARKS.md "Search latency and 1M recall"): 100K rows
# ef 40 -> 0.988; 1M rows ef 100 -> 0.962, ef 150 -> 0.987, so everything from 150K to 1.5M gets 150. Beyond
# 1.5M nothing was measured: the floor doubles as a guess.
EF_FLOORS: tuple[tuple[int, int], ...] = ((150_000, 40), (1_500_000, 150), (2**62, 300))
_SIZE_TTL = 60.0  # seconds a table's row estimate is reused
_MAX_STATEMENTS = 1024  # rendered VECTOR statements kept (shapes: table x source x top_k x filters used)
MAX_SCAN_TUPLES_FILTERED = 200_000
RRF_K = 60  # the constant from Cormack et al.; damps the head of each list
TS_NORMALISATION = 1 | 32  # divide by 1 + log(length) (long resumes do not win by size), then map to 0..1
_MAX_OR_TERMS = 64
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Filters:
    """Candidate searches: location substring, years_experience >= min_years, all required skills held.
    Job searches: location substring, min_experience >= min_years, all required skills required, status."""

    location: str = ""
    min_years: float = 0.0
    required_skills: tuple[str, ...] = ()
    job_status: str = "open"

    @property
    def selective(self) -> bool:
        return bool(self.location.strip() or self.min_years or self.required_skills)


@dataclass(frozen=True)
class Options:
    mode: Mode = "hybrid"
    top_k: int = DEFAULT_TOP_K
    min_similarity: float = 0.0
    ef_search: int = 0
    filters: Filters = field(default_factory=Filters)


@dataclass
class Hit:
    row: dict[str, Any]
    score: float = 0.0
    cosine_similarity: float = 0.0
    keyword_rank: float = 0.0
    matched_skills: list[str] = field(default_factory=list)
    vector_position: int = 0
    keyword_position: int = 0


@dataclass
class _Query:
    text: str  # what is embedded when no fresh stored vector exists
    vector: np.ndarray | None
    keyword_text: str  # websearch_to_tsquery input
    skills: list[str]  # the query's skills, for matched_skills
    # A user's words are ranked by cover density (ts_rank_cd: terms close together score higher). A query built
    # from a whole job or resume ORs up to 64 terms, where every single term is a cover, so cover density ranks
    # like plain term frequency at several times the cost per matching row (bench/search_keyword.py): ts_rank.
    rank_fn: Literal["ts_rank", "ts_rank_cd"] = "ts_rank_cd"


@dataclass
class Result:
    hits: list[Hit]
    mode: Mode
    ef_search: int


def check_options(opts: Options) -> Options:
    """Validated options with defaults filled in; InvalidArgument names the bad field."""
    top_k = opts.top_k or DEFAULT_TOP_K
    if not 1 <= top_k <= MAX_TOP_K:
        raise InvalidArgument("options.top_k", f"must be between 1 and {MAX_TOP_K}")
    if not math.isfinite(opts.min_similarity) or not -1.0 <= opts.min_similarity <= 1.0:
        raise InvalidArgument("options.min_similarity", "must be between -1 and 1")
    if not 0 <= opts.ef_search <= MAX_EF_SEARCH:
        raise InvalidArgument("options.ef_search", f"must be between 1 and {MAX_EF_SEARCH} (0 picks one)")
    f = opts.filters
    if not math.isfinite(f.min_years) or f.min_years < 0:
        raise InvalidArgument("options.filters.min_years_experience", "must be a non-negative number")
    filters = Filters(f.location.strip(), f.min_years, tuple(normalise_skills(list(f.required_skills))),
                      f.job_status)
    return Options(opts.mode, top_k, opts.min_similarity, opts.ef_search, filters)


def ef_floor(rows: int) -> int:
    """The smallest ef_search that kept recall@10 >= 0.97 in bench/search.py for a table of `rows` rows."""
    for limit, ef in EF_FLOORS:
        if rows < limit:
            return ef
    return EF_FLOORS[-1][1]


def pick_ef_search(opts: Options, pool_size: int, rows: int = 0) -> int:
    """ef_search for a query: the table size's floor, enough for the candidate pool, doubled under a filter."""
    if opts.ef_search:
        return opts.ef_search
    ef = max(ef_floor(rows), pool_size)
    if opts.filters.selective:
        ef *= 2
    return min(ef, MAX_EF_SEARCH)


def any_terms_query(text: str, first: list[str] | None = None) -> str:
    """A websearch_to_tsquery string matching any of the text's words (for a job or resume as the query)."""
    words: dict[str, None] = {}
    for word in [*(first or []), *_WORD.findall(text)]:
        for part in _WORD.findall(word):
            lowered = part.lower()
            if lowered not in {"or", "and", "not"} and len(lowered) > 1:
                words.setdefault(lowered, None)
    return " or ".join(list(words)[:_MAX_OR_TERMS])


def _rank(query: _Query) -> sql.Identifier:
    return sql.Identifier(query.rank_fn)


def rrf(vector_ids: list[str], keyword_ids: list[str]) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: each list adds 1/(k + position); ties keep the vector order first."""
    scores: dict[str, float] = {}
    for ranked in (vector_ids, keyword_ids):
        for pos, row_id in enumerate(ranked, start=1):
            scores[row_id] = scores.get(row_id, 0.0) + 1.0 / (RRF_K + pos)
    order = {row_id: i for i, row_id in enumerate([*vector_ids, *keyword_ids])}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))


class _Target:
    """What differs between searching candidates and searching jobs: table, filter columns, skills column."""

    def __init__(self, table: Table, skills_column: str, years_column: str, has_status: bool) -> None:
        self.table = table
        self.skills_column = skills_column
        self.years_column = years_column
        self.has_status = has_status

    def filters(self, f: Filters) -> tuple[list[sql.Composable], list[Any]]:
        where: list[sql.Composable] = []
        params: list[Any] = []
        if f.location:
            where.append(sql.SQL("location ILIKE %s"))
            params.append(ilike_pattern(f.location))
        if f.min_years:
            where.append(sql.SQL("{} >= %s").format(sql.Identifier(self.years_column)))
            params.append(f.min_years)
        if f.required_skills:
            where.append(sql.SQL("{} @> %s::text[]").format(sql.Identifier(self.skills_column)))
            params.append(list(f.required_skills))
        if self.has_status and f.job_status:
            where.append(sql.SQL("status = %s"))
            params.append(f.job_status)
        return where, params


CANDIDATE_TARGET = _Target(CANDIDATES, "skills", "years_experience", has_status=False)
JOB_TARGET = _Target(JOBS, "required_skills", "min_experience", has_status=True)


def _and(conditions: list[sql.Composable]) -> sql.Composable:
    return sql.SQL("").join(sql.SQL(" AND ") + c for c in conditions) if conditions else sql.SQL("")


class Ranker:
    """Runs searches; needs embedding_svc only for text queries or rows whose vector is stale."""

    def __init__(self, pool: AsyncConnectionPool[Any], embedder: Embedder) -> None:
        self.pool = pool
        self.embedder = embedder
        self._sizes: dict[str, tuple[float, int]] = {}  # table -> (when read, planner's row estimate)
        self._statements: dict[tuple[str, str, int, str], bytes] = {}  # rendered VECTOR statements by shape

    async def _rows(self, conn: AsyncConnection[Any], table: Table) -> int:
        """The planner's row estimate for `table` (cheap, refreshed by autovacuum), cached for a minute."""
        cached = self._sizes.get(table.name)
        now = time.monotonic()
        if cached is not None and now - cached[0] < _SIZE_TTL:
            return cached[1]
        cur = await conn.execute("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass",
                                 (f"catalog.{table.name}",))
        row = await cur.fetchone()
        rows = int(row[0]) if row else 0
        self._sizes[table.name] = (now, rows)
        return rows

    async def candidates_for_job(self, job_id: str, opts: Options) -> Result:
        return await self._search(CANDIDATE_TARGET, opts, source=(JOBS, paging.parse_id(job_id, "job_id")))

    async def candidates_for_text(self, text: str, opts: Options) -> Result:
        return await self._search(CANDIDATE_TARGET, opts, text=_query_text(text))

    async def jobs_for_candidate(self, candidate_id: str, opts: Options) -> Result:
        return await self._search(JOB_TARGET, opts, source=(CANDIDATES, paging.parse_id(candidate_id,
                                                                                           "candidate_id")))

    async def jobs_for_text(self, text: str, opts: Options) -> Result:
        return await self._search(JOB_TARGET, opts, text=_query_text(text))

    async def _source(self, conn: AsyncConnection[Any], table: Table, row_id: str) -> _Query:
        """The query built from a stored row; a stale vector is not used (the text is re-embedded instead)."""
        query = sql.SQL("{select} WHERE id = %s").format(select=table.select_with_vector)
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, (row_id,))
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"{table.noun} {row_id} not found")
        stored = row.pop("embedding")
        vector = None
        if not row["embedding_stale"] and stored is not None:
            # pgvector's loader gives a Vector (newer releases) or an ndarray (older ones).
            vector = np.asarray(stored.to_numpy() if hasattr(stored, "to_numpy") else stored, dtype=np.float32)
        if table is JOBS:
            job = Job.from_row(row)
            return _Query(job_text(job), vector, any_terms_query(job_text(job), job.required_skills),
                          job.required_skills, "ts_rank")
        cand = Candidate.from_row(row)
        return _Query(candidate_text(cand), vector, any_terms_query(candidate_text(cand), cand.skills), cand.skills,
                      "ts_rank")

    async def _embed(self, text: str) -> np.ndarray:
        try:
            return await self.embedder.embed_one(text)
        except Unavailable as exc:
            raise Unavailable(f"{exc.message}; searching by meaning needs it (KEYWORD mode works without "
                              "it)") from None

    async def _search(self, target: _Target, opts: Options, *, text: str = "",
                      source: tuple[Table, str] | None = None) -> Result:
        opts = check_options(opts)
        started = time.perf_counter()
        if opts.mode == "vector":
            fast = await self._vector_search(target, opts, text, source, started)
            if fast is not None:
                return fast
        wants_vector = opts.mode in ("vector", "hybrid")
        query = _Query(text, None, text, extract_skills(text))
        if source is None and wants_vector:
            query.vector = await self._embed(text)  # before taking a connection: the call may be slow
        pool_size = opts.top_k if opts.mode != "hybrid" else min(max(opts.top_k * 3, 50), 600)
        where, params = target.filters(opts.filters)
        async with self.pool.connection() as conn:
            ef = pick_ef_search(opts, pool_size, await self._rows(conn, target.table) if wants_vector else 0)
            if source is not None:
                query = await self._source(conn, *source)
                if wants_vector and query.vector is None:
                    query.vector = await self._embed(query.text)
            if opts.mode == "vector" and query.vector is not None:
                hits = await self._vector_only(conn, target, query, where, params, opts, ef)
            else:
                hits = await self._fused(conn, target, query, where, params, opts, pool_size, ef)
        metrics.SEARCH_LATENCY.labels(target.table.name, opts.mode).observe(time.perf_counter() - started)
        wanted = {s.lower() for s in [*query.skills, *opts.filters.required_skills]}
        for hit in hits:
            have = hit.row.get(target.skills_column) or []
            hit.matched_skills = [s for s in have if s.lower() in wanted]
        return Result(hits, opts.mode, ef if wants_vector else 0)

    async def _fused(self, conn: AsyncConnection[Any], target: _Target, query: _Query, where: list[sql.Composable],
                     params: list[Any], opts: Options, pool_size: int, ef: int) -> list[Hit]:
        # Both legs go out in one pipeline: one network round trip instead of five.
        async with conn.pipeline():
            vcur = kcur = None
            if query.vector is not None and opts.mode != "keyword":
                vcur = await self._vector_leg(conn, target, query.vector, where, params, pool_size, ef)
            if opts.mode != "vector" and query.keyword_text.strip():
                kcur = await self._keyword_leg(conn, target, query, where, params, pool_size)
        vector_ids = [str(r[0]) for r in await vcur.fetchall()] if vcur is not None else []
        keyword_ids = [str(r[0]) for r in await kcur.fetchall()] if kcur is not None else []
        return await self._hydrate(conn, target, query, vector_ids, keyword_ids, opts)

    async def _vector_only(self, conn: AsyncConnection[Any], target: _Target, query: _Query,
                           where: list[sql.Composable], params: list[Any], opts: Options, ef: int) -> list[Hit]:
        """VECTOR mode with a vector in hand (a stored row's text re-embedded): one statement, one round trip."""
        assert query.vector is not None
        hits, _skills = await self._nearest(conn, target, where, params, opts, ef, vector=query.vector)
        return hits

    async def _vector_search(self, target: _Target, opts: Options, text: str, source: tuple[Table, str] | None,
                             started: float) -> Result | None:
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
        where, params = target.filters(opts.filters)
        async with self.pool.connection() as conn:
            ef = pick_ef_search(opts, opts.top_k, await self._rows(conn, target.table))
            hits, source_skills = await self._nearest(conn, target, where, params, opts, ef, vector=vector,
                                                      source=source)
        if source is not None:
            if not hits:
                return None
            skills = source_skills
        metrics.SEARCH_LATENCY.labels(target.table.name, opts.mode).observe(time.perf_counter() - started)
        _mark_matched_skills(target, hits, skills, opts.filters)
        return Result(hits, opts.mode, ef)

    async def _nearest(self, conn: AsyncConnection[Any], target: _Target, where: list[sql.Composable],
                       params: list[Any], opts: Options, ef: int, *, vector: np.ndarray | None = None,
                       source: tuple[Table, str] | None = None) -> tuple[list[Hit], list[str]]:
        """The top_k nearest rows to `vector`, or to the stored vector of row `source` when it is fresh (no rows
        otherwise), already ordered, with the source row's skills.

        The settings are transaction-local set_config calls in the statement itself: an autocommit statement is
        its own transaction, so they end with it, and the query vector is read from the CTE that applies them,
        so they are in force before the index scan starts (pgvector reads them when the scan begins).
        """
        knobs = [str(ef), str(MAX_SCAN_TUPLES_FILTERED if where else 20_000)]
        args: list[Any] = [*knobs, vector] if source is None else [*knobs, source[1]]
        statement = self._nearest_sql(conn, target, where, source[0] if source else None, opts.top_k)
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(statement, [*args, *params], prepare=True)
            rows = await cur.fetchall()
        hits: list[Hit] = []
        skills: list[str] = []
        for position, row in enumerate(rows, start=1):
            cosine = float(row.pop("cosine"))
            skills = row.pop("query_skills") or []
            if opts.min_similarity and cosine < opts.min_similarity:
                continue
            hits.append(Hit(row, cosine, cosine, 0.0, [], position, 0))
        return hits, skills

    def _nearest_sql(self, conn: AsyncConnection[Any], target: _Target, where: list[sql.Composable],
                     source: Table | None, top_k: int) -> bytes:
        """The VECTOR statement, rendered once per shape (composing ~40 identifiers cost ~0.1 ms per call)."""
        key = (target.table.name, source.name if source else "", top_k, repr(where))
        cached = self._statements.get(key)
        if cached is not None:
            return cached
        query_cte: sql.Composable
        if source is None:
            query_cte = sql.SQL("q AS MATERIALIZED (SELECT %s::vector AS v, NULL::text[] AS skills FROM knobs)")
        else:
            query_cte = sql.SQL(
                "q AS MATERIALIZED (SELECT s.embedding AS v, s.{skills} AS skills FROM {src} s, knobs "
                "WHERE s.id = %s AND s.embedding IS NOT NULL AND s.embedded_at >= s.updated_at)"
            ).format(src=source.ident, skills=sql.Identifier(_SKILLS_COLUMN[source.name]))
        # relaxed_order may return rows slightly out of order: materialise, then sort exactly. The index scan's
        # own heap rows are projected (no second lookup by id); LIMIT is a literal (check_options bounds it) so
        # the prepared statement's generic plan knows it and is never re-planned.
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in target.table.columns)
        statement = sql.SQL(
            "WITH knobs AS MATERIALIZED (SELECT set_config('hnsw.ef_search', %s, true) AS ef, "
            "set_config('hnsw.iterative_scan', 'relaxed_order', true) AS iterative, "
            "set_config('hnsw.max_scan_tuples', %s, true) AS scan_cap), {q}, "
            "hits AS MATERIALIZED (SELECT {cols}, {stale} AS embedding_stale, "
            "embedding <=> (SELECT v FROM q) AS distance FROM {t} "
            "WHERE embedding IS NOT NULL AND (SELECT v FROM q) IS NOT NULL{filters} "
            "ORDER BY embedding <=> (SELECT v FROM q) LIMIT {limit}) "
            "SELECT {cols}, embedding_stale, 1 - distance AS cosine, (SELECT skills FROM q) AS query_skills "
            "FROM hits ORDER BY distance, id"
        ).format(q=query_cte, cols=cols, stale=_STALE, t=target.table.ident, filters=_and(where),
                 limit=sql.Literal(top_k)).as_bytes(conn)
        if len(self._statements) >= _MAX_STATEMENTS:
            self._statements.clear()
        self._statements[key] = statement
        return statement

    async def _vector_leg(self, conn: AsyncConnection[Any], target: _Target, vector: np.ndarray,
                          where: list[sql.Composable], params: list[Any], limit: int,
                          ef: int) -> AsyncCursor[Any]:
        # relaxed_order may return rows slightly out of order: materialise, then sort exactly.
        query = sql.SQL(
            "WITH hits AS MATERIALIZED (SELECT id, embedding <=> %s::vector AS distance FROM {t} "
            "WHERE embedding IS NOT NULL{filters} ORDER BY embedding <=> %s::vector LIMIT %s) "
            "SELECT id FROM hits ORDER BY distance, id"
        ).format(t=target.table.ident, filters=_and(where))
        async with conn.transaction():
            await _set_search_knobs(conn, ef, bool(where))
            return await conn.execute(query, [vector, *params, vector, limit])

    async def _keyword_leg(self, conn: AsyncConnection[Any], target: _Target, query: _Query,
                           where: list[sql.Composable], params: list[Any], limit: int) -> AsyncCursor[Any]:
        statement = sql.SQL(
            "SELECT id FROM {t}, websearch_to_tsquery('english', %s) q WHERE tsv @@ q{filters} "
            "ORDER BY {rank}(tsv, q, %s) DESC, id LIMIT %s"
        ).format(t=target.table.ident, filters=_and(where), rank=_rank(query))
        return await conn.execute(statement, [query.keyword_text, *params, TS_NORMALISATION, limit])

    async def _hydrate(self, conn: AsyncConnection[Any], target: _Target, q: _Query, vector_ids: list[str],
                       keyword_ids: list[str], opts: Options) -> list[Hit]:
        """Rows of the fused list with both scores computed for every hit, thresholded and cut to top_k."""
        if opts.mode == "vector":
            fused = [(i, 0.0) for i in vector_ids]
        elif opts.mode == "keyword":
            fused = [(i, 0.0) for i in keyword_ids]
        else:
            fused = rrf(vector_ids, keyword_ids)
        if not fused:
            return []
        query = sql.SQL(
            "SELECT r.*, CASE WHEN %s::vector IS NULL OR c.embedding IS NULL THEN NULL "
            "ELSE 1 - (c.embedding <=> %s::vector) END AS cosine, "
            "CASE WHEN c.tsv @@ q THEN {rank}(c.tsv, q, %s) ELSE 0 END AS keyword_rank "
            "FROM ({select} WHERE id = ANY(%s::uuid[])) r JOIN {t} c ON c.id = r.id, "
            "websearch_to_tsquery('english', %s) q"
        ).format(select=target.table.select, t=target.table.ident, rank=_rank(q))
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, [q.vector, q.vector, TS_NORMALISATION, [i for i, _ in fused], q.keyword_text])
            rows = {str(r["id"]): r for r in await cur.fetchall()}
        vpos = {row_id: i for i, row_id in enumerate(vector_ids, start=1)}
        kpos = {row_id: i for i, row_id in enumerate(keyword_ids, start=1)}
        hits: list[Hit] = []
        for row_id, fused_score in fused:
            row = rows.get(row_id)
            if row is None:  # deleted between the legs and now
                continue
            cosine = row.pop("cosine")
            krank = float(row.pop("keyword_rank") or 0.0)
            if opts.mode != "keyword" and opts.min_similarity and (cosine is None or cosine < opts.min_similarity):
                continue
            score = {"vector": float(cosine or 0.0), "keyword": krank, "hybrid": fused_score}[opts.mode]
            hits.append(Hit(row, score, float(cosine or 0.0), krank, [], vpos.get(row_id, 0), kpos.get(row_id, 0)))
            if len(hits) == opts.top_k:
                break
        return hits


async def _set_search_knobs(conn: AsyncConnection[Any], ef: int, filtered: bool) -> None:
    # Transaction-local (SET LOCAL semantics), so a pooled connection never keeps another query's settings.
    # A selective filter may need many more index tuples than pgvector's default cap (20k) to fill top-k.
    await conn.execute("SELECT set_config('hnsw.ef_search', %s, true), "
                       "set_config('hnsw.iterative_scan', 'relaxed_order', true), "
                       "set_config('hnsw.max_scan_tuples', %s, true)",
                       (str(ef), str(MAX_SCAN_TUPLES_FILTERED if filtered else 20_000)))


_SKILLS_COLUMN = {CANDIDATES.name: "skills", JOBS.name: "required_skills"}
_STALE = sql.SQL("(embedded_at IS NULL OR embedded_at < updated_at)")  # as search_svc.rows.Table's selects


def _mark_matched_skills(target: _Target, hits: list[Hit], skills: list[str], filters: Filters) -> None:
    wanted = {s.lower() for s in [*skills, *filters.required_skills]}
    for hit in hits:
        have = hit.row.get(target.skills_column) or []
        hit.matched_skills = [s for s in have if s.lower() in wanted]


def _query_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidArgument("text", "empty query")
    if len(text) > 10_000:
        raise InvalidArgument("text", "longer than 10000 characters")
    return text
