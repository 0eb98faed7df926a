"""Vector, keyword and hybrid search over candidates and jobs.

The vector leg runs with `hnsw.ef_search` and `hnsw.iterative_scan = relaxed_order` set transaction-locally,
so filters cannot starve the result. The keyword leg ranks by IDF-weighted term vectors (search_svc.lexical);
user text is a bag of terms or web-search syntax, never SQL. Hybrid search fuses both legs by the policy in
search_svc.fusion. Both legs and the fusion's reference statistics come back in one statement. Each hit
carries why it matched (MatchExplanation's fields).
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from hiremesh.errors import InvalidArgument, NotFound, Unavailable
from hiremesh.skills import extract_skills, normalise_skills
from search_svc import fusion, lexical, metrics, paging
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
SAMPLE_ROWS = 256  # the fusion's reference sample of the catalog (search_svc.fusion)


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
    lexical_weight: float | None = None  # hybrid only; None: the deployment's fusion policy


@dataclass
class Hit:
    row: dict[str, Any]
    score: float = 0.0
    cosine_similarity: float = 0.0
    keyword_rank: float = 0.0  # the lexical similarity (0..1), kept under its first name for old clients
    matched_skills: list[str] = field(default_factory=list)
    vector_position: int = 0
    keyword_position: int = 0
    semantic_z: float = 0.0
    lexical_z: float = 0.0
    fusion: str = ""  # how `score` was made: "cosine", "lexical", "weighted_z" or "rrf"
    lexical_weight: float = 0.0


@dataclass
class _Query:
    text: str  # what is embedded when no fresh stored vector exists
    vector: np.ndarray | None
    skills: list[str]  # the query's skills, for matched_skills
    lexical: lexical.LexicalQuery | None = None  # typed text; None when the query is a stored row
    source: tuple[Table, str] | None = None  # the stored row whose terms are the query


@dataclass(frozen=True)
class _KeywordPool:
    """The keyword leg's rows (ids, best first) and the query's term vector (sparsevec text; None when no
    row matched), found before the rest of a hybrid search."""

    ids: list[str]
    query_vector: str | None


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
    if opts.lexical_weight is not None and not (math.isfinite(opts.lexical_weight)
                                                 and 0.0 <= opts.lexical_weight <= 1.0):
        raise InvalidArgument("options.lexical_weight", "must be between 0 and 1")
    filters = Filters(f.location.strip(), f.min_years, tuple(normalise_skills(list(f.required_skills))),
                      f.job_status)
    return Options(opts.mode, top_k, opts.min_similarity, opts.ef_search, filters, opts.lexical_weight)


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


class _Target:
    """What differs between searching candidates and searching jobs: table, filter columns, skills column."""

    def __init__(self, table: Table, skills_column: str, years_column: str, has_status: bool) -> None:
        self.table = table
        self.skills_column = skills_column
        self.years_column = years_column
        self.has_status = has_status

    def filters(self, f: Filters) -> tuple[list[sql.Composable], list[Any]]:
        conditions, values = self._conditions(f, named=False)
        return conditions, list(values.values())

    def named_filters(self, f: Filters) -> tuple[list[sql.Composable], dict[str, Any]]:
        """The same conditions with named placeholders, for statements that use them more than once."""
        return self._conditions(f, named=True)

    def _conditions(self, f: Filters, *, named: bool) -> tuple[list[sql.Composable], dict[str, Any]]:
        where: list[sql.Composable] = []
        params: dict[str, Any] = {}

        def value(v: Any) -> sql.Placeholder:
            name = f"f{len(params)}"
            params[name] = v
            return sql.Placeholder(name) if named else sql.Placeholder()

        if f.location:
            where.append(sql.SQL("location ILIKE {}").format(value(ilike_pattern(f.location))))
        if f.min_years:
            where.append(sql.SQL("{} >= {}").format(sql.Identifier(self.years_column), value(f.min_years)))
        if f.required_skills:
            where.append(sql.SQL("{} @> {}::text[]").format(sql.Identifier(self.skills_column),
                                                             value(list(f.required_skills))))
        if self.has_status and f.job_status:
            where.append(sql.SQL("status = {}").format(value(f.job_status)))
        return where, params


CANDIDATE_TARGET = _Target(CANDIDATES, "skills", "years_experience", has_status=False)
JOB_TARGET = _Target(JOBS, "required_skills", "min_experience", has_status=True)


def _and(conditions: list[sql.Composable]) -> sql.Composable:
    return sql.SQL("").join(sql.SQL(" AND ") + c for c in conditions) if conditions else sql.SQL("")


class Ranker:
    """Runs searches; needs embedding_svc only for text queries or rows whose vector is stale."""

    def __init__(self, pool: AsyncConnectionPool[Any], embedder: Embedder, policy: fusion.Policy | None = None,
                 lexical_budget: lexical.Budget | int | None = None) -> None:
        self.pool = pool
        self.embedder = embedder
        self.policy = policy or fusion.Policy()
        self.lexical_budget = (lexical.Budget.fixed(lexical_budget) if isinstance(lexical_budget, int)
                               else lexical_budget or lexical.Budget())
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

    async def score_candidates(self, job_id: str, candidate_ids: list[str],
                               lexical_weight: float | None = None) -> list[Hit]:
        """Each candidate scored against the job as hybrid search scores its hits (weighted z-scores: a
        pair has no positions to fuse), in the order given; NotFound names the first unknown id."""
        job_id = paging.parse_id(job_id, "job_id")
        if not 1 <= len(candidate_ids) <= MAX_TOP_K:
            raise InvalidArgument("candidate_ids", f"give between 1 and {MAX_TOP_K} candidate ids")
        ids = [paging.parse_id(c, f"candidate_ids[{i}]") for i, c in enumerate(candidate_ids)]
        check_options(Options(lexical_weight=lexical_weight))
        policy = fusion.Policy("weighted_z", self.policy.lexical_weight).with_weight(lexical_weight)
        async with self.pool.connection() as conn:
            query = await self._source(conn, JOBS, job_id)
            if query.vector is None:
                query.vector = await self._embed(query.text)
            statement = sql.SQL("WITH ") + sql.SQL(",\n").join([
                lexical.query_terms_sql(lexical.row_source_sql(JOBS.ident), "candidates"),
                _reference_sql(CANDIDATES)]) + sql.SQL(
                "\nSELECT c.id::text AS id, 1 - (c.embedding <=> %(v)s::vector) AS cos, "
                "coalesce(-(c.lex <#> qlex.v), 0) AS lex, ref.n, ref.cos_mean, ref.cos_std, ref.lex_mean, "
                "ref.lex_std FROM {t} c, qlex, ref WHERE c.id = ANY(%(ids)s::uuid[])").format(t=CANDIDATES.ident)
            args = {"source_id": job_id, "v": query.vector, "ids": ids, **self.lexical_budget.params(),
                    "sample": SAMPLE_ROWS}
            async with conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(statement, args)
                rows = {r["id"]: r for r in await cur.fetchall()}
            missing = next((i for i in ids if i not in rows), None)
            if missing is not None:
                raise NotFound(f"candidate {missing} not found")
            first = next(iter(rows.values()))
            ref = fusion.Reference(int(first["n"]), float(first["cos_mean"]), float(first["cos_std"]),
                                   float(first["lex_mean"]), float(first["lex_std"]))
            pool = [fusion.Candidate(i, None if rows[i]["cos"] is None else float(rows[i]["cos"]),
                                     float(rows[i]["lex"]), 0, 0) for i in dict.fromkeys(ids)]
            scored = {s.candidate.row_id: s for s in fusion.fuse(pool, ref, policy)}
            top = [scored[i] for i in ids]
            hits = await self._hydrate(conn, CANDIDATE_TARGET, top, policy.method, policy.lexical_weight)
        wanted = {s.lower() for s in query.skills}
        for hit in hits:
            hit.matched_skills = [s for s in hit.row.get("skills") or [] if s.lower() in wanted]
        return hits

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
            return _Query(job_text(job), vector, job.required_skills, source=(table, row_id))
        cand = Candidate.from_row(row)
        return _Query(candidate_text(cand), vector, cand.skills, source=(table, row_id))

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
        query = _Query(text, None, extract_skills(text), lexical.classify(text) if text else None)
        pool_size = opts.top_k if opts.mode != "hybrid" else min(max(opts.top_k * 3, 50), 600)
        keyword_pool: _KeywordPool | None = None
        if source is None and opts.mode == "hybrid":
            # Embedding typed text takes as long as the keyword leg: run them side by side, then the rest.
            keyword_pool, query.vector = await self._keyword_pool_while_embedding(target, query, opts, pool_size)
        elif source is None and wants_vector:
            query.vector = await self._embed(text)  # before taking a connection: the call may be slow
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
                hits = await self._fused(conn, target, query, opts, pool_size, ef, keyword_pool)
        metrics.SEARCH_LATENCY.labels(target.table.name, opts.mode).observe(time.perf_counter() - started)
        wanted = {s.lower() for s in [*query.skills, *opts.filters.required_skills]}
        for hit in hits:
            have = hit.row.get(target.skills_column) or []
            hit.matched_skills = [s for s in have if s.lower() in wanted]
        return Result(hits, opts.mode, ef if wants_vector else 0)

    async def _keyword_pool_while_embedding(self, target: _Target, query: _Query, opts: Options,
                                            pool_size: int) -> tuple[_KeywordPool, np.ndarray]:
        """The keyword leg's pool for typed text, found while the text is embedded."""
        embedding = asyncio.ensure_future(self._embed(query.text))
        try:
            statement, args = self._legs_statement(target, query, opts, pool_size, semantic=False)
            async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(statement, args)
                rows = await cur.fetchall()
        except BaseException:
            embedding.cancel()
            raise
        found = _KeywordPool([r["id"] for r in rows], rows[0]["qlex"] if rows else None)
        return found, await embedding

    def _legs_statement(self, target: _Target, query: _Query, opts: Options, pool_size: int,
                        semantic: bool, keyword_pool: _KeywordPool | None = None
                        ) -> tuple[sql.Composed, dict[str, Any]]:
        """Both legs, every pooled row's two similarities and the reference statistics, in one statement.
        `keyword_pool`: the keyword leg's rows already found (best first), so the statement does not search
        again."""
        where, params = target.named_filters(opts.filters)
        corpus: lexical.Corpus = "jobs" if target is JOB_TARGET else "candidates"
        args: dict[str, Any] = {**params, **self.lexical_budget.params(), "pool": pool_size,
                                "sample": SAMPLE_ROWS, "v": query.vector}
        if query.source is not None:
            table, row_id = query.source
            source = lexical.row_source_sql(table.ident)
            args["source_id"] = row_id
        else:
            source = lexical.text_source_sql()
            args["text"] = query.text
        strict = query.lexical is not None and query.lexical.strict
        tsq, matches = lexical.strict_match_sql() if strict else lexical.bag_match_sql()
        terms: sql.Composable = lexical.query_terms_sql(source, corpus)
        kw: sql.Composable
        if keyword_pool is not None:
            args["keyword_pool"] = keyword_pool.ids
            if keyword_pool.query_vector is not None:  # the query's term vector as the first statement made it
                args["qlex"] = keyword_pool.query_vector
                terms = sql.SQL("qlex AS (SELECT %(qlex)s::sparsevec AS v)")
            kw = sql.SQL("kw AS MATERIALIZED (SELECT k.id, k.pos FROM unnest(%(keyword_pool)s::uuid[]) "
                         "WITH ORDINALITY AS k(id, pos))")
        else:
            # Scored as they are scanned (a materialised scan of 20,000 term vectors spilled to disk).
            kw = sql.SQL("kw AS MATERIALIZED (SELECT id, row_number() OVER (ORDER BY d, id) AS pos FROM ("
                         "SELECT s.id, s.d FROM (SELECT t.id, t.lex <#> qlex.v AS d FROM {t} t, tsq, qlex "
                         "WHERE {matches}{filters} LIMIT %(scan_cap)s) s ORDER BY s.d, s.id LIMIT %(pool)s) k)"
                         ).format(t=target.table.ident, matches=matches, filters=_and(where))
        # A given term vector leaves nothing to match rows with (and no `rarest` for the tsq CTE to read).
        ctes = [terms, kw] if "qlex" in args else [terms, tsq, kw]
        if semantic:
            # relaxed_order may return rows slightly out of order: materialise, then number them exactly.
            ctes.append(sql.SQL(
                "vec AS MATERIALIZED (SELECT id, row_number() OVER (ORDER BY distance, id) AS pos FROM ("
                "SELECT id, embedding <=> %(v)s::vector AS distance FROM {t} WHERE embedding IS NOT NULL{filters} "
                "ORDER BY embedding <=> %(v)s::vector LIMIT %(pool)s) h)").format(t=target.table.ident,
                                                                                   filters=_and(where)))
            ctes.append(_reference_sql(target.table))
            body = sql.SQL(
                "SELECT c.id::text AS id, 1 - (c.embedding <=> %(v)s::vector) AS cos, "
                "coalesce(-(c.lex <#> qlex.v), 0) AS lex, coalesce(vec.pos, 0) AS vpos, coalesce(kw.pos, 0) AS kpos, "
                "ref.n, ref.cos_mean, ref.cos_std, ref.lex_mean, ref.lex_std "
                "FROM (SELECT id FROM vec UNION SELECT id FROM kw) p JOIN {t} c ON c.id = p.id "
                "LEFT JOIN vec ON vec.id = p.id LEFT JOIN kw ON kw.id = p.id, qlex, ref"
            ).format(t=target.table.ident)
        else:
            body = sql.SQL(
                "SELECT kw.id::text AS id, NULL::float8 AS cos, coalesce(-(c.lex <#> qlex.v), 0) AS lex, 0 AS vpos, "
                "kw.pos AS kpos, 0 AS n, 0.0 AS cos_mean, 0.0 AS cos_std, 0.0 AS lex_mean, 0.0 AS lex_std, "
                "qlex.v::text AS qlex FROM kw JOIN {t} c ON c.id = kw.id, qlex ORDER BY kw.pos"
            ).format(t=target.table.ident)
        return sql.SQL("WITH ") + sql.SQL(",\n").join(ctes) + sql.SQL("\n") + body, args

    async def _fused(self, conn: AsyncConnection[Any], target: _Target, query: _Query, opts: Options,
                     pool_size: int, ef: int, keyword_pool: _KeywordPool | None = None) -> list[Hit]:
        """KEYWORD and HYBRID modes: pool both legs, score every pooled row, keep the best top_k."""
        semantic = opts.mode == "hybrid" and query.vector is not None
        statement, args = self._legs_statement(target, query, opts, pool_size, semantic, keyword_pool)
        async with conn.pipeline(), conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            if semantic:
                await _set_search_knobs(conn, ef, bool(opts.filters.selective or target.has_status))
            await cur.execute(statement, args)
            rows = await cur.fetchall()
        if not rows:
            await self._explain_empty(conn, query, opts)
            return []
        pool = [fusion.Candidate(r["id"], None if r["cos"] is None else float(r["cos"]), float(r["lex"]),
                                 int(r["vpos"]), int(r["kpos"])) for r in rows]
        if opts.mode == "hybrid" and semantic:
            first = rows[0]
            ref = fusion.Reference(int(first["n"]), float(first["cos_mean"]), float(first["cos_std"]),
                                   float(first["lex_mean"]), float(first["lex_std"]))
            policy = self.policy.with_weight(opts.lexical_weight)
            scored = fusion.fuse(pool, ref, policy)
            method: str = policy.method
            weight = policy.lexical_weight
        else:  # keyword mode, or hybrid without a vector (a stored row not embedded yet): lexical only
            scored = [fusion.Scored(c, c.lexical, 0.0, 0.0) for c in pool]
            scored.sort(key=lambda s: (-s.score, s.candidate.keyword_position))
            method, weight = "lexical", 1.0
        if opts.mode == "hybrid" and opts.min_similarity:
            scored = [s for s in scored if s.candidate.cosine is not None
                      and s.candidate.cosine >= opts.min_similarity]
        top = scored[:opts.top_k]
        return await self._hydrate(conn, target, top, method, weight)

    async def _explain_empty(self, conn: AsyncConnection[Any], query: _Query, opts: Options) -> None:
        """An empty KEYWORD result for typed text that has no searchable word is the caller's mistake."""
        if opts.mode != "keyword" or query.lexical is None:
            return
        cur = await conn.execute("SELECT length(catalog.lexical_words(%s))", (query.text,))
        row = await cur.fetchone()
        if row is not None and row[0] == 0:
            raise InvalidArgument("text", "the query has no searchable words (only stop words, numbers or "
                                          "punctuation); KEYWORD search needs at least one")

    async def _hydrate(self, conn: AsyncConnection[Any], target: _Target, top: list[fusion.Scored], method: str,
                       weight: float) -> list[Hit]:
        if not top:
            return []
        query = sql.SQL("{select} WHERE id = ANY(%s::uuid[])").format(select=target.table.select)
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, [[s.candidate.row_id for s in top]])
            rows = {str(r["id"]): r for r in await cur.fetchall()}
        hits: list[Hit] = []
        for s in top:
            row = rows.get(s.candidate.row_id)
            if row is None:  # deleted between the two statements
                continue
            c = s.candidate
            hits.append(Hit(row, s.score, c.cosine or 0.0, c.lexical, [], c.vector_position, c.keyword_position,
                            s.semantic_z, s.lexical_z, method, weight))
        return hits

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
            hits.append(Hit(row, cosine, cosine, 0.0, [], position, 0, fusion="cosine"))
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


def _reference_sql(table: Table) -> sql.Composable:
    """The `ref` CTE: both similarities' mean and spread over the catalog sample (parameters %(v)s, %(sample)s)."""
    return sql.SQL(
        "ref AS (SELECT count(*) AS n, coalesce(avg(cos), 0) AS cos_mean, coalesce(stddev_pop(cos), 0) "
        "AS cos_std, coalesce(avg(lex), 0) AS lex_mean, coalesce(stddev_pop(lex), 0) AS lex_std FROM ("
        "SELECT 1 - (s.embedding <=> %(v)s::vector) AS cos, coalesce(-(s.lex <#> qlex.v), 0) AS lex "
        "FROM (SELECT embedding, lex FROM {t} ORDER BY id LIMIT %(sample)s) s, qlex) x)").format(t=table.ident)


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
    return lexical.check_text(text)
