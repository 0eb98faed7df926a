"""Protected-attribute language: a lexicon matched on word boundaries and lemmas, with context rules.

Words are tokenised by a regex (so "he" inside "the" or "help" never matches), folded with the rule
lemmatizer, and looked up as phrases. Context rules keep common false alarms quiet: "Senior" is never a term
(only "senior citizen"), "race condition" is engineering, and sentences that are equal-opportunity statements
("We do not discriminate on the basis of race, religion, ...") or quotations of them are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from guardrail_svc.bias_lexicon import EEO_MARKERS, PATTERNS, TERMS, Term
from guardrail_svc.lemmas import lemma
from guardrail_svc.report import BiasFinding

_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*(?:-[A-Za-z]+)*")
# Bounded gaps and quote lengths keep both linear: an unbounded "\n(?=\s*[-•*])" rescans a run of blank lines
# from every newline, and an unclosed quote mark was scanned to the end of the text from every quote mark.
_SENTENCE_END = re.compile(r"[.!?][\"”']?(?=\s)|\n[ \t\r]{0,40}\n|\n(?=[ \t\r]{0,40}[-•*])")
MAX_QUOTE_CHARS = 2000
_QUOTED = re.compile(rf"\"[^\"]{{10,{MAX_QUOTE_CHARS}}}\"|“[^”]{{10,{MAX_QUOTE_CHARS}}}”")

_BY_FIRST: dict[str, list[Term]] = {}
for _term in TERMS:
    _BY_FIRST.setdefault(_term.phrase[0], []).append(_term)
for _terms in _BY_FIRST.values():
    _terms.sort(key=lambda t: -len(t.phrase))  # longest phrase wins


def _exempt_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if EEO_MARKERS.search(text, start, end):
            spans.append((start, end))
        start = end
    if EEO_MARKERS.search(text, start):
        spans.append((start, len(text)))
    spans.extend(m.span() for m in _QUOTED.finditer(text) if EEO_MARKERS.search(m.group(0)))
    return spans


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(lemma(m.group(0)), m.start(), m.end()) for m in _WORD.finditer(text)]


def _phrase_matches(tokens: list[tuple[str, int, int]]) -> Iterator[tuple[Term, int, int]]:
    i = 0
    while i < len(tokens):
        matched = 0
        for term in _BY_FIRST.get(tokens[i][0], ()):
            n = len(term.phrase)
            if tuple(t[0] for t in tokens[i : i + n]) != term.phrase:
                continue
            nxt = tokens[i + n][0] if i + n < len(tokens) else ""
            prev = tokens[i - 1][0] if i > 0 else ""
            if nxt in term.not_next or prev in term.not_prev:
                continue
            yield term, tokens[i][1], tokens[i + n - 1][2]
            matched = n
            break
        i += matched or 1


def find_bias(text: str) -> list[BiasFinding]:
    """Every protected-attribute term in `text`, in order, outside equal-opportunity statements."""
    exempt = _exempt_spans(text)

    def allowed(start: int, end: int) -> bool:
        return not any(s <= start and end <= e for s, e in exempt)

    found: list[BiasFinding] = []
    for term, start, end in _phrase_matches(_tokens(text)):
        if allowed(start, end):
            found.append(
                BiasFinding(
                    text[start:end], term.category, term.severity, start, end, term.alternative, term.explanation
                )
            )
    for pattern in PATTERNS:
        for match in pattern.regex.finditer(text):
            start, end = match.span()
            if allowed(start, end) and all(end <= f.start or start >= f.end for f in found):
                found.append(
                    BiasFinding(
                        match.group(0),
                        pattern.category,
                        pattern.severity,
                        start,
                        end,
                        pattern.alternative,
                        pattern.explanation,
                    )
                )
    found.sort(key=lambda f: f.start)
    return found
