"""The SQL of search: the vector leg, the keyword leg, the fusion's reference statistics and the hits' records,
returned as typed rows (search_svc.fusion's Candidate and Reference, search_svc.records' Candidate and Job).

The vector leg runs with `hnsw.ef_search` and `hnsw.iterative_scan = relaxed_order` set transaction-locally,
so filters cannot starve the result. The keyword leg ranks by IDF-weighted term vectors (search_svc.lexical);
user text is a bag of terms or web-search syntax, never SQL. Both legs and the fusion's reference statistics
come back in one statement. What to do with the rows is search_svc.ranking_policy's business.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from hiremesh.errors import NotFound
from search_svc import fusion, lexical
from search_svc.candidates import TABLE as CANDIDATES
from search_svc.jobs import TABLE as JOBS
from search_svc.ranking_policy import Filters, Nearest, Options
from search_svc.records import Candidate, Job, candidate_text, job_text
from search_svc.rows import Table, ilike_pattern

R = TypeVar("R")
_SIZE_TTL = 60.0  # seconds a table's row estimate is reused
_MAX_STATEMENTS = 1024  # rendered VECTOR statements kept (shapes: table x source x top_k x filters used)
MAX_SCAN_TUPLES_FILTERED = 200_000
SAMPLE_ROWS = 256  # the fusion's reference sample of the catalog (search_svc.fusion)


@dataclass
class Query:
    text: str  # what is embedded when no fresh stored vector exists
    vector: np.ndarray | None
    skills: list[str]  # the query's skills, for matched_skills
    lexical: lexical.LexicalQuery | None = None  # typed text; None when the query is a stored row
    source: tuple[Table, str] | None = None  # the stored row whose terms are the query


@dataclass(frozen=True)
class KeywordPool:
    """The keyword leg's rows (ids, best first) and the query's term vector (sparsevec text; None when no
    row matched), found before the rest of a hybrid search."""

    ids: list[str]
    query_vector: str | None


@dataclass(frozen=True)
class Legs:
    """Every pooled row with both similarities, and the catalog sample's statistics (None when the semantic
    leg did not run or nothing was pooled)."""

    pool: list[fusion.Candidate]
    reference: fusion.Reference | None


class Target(Generic[R]):
    """What differs between searching candidates and searching jobs: table, filter columns, skills column, and
    the record a row becomes."""

    def __init__(
        self,
        table: Table,
        skills_column: str,
        years_column: str,
        has_status: bool,
        record: Callable[[dict[str, Any]], R],
        skills: Callable[[R], list[str]],
    ) -> None:
        self.table = table
        self.skills_column = skills_column
        self.years_column = years_column
        self.has_status = has_status
        self.record = record
        self.skills = skills

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
            where.append(
                sql.SQL("{} @> {}::text[]").format(sql.Identifier(self.skills_column), value(list(f.required_skills)))
            )
        if self.has_status and f.job_status:
            where.append(sql.SQL("status = {}").format(value(f.job_status)))
        return where, params


def _candidate_skills(c: Candidate) -> list[str]:
    return c.skills


def _job_skills(j: Job) -> list[str]:
    return j.required_skills


CANDIDATE_TARGET: Target[Candidate] = Target(
    CANDIDATES, "skills", "years_experience", False, Candidate.from_row, _candidate_skills
)
JOB_TARGET: Target[Job] = Target(JOBS, "required_skills", "min_experience", True, Job.from_row, _job_skills)


def _and(conditions: list[sql.Composable]) -> sql.Composable:
    return sql.SQL("").join(sql.SQL(" AND ") + c for c in conditions) if conditions else sql.SQL("")


class RankingStore:
    """The search statements over one pool, with the caches they share (row estimates, rendered statements)."""

    def __init__(self, pool: AsyncConnectionPool[Any], lexical_budget: lexical.Budget) -> None:
        self.pool = pool
        self.lexical_budget = lexical_budget
        self._sizes: dict[str, tuple[float, int]] = {}  # table -> (when read, planner's row estimate)
        self._statements: dict[tuple[str, str, int, str], bytes] = {}  # rendered VECTOR statements by shape

    @asynccontextmanager
    async def session(self) -> AsyncIterator[StoreSession]:
        """Statements on one pooled connection (a search's statements share one checkout)."""
        async with self.pool.connection() as conn:
            yield StoreSession(self, conn)

    async def keyword_pool(self, target: Target[Any], query: Query, opts: Options, pool_size: int) -> KeywordPool:
        """The keyword leg alone for typed text, on a connection of its own (it runs while the text is
        embedded)."""
        statement, args = self.legs_statement(target, query, opts, pool_size, semantic=False)
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(statement, args)
            rows = await cur.fetchall()
        return KeywordPool([r["id"] for r in rows], rows[0]["qlex"] if rows else None)

    def legs_statement(
        self,
        target: Target[Any],
        query: Query,
        opts: Options,
        pool_size: int,
        semantic: bool,
        keyword_pool: KeywordPool | None = None,
    ) -> tuple[sql.Composed, dict[str, Any]]:
        """Both legs, every pooled row's two similarities and the reference statistics, in one statement.
        `keyword_pool`: the keyword leg's rows already found (best first), so the statement does not search
        again."""
        where, params = target.named_filters(opts.filters)
        corpus: lexical.Corpus = "jobs" if target is JOB_TARGET else "candidates"
        args: dict[str, Any] = {
            **params,
            **self.lexical_budget.params(),
            "pool": pool_size,
            "sample": SAMPLE_ROWS,
            "v": query.vector,
        }
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
            kw = sql.SQL(
                "kw AS MATERIALIZED (SELECT k.id, k.pos FROM unnest(%(keyword_pool)s::uuid[]) "
                "WITH ORDINALITY AS k(id, pos))"
            )
        else:
            # Scored as they are scanned (a materialised scan of 20,000 term vectors spilled to disk).
            kw = sql.SQL(
                "kw AS MATERIALIZED (SELECT id, row_number() OVER (ORDER BY d, id) AS pos FROM ("
                "SELECT s.id, s.d FROM (SELECT t.id, t.lex <#> qlex.v AS d FROM {t} t, tsq, qlex "
                "WHERE {matches}{filters} LIMIT %(scan_cap)s) s ORDER BY s.d, s.id LIMIT %(pool)s) k)"
            ).format(t=target.table.ident, matches=matches, filters=_and(where))
        # A given term vector leaves nothing to match rows with (and no `rarest` for the tsq CTE to read).
        ctes = [terms, kw] if "qlex" in args else [terms, tsq, kw]
        if semantic:
            # relaxed_order may return rows slightly out of order: materialise, then number them exactly.
            ctes.append(
                sql.SQL(
                    "vec AS MATERIALIZED (SELECT id, row_number() OVER (ORDER BY distance, id) AS pos FROM ("
                    "SELECT id, embedding <=> %(v)s::vector AS distance FROM {t} WHERE embedding IS NOT NULL{filters} "
                    "ORDER BY embedding <=> %(v)s::vector LIMIT %(pool)s) h)"
                ).format(t=target.table.ident, filters=_and(where))
            )
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


class StoreSession:
    """The search statements on one checked-out connection."""

    def __init__(self, store: RankingStore, conn: AsyncConnection[Any]) -> None:
        self._store = store
        self._conn = conn

    async def row_estimate(self, table: Table) -> int:
        """The planner's row estimate for `table` (cheap, refreshed by autovacuum), cached for a minute."""
        cached = self._store._sizes.get(table.name)
        now = time.monotonic()
        if cached is not None and now - cached[0] < _SIZE_TTL:
            return cached[1]
        cur = await self._conn.execute(
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass", (f"catalog.{table.name}",)
        )
        row = await cur.fetchone()
        rows = int(row[0]) if row else 0
        self._store._sizes[table.name] = (now, rows)
        return rows

    async def source(self, table: Table, row_id: str) -> Query:
        """The query built from a stored row; a stale vector is not used (the text is re-embedded instead)."""
        query = sql.SQL("{select} WHERE id = %s").format(select=table.select_with_vector)
        async with self._conn.cursor(row_factory=dict_row) as cur:
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
            return Query(job_text(job), vector, job.required_skills, source=(table, row_id))
        cand = Candidate.from_row(row)
        return Query(candidate_text(cand), vector, cand.skills, source=(table, row_id))

    async def legs(
        self,
        target: Target[Any],
        query: Query,
        opts: Options,
        pool_size: int,
        ef: int,
        semantic: bool,
        keyword_pool: KeywordPool | None = None,
    ) -> Legs:
        """KEYWORD and HYBRID modes: both legs' pooled rows (the semantic one when `semantic`)."""
        statement, args = self._store.legs_statement(target, query, opts, pool_size, semantic, keyword_pool)
        conn = self._conn
        async with conn.pipeline(), conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            if semantic:
                await _set_search_knobs(conn, ef, bool(opts.filters.selective or target.has_status))
            await cur.execute(statement, args)
            rows = await cur.fetchall()
        pool = [
            fusion.Candidate(
                r["id"], None if r["cos"] is None else float(r["cos"]), float(r["lex"]), int(r["vpos"]), int(r["kpos"])
            )
            for r in rows
        ]
        return Legs(pool, _reference(rows[0]) if semantic and rows else None)

    async def has_searchable_words(self, text: str) -> bool:
        cur = await self._conn.execute("SELECT length(catalog.lexical_words(%s))", (text,))
        row = await cur.fetchone()
        return not (row is not None and row[0] == 0)

    async def records(self, target: Target[R], ids: Sequence[str]) -> dict[str, R]:
        """The records of `ids` by id (a row deleted meanwhile is missing)."""
        if not ids:
            return {}
        query = sql.SQL("{select} WHERE id = ANY(%s::uuid[])").format(select=target.table.select)
        async with self._conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, [list(ids)])
            return {str(r["id"]): target.record(r) for r in await cur.fetchall()}

    async def pairs(
        self, job_id: str, vector: np.ndarray, ids: Sequence[str]
    ) -> tuple[dict[str, fusion.Candidate], fusion.Reference | None]:
        """Both similarities of each candidate in `ids` to job `job_id` (by id; unknown ids are missing), and
        the candidate sample's statistics for the job (None when no id is known)."""
        statement = (
            sql.SQL("WITH ")
            + sql.SQL(",\n").join(
                [lexical.query_terms_sql(lexical.row_source_sql(JOBS.ident), "candidates"), _reference_sql(CANDIDATES)]
            )
            + sql.SQL(
                "\nSELECT c.id::text AS id, 1 - (c.embedding <=> %(v)s::vector) AS cos, "
                "coalesce(-(c.lex <#> qlex.v), 0) AS lex, ref.n, ref.cos_mean, ref.cos_std, ref.lex_mean, "
                "ref.lex_std FROM {t} c, qlex, ref WHERE c.id = ANY(%(ids)s::uuid[])"
            ).format(t=CANDIDATES.ident)
        )
        args = {
            "source_id": job_id,
            "v": vector,
            "ids": list(ids),
            **self._store.lexical_budget.params(),
            "sample": SAMPLE_ROWS,
        }
        async with self._conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(statement, args)
            rows = await cur.fetchall()
        found = {
            r["id"]: fusion.Candidate(r["id"], None if r["cos"] is None else float(r["cos"]), float(r["lex"]), 0, 0)
            for r in rows
        }
        return found, _reference(rows[0]) if rows else None

    async def nearest(
        self,
        target: Target[R],
        opts: Options,
        ef: int,
        *,
        vector: np.ndarray | None = None,
        source: tuple[Table, str] | None = None,
    ) -> tuple[list[Nearest[R]], list[str]]:
        """The top_k nearest rows to `vector`, or to the stored vector of row `source` when it is fresh (no rows
        otherwise), nearest first, with the source row's skills.

        The settings are transaction-local set_config calls in the statement itself: an autocommit statement is
        its own transaction, so they end with it, and the query vector is read from the CTE that applies them,
        so they are in force before the index scan starts (pgvector reads them when the scan begins).
        """
        where, params = target.filters(opts.filters)
        knobs = [str(ef), str(MAX_SCAN_TUPLES_FILTERED if where else 20_000)]
        args: list[Any] = [*knobs, vector] if source is None else [*knobs, source[1]]
        statement = self._nearest_sql(target, where, source[0] if source else None, opts.top_k)
        async with self._conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(statement, [*args, *params], prepare=True)
            rows = await cur.fetchall()
        found: list[Nearest[R]] = []
        skills: list[str] = []
        for row in rows:
            cosine = float(row.pop("cosine"))
            skills = row.pop("query_skills") or []
            found.append(Nearest(target.record(row), cosine))
        return found, skills

    def _nearest_sql(self, target: Target[Any], where: list[sql.Composable], source: Table | None, top_k: int) -> bytes:
        """The VECTOR statement, rendered once per shape (composing ~40 identifiers cost ~0.1 ms per call)."""
        statements = self._store._statements
        key = (target.table.name, source.name if source else "", top_k, repr(where))
        cached = statements.get(key)
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
        statement = (
            sql.SQL(
                "WITH knobs AS MATERIALIZED (SELECT set_config('hnsw.ef_search', %s, true) AS ef, "
                "set_config('hnsw.iterative_scan', 'relaxed_order', true) AS iterative, "
                "set_config('hnsw.max_scan_tuples', %s, true) AS scan_cap), {q}, "
                "hits AS MATERIALIZED (SELECT {cols}, {stale} AS embedding_stale, "
                "embedding <=> (SELECT v FROM q) AS distance FROM {t} "
                "WHERE embedding IS NOT NULL AND (SELECT v FROM q) IS NOT NULL{filters} "
                "ORDER BY embedding <=> (SELECT v FROM q) LIMIT {limit}) "
                "SELECT {cols}, embedding_stale, 1 - distance AS cosine, (SELECT skills FROM q) AS query_skills "
                "FROM hits ORDER BY distance, id"
            )
            .format(
                q=query_cte,
                cols=cols,
                stale=_STALE,
                t=target.table.ident,
                filters=_and(where),
                limit=sql.Literal(top_k),
            )
            .as_bytes(self._conn)
        )
        if len(statements) >= _MAX_STATEMENTS:
            statements.clear()
        statements[key] = statement
        return statement


def _reference(row: dict[str, Any]) -> fusion.Reference:
    return fusion.Reference(
        int(row["n"]), float(row["cos_mean"]), float(row["cos_std"]), float(row["lex_mean"]), float(row["lex_std"])
    )


def _reference_sql(table: Table) -> sql.Composable:
    """The `ref` CTE: both similarities' mean and spread over the catalog sample (parameters %(v)s, %(sample)s)."""
    return sql.SQL(
        "ref AS (SELECT count(*) AS n, coalesce(avg(cos), 0) AS cos_mean, coalesce(stddev_pop(cos), 0) "
        "AS cos_std, coalesce(avg(lex), 0) AS lex_mean, coalesce(stddev_pop(lex), 0) AS lex_std FROM ("
        "SELECT 1 - (s.embedding <=> %(v)s::vector) AS cos, coalesce(-(s.lex <#> qlex.v), 0) AS lex "
        "FROM (SELECT embedding, lex FROM {t} ORDER BY id LIMIT %(sample)s) s, qlex) x)"
    ).format(t=table.ident)


async def _set_search_knobs(conn: AsyncConnection[Any], ef: int, filtered: bool) -> None:
    # Transaction-local (SET LOCAL semantics), so a pooled connection never keeps another query's settings.
    # A selective filter may need many more index tuples than pgvector's default cap (20k) to fill top-k.
    await conn.execute(
        "SELECT set_config('hnsw.ef_search', %s, true), "
        "set_config('hnsw.iterative_scan', 'relaxed_order', true), "
        "set_config('hnsw.max_scan_tuples', %s, true)",
        (str(ef), str(MAX_SCAN_TUPLES_FILTERED if filtered else 20_000)),
    )


_SKILLS_COLUMN = {CANDIDATES.name: "skills", JOBS.name: "required_skills"}
_STALE = sql.SQL("(embedded_at IS NULL OR embedded_at < updated_at)")  # as search_svc.rows.Table's selects
