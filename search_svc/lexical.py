"""IDF-aware lexical scoring in PostgreSQL: the query's term vector, and which rows are worth scoring.

Rows carry a term vector `lex` (migration 0003: 1 + ln tf per term, a term being a word or a pair of
adjacent words, L2-normalised, no corpus statistics in it). A query's vector applies the rarity:
weight_t = (1 + ln tf_t) * idf_t, L2-normalised, then scaled by idf_t / idf_max, so `lex <#> query` ranks
like TF-IDF with the rarity counted on both sides (a row's own IDF weighting is folded into the query) and
every score stays in 0..1. idf_t = ln((N + 1) / (df_t + 1)) + 1, with N and df_t read from
`catalog.term_stats` plus its not-yet-folded `term_stats_pending`, so a row written a moment ago already
counts.

Scoring every row that shares a word with a pasted job description is linear in the corpus: the words of
a job are mostly common ones. So the keyword leg scores only rows holding one of the query's rarest words
(found through the GIN index on the rows' word dimensions, `lex_dims`), taken from the rarest up while their
document counts add up to `budget` (the rarest one always, however common). A row missing from that set
lacks all of the query's rare words, which carry most of its IDF weight; `bench/search_keyword.py` measures
what the bound costs in recall and saves in time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from psycopg import sql

from hiremesh.errors import InvalidArgument

Corpus = Literal["candidates", "jobs"]
DIMENSIONS = 999_999_999  # catalog.term_dim's range; the sparsevec's declared size
SCAN_CAP_FACTOR = 2  # a query's rarest word alone may bring this many times the budget's ceiling, no more
MAX_QUERY_CHARS = 10_000
# Web-search syntax a person types on purpose: a quoted phrase, a -excluded word, an explicit OR.
_OPERATOR = re.compile(r'"|(?:^|\s)-\w|\s(?:or|OR|Or)\s')
_SHORT_QUERY_WORDS = 12


@dataclass(frozen=True)
class Budget:
    """How many rows the keyword leg scores: `share` of the corpus, at least `floor`, at most `ceiling`.

    bench/search_keyword.py (100,000 resumes remixed from real sentences, 17 job descriptions): scoring 5 %
    found 0.94 of the exact top 10 at ~4 % of the old OR/ts_rank leg's time, 20 % found all of it at ~10 %;
    the ceiling keeps a million-row catalog inside the latency target, where the semantic leg of hybrid
    search brings what the lexical bound leaves out.
    """

    floor: int = 5_000
    share: float = 0.05
    ceiling: int = 20_000

    def __post_init__(self) -> None:
        if not (1 <= self.floor <= self.ceiling and 0.0 <= self.share <= 1.0):
            raise ValueError("lexical budget: need 1 <= floor <= ceiling and 0 <= share <= 1")

    @classmethod
    def fixed(cls, rows: int) -> Budget:
        return cls(rows, 0.0, rows)

    def params(self) -> dict[str, float]:
        return {
            "budget_floor": self.floor,
            "budget_share": self.share,
            "budget_ceiling": self.ceiling,
            "scan_cap": self.ceiling * SCAN_CAP_FACTOR,
        }


@dataclass(frozen=True)
class LexicalQuery:
    """What the keyword leg matches: a bag of terms (any may match, rarer ones weigh more) or, for a short
    query in web-search syntax, exactly what websearch_to_tsquery means (phrases, -exclusions, OR)."""

    text: str
    strict: bool


def classify(text: str) -> LexicalQuery:
    """A pasted job description or resume is a bag of terms; a short query with operators keeps them."""
    words = text.split()
    strict = len(words) <= _SHORT_QUERY_WORDS and bool(_OPERATOR.search(text))
    return LexicalQuery(text, strict)


def query_terms_sql(source: sql.Composable, corpus: Corpus) -> sql.Composable:
    """CTEs `qw` (the query's words with df and weights), `qlex` (its sparsevec) and `rarest` (the words that
    pick the rows worth scoring). `source` is an expression giving the query's words as a tsvector (see
    `text_source_sql`, `row_source_sql`); parameters: those of `Budget.params`."""
    return sql.SQL("""
qterms AS (
    SELECT catalog.term_dim(term) AS dim, min(term) AS lexeme, sum(1 + ln(tf)) AS tf
    FROM catalog.lexical_terms({source}) GROUP BY 1),
corpus AS (
    SELECT coalesce((SELECT docs FROM catalog.term_stats WHERE corpus = {corpus} AND dim = 0), 0)
         + coalesce((SELECT sum(delta) FROM catalog.term_stats_pending WHERE corpus = {corpus} AND dim = 0), 0)
         AS docs),
qdf AS (
    SELECT q.dim, q.lexeme, q.tf, coalesce(s.docs, 0) + coalesce(p.delta, 0) AS df
    FROM qterms q
    LEFT JOIN catalog.term_stats s ON s.corpus = {corpus} AND s.dim = q.dim
    LEFT JOIN LATERAL (SELECT sum(delta) AS delta FROM catalog.term_stats_pending p
                       WHERE p.corpus = {corpus} AND p.dim = q.dim) p ON true),
qw AS (
    SELECT q.dim, q.lexeme, q.df, q.tf * (ln((c.docs + 1.0) / (q.df + 1.0)) + 1) AS weight,
           (ln((c.docs + 1.0) / (q.df + 1.0)) + 1) / (ln(c.docs + 1.0) + 1) AS rarity
    FROM qdf q, corpus c WHERE q.df > 0),
qlex AS (
    SELECT ('{{' || string_agg(qw.dim || ':' || (qw.weight / z.norm * qw.rarity)::real, ',' ORDER BY qw.dim)
            || '}}/{dims}')::sparsevec AS v
    FROM qw, (SELECT sqrt(sum(weight * weight)) AS norm FROM qw) z),
rarest AS (
    SELECT dim FROM (SELECT dim, sum(df) OVER (ORDER BY df, dim) - df AS before FROM qw) r
    WHERE before < (SELECT least(greatest(%(budget_floor)s, %(budget_share)s * docs), %(budget_ceiling)s)
                    FROM corpus))""").format(source=source, corpus=sql.Literal(corpus), dims=sql.SQL(str(DIMENSIONS)))


def bag_match_sql() -> tuple[sql.Composable, sql.Composable]:
    """The `tsq` CTE and the row condition for a bag of terms: the row holds one of the rarest words (the
    GIN index on `lex_dims` answers it, and the budget counted exactly these rows)."""
    return (sql.SQL("tsq AS (SELECT array_agg(dim) AS q FROM rarest)"), sql.SQL("t.lex_dims && tsq.q"))


def strict_match_sql() -> tuple[sql.Composable, sql.Composable]:
    """The `tsq` CTE and the row condition for web-search syntax (parameter %(text)s), on the stemmed `tsv`."""
    return (
        sql.SQL("tsq AS (SELECT websearch_to_tsquery('english', catalog.tech_terms(%(text)s)) AS q)"),
        sql.SQL("t.tsv @@ tsq.q"),
    )


def text_source_sql() -> sql.Composable:
    """The words of typed text (parameter %(text)s), as rows' words are read (migration 0003)."""
    return sql.SQL("catalog.lexical_words(%(text)s)")


def row_source_sql(table: sql.Identifier) -> sql.Composable:
    """The words of a stored row (parameter %(source_id)s)."""
    return sql.SQL("(SELECT catalog.lexical_doc(r) FROM {t} r WHERE r.id = %(source_id)s)").format(t=table)


def check_text(text: str, field: str = "text") -> str:
    text = text.strip()
    if not text:
        raise InvalidArgument(field, "empty query")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidArgument(field, f"longer than {MAX_QUERY_CHARS} characters")
    return text
