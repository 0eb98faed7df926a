"""Synthetic resumes made of real resume sentences, for benchmarks that need a big catalog with a real
vocabulary.

Each synthetic resume is 8-40 sentences drawn from two or three real resumes of ../shared/data (the labelled
dev files), so words keep their real frequencies and co-occurrences while a catalog of any size can be made;
a few invented tokens per resume (as names, e-mail handles and project codes are) give the long tail of
rare words a real catalog has. Deterministic for a seed.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = next(
    (p / "shared" / "data" for p in REPO.parents if (p / "shared" / "data").is_dir()), REPO.parent / "shared" / "data"
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def real_resumes() -> list[str]:
    texts: list[str] = []
    with open(DATA / "resumes-dev.csv", newline="", encoding="utf-8") as fh:
        texts += [row["resume"] for row in csv.DictReader(fh)]
    with open(DATA / "pii-dev.jsonl", encoding="utf-8") as fh:
        texts += [json.loads(line)["content"] for line in fh if line.strip()]
    return texts


def sentence_pools() -> list[list[str]]:
    pools = []
    for text in real_resumes():
        sentences = [s.strip() for s in _SENTENCE.split(text) if len(s.strip()) > 20]
        if len(sentences) >= 5:
            pools.append(sentences)
    return pools


def remixed(n: int, seed: int = 7) -> Iterator[str]:
    for text, _ids in remixed_with_sentences(n, seed):
        yield text


def unique_sentences() -> list[str]:
    """Every sentence the remixes draw from, once, in a fixed order (the ids `remixed_with_sentences` gives)."""
    return list(dict.fromkeys(s for pool in sentence_pools() for s in pool))


def remixed_with_sentences(n: int, seed: int = 7) -> Iterator[tuple[str, list[int]]]:
    """Synthetic resumes and, for each, the ids (in `unique_sentences`) of the sentences it is made of."""
    rng = random.Random(seed)
    pools = sentence_pools()
    ids = {s: i for i, s in enumerate(unique_sentences())}
    for _ in range(n):
        sources = rng.sample(pools, rng.randint(2, 3))
        sentences = [rng.choice(rng.choice(sources)) for _ in range(rng.randint(8, 40))]
        rare = " ".join(f"{rng.choice('bcdfghjklmnpqrstvwxz')}{rng.randrange(36**5):x}q" for _ in range(3))
        yield " ".join(sentences) + "\n" + rare, [ids[s] for s in sentences]
