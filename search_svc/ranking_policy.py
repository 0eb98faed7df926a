"""What search ranks and how, free of SQL and gRPC: options and their bounds, pool sizes and ef_search, the
order of each mode's hits, and each hit's explanation (MatchExplanation's fields).

The SQL that finds the rows is search_svc.ranking_store; the fusion of the two legs is search_svc.fusion;
search_svc.ranking runs the two together. Everything here takes and returns plain dataclasses, so a test feeds
it in-memory rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from hiremesh.errors import InvalidArgument
from hiremesh.skills import normalise_skills
from search_svc import fusion

R = TypeVar("R")  # the record a hit carries: search_svc.records.Candidate or Job

Mode = Literal["vector", "keyword", "hybrid"]
MAX_TOP_K = 200
DEFAULT_TOP_K = 10
MAX_EF_SEARCH = 1000
# (rows below, ef_search): the smallest ef_search with recall@10 >= 0.97 in bench/search.py on the graphs of
# migration 0005 (m=16, ef_construction=200; docs/BENCHMARKS.md "Search latency and 1M recall"): 100K rows
# ef 40 -> 0.988; 1M rows ef 100 -> 0.962, ef 150 -> 0.987, so everything from 150K to 1.5M gets 150. Beyond
# 1.5M nothing was measured: the floor doubles as a guess.
EF_FLOORS: tuple[tuple[int, int], ...] = ((150_000, 40), (1_500_000, 150), (2**62, 300))
# Hybrid pools three times top_k from each leg (at least 50, at most 600): fusion can lift a row the other
# leg ranked low, and the pool is what it can lift from.
MIN_HYBRID_POOL = 50
MAX_HYBRID_POOL = 600


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
class Hit(Generic[R]):
    """A found record and why it matched."""

    record: R
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
class Result(Generic[R]):
    hits: list[Hit[R]]
    mode: Mode
    ef_search: int


@dataclass(frozen=True)
class Nearest(Generic[R]):
    """A row of the VECTOR statement, nearest first."""

    record: R
    cosine: float


@dataclass(frozen=True)
class Ranked:
    """The pooled rows kept, best first, and how their score was made."""

    scored: list[fusion.Scored]
    method: str
    lexical_weight: float


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
    if opts.lexical_weight is not None and not (
        math.isfinite(opts.lexical_weight) and 0.0 <= opts.lexical_weight <= 1.0
    ):
        raise InvalidArgument("options.lexical_weight", "must be between 0 and 1")
    filters = Filters(f.location.strip(), f.min_years, tuple(normalise_skills(list(f.required_skills))), f.job_status)
    return Options(opts.mode, top_k, opts.min_similarity, opts.ef_search, filters, opts.lexical_weight)


def pool_size(opts: Options) -> int:
    """How many rows each leg returns: top_k, or in HYBRID mode a wider pool for the fusion to choose from."""
    if opts.mode != "hybrid":
        return opts.top_k
    return min(max(opts.top_k * 3, MIN_HYBRID_POOL), MAX_HYBRID_POOL)


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


def rank_pool(
    pool: Sequence[fusion.Candidate], ref: fusion.Reference | None, opts: Options, policy: fusion.Policy
) -> Ranked:
    """KEYWORD and HYBRID modes: the pooled rows ordered and cut to top_k.

    `ref` is None when the semantic leg did not run (KEYWORD mode, or HYBRID for a stored row that has no vector
    yet): the rows are then ranked by lexical similarity alone, ties in the keyword leg's order. In HYBRID mode
    the request's lexical weight overrides the deployment's, and min_similarity drops rows below that cosine
    (every row, when none has a cosine)."""
    scored: list[fusion.Scored]
    if opts.mode == "hybrid" and ref is not None:
        policy = policy.with_weight(opts.lexical_weight)
        scored = fusion.fuse(pool, ref, policy)
        method: str = policy.method
        weight = policy.lexical_weight
    else:
        scored = [fusion.Scored(c, c.lexical, 0.0, 0.0) for c in pool]
        scored.sort(key=lambda s: (-s.score, s.candidate.keyword_position))
        method, weight = "lexical", 1.0
    if opts.mode == "hybrid" and opts.min_similarity:
        scored = [s for s in scored if s.candidate.cosine is not None and s.candidate.cosine >= opts.min_similarity]
    return Ranked(scored[: opts.top_k], method, weight)


def pair_policy(deployment: fusion.Policy, lexical_weight: float | None) -> fusion.Policy:
    """Scoring given pairs: weighted z-scores whatever the deployment fuses with (a pair has no positions)."""
    return fusion.Policy("weighted_z", deployment.lexical_weight).with_weight(lexical_weight)


def score_given(
    ids: Sequence[str], pool: Sequence[fusion.Candidate], ref: fusion.Reference, policy: fusion.Policy
) -> list[fusion.Scored]:
    """Each id's score in the order given (an id given twice is scored twice); every id must be in `pool`."""
    scored = {s.candidate.row_id: s for s in fusion.fuse(pool, ref, policy)}
    return [scored[i] for i in ids]


def explain(ranked: Ranked, records: Mapping[str, R]) -> list[Hit[R]]:
    """Hits for the ranked rows whose record was read; a row deleted since it was ranked is left out."""
    hits: list[Hit[R]] = []
    for s in ranked.scored:
        record = records.get(s.candidate.row_id)
        if record is None:
            continue
        c = s.candidate
        hits.append(
            Hit(
                record,
                s.score,
                c.cosine or 0.0,
                c.lexical,
                [],
                c.vector_position,
                c.keyword_position,
                s.semantic_z,
                s.lexical_z,
                ranked.method,
                ranked.lexical_weight,
            )
        )
    return hits


def nearest_hits(rows: Sequence[Nearest[R]], min_similarity: float) -> list[Hit[R]]:
    """VECTOR mode: the rows in the order found, scored by cosine; positions count the rows dropped by
    min_similarity too (they are the vector leg's positions)."""
    hits: list[Hit[R]] = []
    for position, row in enumerate(rows, start=1):
        if min_similarity and row.cosine < min_similarity:
            continue
        hits.append(Hit(row.record, row.cosine, row.cosine, 0.0, [], position, 0, fusion="cosine"))
    return hits


def matched_skills(have: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """The skills in `have` (in their order and spelling) that `wanted` names, case-insensitively."""
    lowered = {s.lower() for s in wanted}
    return [s for s in have if s.lower() in lowered]
