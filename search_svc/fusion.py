"""How hybrid search turns two similarities into one score: the ranking policy, free of SQL and gRPC.

Measured on real resumes (docs/BENCHMARKS.md "Relevance"): reciprocal rank fusion of the lexical and the
semantic ranks scored below the lexical leg alone, while a weighted sum of per-query z-scores scored above
both. A similarity's z-score says how far a row stands above a typical row of the catalog *for this
query*; the typical row is a fixed sample of the catalog (the rows with the smallest ids, which are
random UUIDs), so the score does not depend on top_k or on which rows the two legs returned, and it is
the same number however the list is cut. The fused score is what the list is ordered by and what the API
returns as `score`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Method = Literal["weighted_z", "rrf"]
METHODS: tuple[Method, ...] = ("weighted_z", "rrf")
DEFAULT_LEXICAL_WEIGHT = 0.5  # equal shares: bench/relevance.py's sweep of 0.3..0.7 is flat within a hit or two
RRF_K = 60  # the constant from Cormack et al.; damps the head of each list
_MIN_STD = 1e-6


@dataclass(frozen=True)
class Policy:
    method: Method = "weighted_z"
    lexical_weight: float = DEFAULT_LEXICAL_WEIGHT  # the semantic leg gets 1 - lexical_weight

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown fusion method {self.method!r}; one of {', '.join(METHODS)}")
        if not (math.isfinite(self.lexical_weight) and 0.0 <= self.lexical_weight <= 1.0):
            raise ValueError("lexical weight must be between 0 and 1")

    def with_weight(self, lexical_weight: float | None) -> Policy:
        return self if lexical_weight is None else Policy(self.method, lexical_weight)


@dataclass(frozen=True)
class Reference:
    """Mean and spread of both similarities over the catalog sample, for one query."""

    rows: int
    cosine_mean: float
    cosine_std: float
    lexical_mean: float
    lexical_std: float


@dataclass(frozen=True)
class Candidate:
    """A row either leg returned, with both similarities (None when the row has no vector yet)."""

    row_id: str
    cosine: float | None
    lexical: float
    vector_position: int  # 1-based, 0 when the vector leg did not return it
    keyword_position: int


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    score: float
    semantic_z: float
    lexical_z: float


def _z(value: float, mean: float, std: float) -> float:
    return (value - mean) / max(std, _MIN_STD)


def reference_from(pool: Sequence[Candidate]) -> Reference:
    """A stand-in reference from the candidates themselves, for a catalog too small to sample (< 2 rows)."""
    cosines = [c.cosine for c in pool if c.cosine is not None]
    lexical = [c.lexical for c in pool]
    return Reference(len(pool), _mean(cosines), _std(cosines), _mean(lexical), _std(lexical))


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _std(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    mean = _mean(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def fuse(pool: Sequence[Candidate], ref: Reference, policy: Policy) -> list[Scored]:
    """Every candidate scored and ordered best first; ties keep the vector leg's order, then the id."""
    if ref.rows < 2:
        ref = reference_from(pool)
    w = policy.lexical_weight
    scored: list[Scored] = []
    for c in pool:
        # A row without a vector yet (embedding_svc was down when it was written) is neutral on meaning.
        sem_z = 0.0 if c.cosine is None else _z(c.cosine, ref.cosine_mean, ref.cosine_std)
        lex_z = _z(c.lexical, ref.lexical_mean, ref.lexical_std)
        if policy.method == "rrf":
            score = sum(
                weight / (RRF_K + pos) for weight, pos in ((1 - w, c.vector_position), (w, c.keyword_position)) if pos
            )
        else:
            score = w * lex_z + (1 - w) * sem_z
        scored.append(Scored(c, score, sem_z, lex_z))
    scored.sort(key=lambda s: (-s.score, s.candidate.vector_position or 1 << 30, s.candidate.row_id))
    return scored
