"""Skill phrase lookup over text in linear time: tokenise once, then look n-grams up in dictionaries.

A phrase index maps each alias, tokenised the same way as the text and joined by spaces, to its skill; a
second index holds the aliases with spaces removed, so "Java Script", "Power-BI" and "My SQL" find
"javascript", "powerbi" and "mysql". The scan is leftmost-longest and never spans punctuation; its cost is
O(tokens x longest alias), independent of the vocabulary size (no alternation regex, no backtracking).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ANY", "CASE", "CONTEXT", "Alias", "PhraseIndex", "phrase_key", "tokenize"]

# Words keep the symbols skill names carry inside or after them (C++, C#, .NET, Node.js, ASP.NET); "&" and
# "/" are tokens of their own (PL/SQL, GD&T, CI/CD); whitespace and "-" only separate tokens; any other
# punctuation is a break no phrase spans.
_TOKEN = re.compile(r"(?P<w>\.?[^\W_]+(?:\.[^\W_]+)*(?:\+\+|\+|#)?)|(?P<j>[&/])|(?P<b>[^\s\w&/-]|_)")
_NEWLINE = re.compile("\n")
MAX_TOKENS = 6
SQUASH_MAX = 3

# How an alias may match: ANY case; CASE: exactly as written or in capitals (lower case only inside a skills
# list); CONTEXT: as CASE, and only inside a skills list or before "programming"/"language".
ANY, CASE, CONTEXT = 0, 1, 2
_CONTEXT_WORDS = frozenset(
    {
        "programming",
        "language",
        "languages",
        "lang",
        "scripting",
        "developer",
        "development",
        "framework",
        "skills",
        "technologies",
        "tools",
        "frameworks",
    }
)
CONTEXT_WINDOW = 6
# Everyday short words never taken as a piece of a name spelled apart.
_SHORT_WORDS = frozenset("a an the in on at of to by for and or as is it be we my our up".split())
# Words that make the name before them a company's ("Oracle Corporation", "SAP Labs", "Infosys Ltd").
_COMPANY_WORDS = frozenset(
    {"corporation", "corp", "inc", "ltd", "limited", "pvt", "private", "llc", "gmbh", "plc", "labs", "india"}
)


@dataclass(frozen=True)
class Alias:
    name: str
    surface: str  # as written in the table, for CASE/CONTEXT checks
    mode: int
    source: str


@dataclass
class Tokens:
    """Word and joiner tokens of a text as parallel lists (one object per text, not per token)."""

    keys: list[str]
    starts: list[int]
    ends: list[int]
    segments: list[int]  # tokens of one segment have no break character between them
    newlines: list[int]  # offsets of the text's newlines, for line numbers on demand

    def __len__(self) -> int:
        return len(self.keys)

    def line(self, i: int) -> int:
        return bisect.bisect_left(self.newlines, self.starts[i])


@dataclass(frozen=True)
class Match:
    alias: Alias
    first: int  # token indices, inclusive
    last: int
    start: int  # character offsets
    end: int


def tokenize(text: str) -> Tokens:
    """Tokens with their offsets; a new segment starts after every break character."""
    keys: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    segments: list[int] = []
    segment = 0
    for m in _TOKEN.finditer(text):
        if m.lastgroup == "b":
            segment += 1
            continue
        keys.append(m.group().lower())
        starts.append(m.start())
        ends.append(m.end())
        segments.append(segment)
    newlines = [m.start() for m in _NEWLINE.finditer(text)]
    return Tokens(keys, starts, ends, segments, newlines)


def phrase_key(phrase: str) -> str:
    """The lookup key of an alias: its tokens, lower-cased, joined by single spaces."""
    return " ".join(tokenize(phrase).keys)


class PhraseIndex:
    """Aliases by key; earlier-added aliases win a key (curated before ESCO)."""

    def __init__(self) -> None:
        self.phrases: dict[str, Alias] = {}
        self.prefixes: set[str] = set()
        self.squashed: dict[str, Alias] = {}
        self.squash_prefixes: set[str] = set()

    def add(self, phrase: str, alias: Alias) -> bool:
        tokens = tokenize(phrase).keys
        if not tokens or len(tokens) > MAX_TOKENS:
            return False
        key = " ".join(tokens)
        if key in self.phrases:
            return False
        self.phrases[key] = alias
        for n in range(1, len(tokens)):
            self.prefixes.add(" ".join(tokens[:n]))
        # Squashed forms only for ANY-case aliases of one word of 5+ letters ("javascript", "powerbi",
        # "mysql"): short ones would join unrelated neighbours.
        word = tokens[0]
        if len(tokens) == 1 and len(word) >= 5 and word.isalnum() and alias.mode == ANY:
            if word not in self.squashed:
                self.squashed[word] = alias
                self.squash_prefixes.update(word[:k] for k in range(1, len(word)))
        return True

    def __contains__(self, key: str) -> bool:
        return key in self.phrases

    def get(self, key: str) -> Alias | None:
        return self.phrases.get(key)

    def scan(self, tokens: Tokens, text: str) -> list[Match]:
        """Leftmost-longest matches; CASE/CONTEXT checks applied (see `_case_verdict`, `_in_context`)."""
        found: list[Match] = []
        pending: list[Match] = []
        keys, starts, ends, segments = tokens.keys, tokens.starts, tokens.ends, tokens.segments
        phrases, prefixes, squash_prefixes = self.phrases, self.prefixes, self.squash_prefixes
        n = len(keys)
        i = 0
        while i < n:
            best: Match | None = None
            needs_context = False
            segment = segments[i]
            key = keys[i]
            j = i
            stop = min(n, i + MAX_TOKENS)
            while True:
                alias = phrases.get(key)
                if alias is not None:
                    verdict = _case_verdict(alias, text[starts[i] : ends[j]])
                    if verdict is not None:
                        best, needs_context = Match(alias, i, j, starts[i], ends[j]), verdict
                j += 1
                if j >= stop or segments[j] != segment or key not in prefixes:
                    break
                key = f"{key} {keys[j]}"
            if keys[i] in squash_prefixes:
                squashed = self._squashed(tokens, i, text)
                if squashed is not None and (best is None or squashed.last > best.last):
                    best, needs_context = squashed, False
            if best is None:
                i += 1
                continue
            nxt = best.last + 1
            if nxt < n and keys[nxt] in _COMPANY_WORDS and segments[nxt] == segments[best.last]:
                i = nxt + 1  # "Oracle India Pvt Ltd", "Cisco Systems Inc": the employer, not the skill
                continue
            (pending if needs_context else found).append(best)
            i = best.last + 1
        if pending:
            confirmed = found  # in token order: the scan runs left to right
            firsts = [m.first for m in confirmed]
            found = sorted(
                [*confirmed, *(m for m in pending if _in_context(m, tokens, confirmed, firsts))], key=lambda m: m.start
            )
        return found

    def _squashed(self, tokens: Tokens, i: int, text: str) -> Match | None:
        """A one-word alias spelled in 2-3 pieces separated by one space or hyphen ("Java Script")."""
        keys, starts, ends, segments = tokens.keys, tokens.starts, tokens.ends, tokens.segments
        joined = keys[i]
        hit: Match | None = None
        for j in range(i + 1, min(len(keys), i + SQUASH_MAX)):
            if segments[j] != segments[i] or text[ends[j - 1] : starts[j]] not in {" ", "-", " - "}:
                break
            if keys[j - 1] in _SHORT_WORDS or keys[j] in _SHORT_WORDS:
                break  # "training in Design" is not "InDesign"
            joined += keys[j]
            alias = self.squashed.get(joined)
            if alias is not None:
                hit = Match(alias, i, j, starts[i], ends[j])
            if joined not in self.squash_prefixes:
                break
        return hit


def _case_verdict(alias: Alias, surface: str) -> bool | None:
    """None: rejected; False: accepted; True: accepted only inside a skills list."""
    if alias.mode == ANY:
        return False
    written = " ".join(surface.split())
    exact = written == alias.surface or (written.isupper() and written == alias.surface.upper())
    if alias.mode == CASE:
        return False if exact else True
    # CONTEXT: the exact spelling next to other skills; in lower case only curated words of four letters or
    # more ("java, spring, hibernate"), never "go", "r", "c", nor ESCO's everyday words ("access", "source").
    if exact:
        return True
    curated_word = alias.source == "curated" and len(alias.surface) >= 4 and written.islower()
    return True if curated_word else None


def _in_context(match: Match, tokens: Tokens, confirmed: list[Match], firsts: list[int]) -> bool:
    """Inside a skills list: a confirmed skill within CONTEXT_WINDOW tokens on the same line, or a word such
    as "programming" right after or "languages"/"skills" shortly before. Looks only at neighbours (bisect), so
    the check is O(log n) per ambiguous match."""
    keys, starts, ends = tokens.keys, tokens.starts, tokens.ends
    line = tokens.line(match.first)
    after = match.last + 1 if match.last + 1 < len(keys) else None
    if len(match.alias.surface) == 1:
        # A single letter: not part of "R&D" nor an initial ("R. Kumar" has a break, "C.V." is one token).
        before = match.first - 1 if match.first > 0 else None
        if (after is not None and keys[after] == "&" and starts[after] == ends[match.last]) or (
            before is not None and keys[before] == "&" and ends[before] == starts[match.first]
        ):
            return False
    if after is not None and keys[after] in _CONTEXT_WORDS and tokens.line(after) == line:
        return True
    at = bisect.bisect_left(firsts, match.first - CONTEXT_WINDOW)
    while at < len(confirmed) and confirmed[at].first <= match.last + CONTEXT_WINDOW:
        if tokens.line(confirmed[at].first) == line:
            return True
        at += 1
    lo = max(0, match.first - CONTEXT_WINDOW)
    return any(keys[k] in _CONTEXT_WORDS and tokens.line(k) == line for k in range(lo, match.first))


def spans(matches: Iterable[Match]) -> list[tuple[int, int, str]]:
    return [(m.start, m.end, m.alias.name) for m in matches]
