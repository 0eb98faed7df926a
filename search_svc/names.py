"""Which words of a resume are the candidate's name, or that it has none.

Each candidate line (the header's first lines, a "Name:" label anywhere, a segment of a header line split at " - "
or "|") is scored on evidence that holds across resume styles: position, shape (2-3 capitalised words, initials
allowed), agreement with the e-mail address, a profile URL or the file name, and against it: section-heading
words, job-title words, degrees, skills, places and ordinary English words. The best candidate above a threshold
is the name; otherwise the file's name is tried ("React Developer_Vinay Reddy.docx" -> "Vinay Reddy"); otherwise
the resume is unnamed. A heading, skill, title or city is never returned as a name: those are vetoes, not scores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal
from urllib.parse import unquote

from hiremesh.places import is_place
from hiremesh.resume_terms import (
    DEGREE,
    FIELD_WORDS,
    HEADING_WORDS,
    INSTITUTION_WORDS,
    has_org_word,
    is_heading,
    title_word_count,
    words_of,
)
from hiremesh.skills import is_skill_term
from hiremesh.wordlist import is_common_word
from search_svc.resume_layout import Layout, Line

NameSource = Literal["resume", "file_name", "unnamed"]
THRESHOLD = 2.5
_FIRST_LINES = 6
# One word of a name: "Ana", "O'Neil", "Jean-Luc", "ABHISHEK", initials "B", "G.", "GV", lower-case "sodhi".
_NAME_WORD = re.compile(r"^(?:[^\W\d_]{1,3}\.|[^\W\d_]+(?:['’-][^\W\d_]+)*\.?)$")
_LABEL = re.compile(r"(?im)^[ \t]*(?:full[ \t]+)?name[ \t]*[:\-–][ \t]*(?P<value>[^\n\r:]{2,60}?)[ \t]*$")
_SPLIT = re.compile(r"[ \t]{1,8}[-–—|][ \t]{1,8}|[ \t]{0,8}[|•·,][ \t]{0,8}|[ \t]{1,8}-(?=[A-Za-z])")
_CONNECTORS = frozenset({"a", "an", "and", "of", "the", "&", "in", "to", "for", "with", "my"})
_WORD_START = re.compile(r"(?:^|(?<=['’-]))[^\W\d_]")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_VOWEL = re.compile(r"[aeiouyAEIOUY]")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_FILE_SPLIT = re.compile(r"[_()\[\]{}+]|[ \t]-[ \t]?|-|\d+|\.+")
_LINKED_NAME = re.compile(r"(?i:indeed\.com/r/|linkedin\.com/in/|github\.com/)(?P<slug>[A-Za-z][A-Za-z-]{1,60})")
_EMAIL_LOCAL = re.compile(r"(?<![\w.%+-])(?P<local>[A-Za-z][A-Za-z0-9._%+-]{0,63})@")


@dataclass(frozen=True)
class NameGuess:
    name: str
    source: NameSource
    line_index: int = -1  # the header line that held it (-1: a label deep in the text, the file name, none)
    score: float = 0.0


def clean_name(raw: str) -> str:
    """Tidy a name for display: spacing, stray punctuation, ALL CAPS or all lower case to Title Case."""
    words = raw.replace("\t", " ").strip(" .,;:-–|").split()
    out = []
    for w in words:
        if (w.isupper() and len(w.rstrip(".")) > 2) or w.islower():
            w = _WORD_START.sub(lambda m: m.group(0).upper(), w.lower())  # "O'NEIL" -> "O'Neil"
        out.append(w)
    return " ".join(out)


def _shape_ok(words: list[str]) -> bool:
    """1-4 name-shaped words, one of 3+ letters; a word of 3+ letters has a vowel ("FSCM", "HCM" are acronyms)."""
    if not 1 <= len(words) <= 4 or not all(_NAME_WORD.match(w) for w in words):
        return False
    if not all(len(w.rstrip(".")) < 3 or _VOWEL.search(w) for w in words):
        return False
    # A word of 3+ letters, or two short Title-case words with vowels ("Bo Li", "Al Bo"), not initials only.
    return any(len(w.rstrip(".")) >= 3 for w in words) or (
        len(words) >= 2 and all(len(w) == 2 and w[0].isupper() and w[1].islower() and _VOWEL.search(w) for w in words)
    )


def veto(text: str) -> bool:
    """Things that are never a person's name: headings, titles, degrees, schools, organisations, skills, places."""
    words = text.split()
    if not words or is_heading(text) or title_word_count(text) or DEGREE.search(text):
        return True
    if INSTITUTION_WORDS.search(text) or has_org_word(text):
        return True
    if is_skill_term(text) or is_place(text):
        return True
    lowered = [w.lower().strip(".:") for w in words if w.lower().strip(".:") not in _CONNECTORS]
    if any(w in FIELD_WORDS for w in lowered):
        return True  # "Automation Testing", "Web Designing", "Data Science"
    return bool(lowered) and (
        lowered[0] in HEADING_WORDS or 2 * sum(w in HEADING_WORDS for w in lowered) >= len(lowered)
    )


def _all_ordinary(words: list[str]) -> bool:
    """ "Automation Testing", "Good Communication": every real word an ordinary English word or a skill."""
    long_words = [w for w in words if len(w.rstrip(".")) > 2]
    return bool(long_words) and all(is_common_word(w) or is_skill_term(w) for w in long_words)


def _evidence(text: str) -> set[str]:
    """Lower-case letter runs of the e-mail local parts and profile URLs: a name usually reappears in them."""
    out: set[str] = set()
    for match in _EMAIL_LOCAL.finditer(text):
        out.update(p for p in re.split(r"[^a-z]+", match.group("local").lower()) if len(p) >= 3)
    for match in _LINKED_NAME.finditer(text):
        out.update(p for p in match.group("slug").lower().split("-") if len(p) >= 3)
    return out


def _agrees(words: list[str], evidence: set[str]) -> bool:
    keys = [w.lower().strip(".") for w in words if len(w.strip(".")) >= 3]
    return any(k in evidence or any(k in e or e in k for e in evidence if len(e) >= 4) for k in keys)


def _score(text: str, position: int, labelled: bool, evidence: set[str], file_words: set[str]) -> float:
    words = text.split()
    if not _shape_ok(words) or veto(text):
        return float("-inf")
    score = 3.0 if labelled else max(0.0, 2.5 - 0.5 * position)
    score += {1: -1.0, 2: 1.0, 3: 1.0, 4: 0.0}[len(words)]
    if all(w[:1].isupper() for w in words):
        score += 0.5
    elif all(w.islower() for w in words):
        score -= 0.5
    agrees = _agrees(words, evidence)
    if _all_ordinary(words) and not agrees:
        return float("-inf")
    score -= 0.75 * sum(is_common_word(w) for w in words if len(w.rstrip(".")) > 2)
    score -= 0.75 * sum(is_skill_term(w) for w in words if len(w) > 2) + 1.5 * sum(is_place(w) for w in words)
    if agrees:
        score += 2.0
    if file_words and {w.lower().strip(".") for w in words} & file_words:
        score += 1.5
    return score


def _candidates(layout: Layout) -> list[tuple[str, int, bool]]:
    out: list[tuple[str, int, bool]] = []
    first = layout.header()[:_FIRST_LINES]
    for position, line in enumerate(first):
        out.append((line.text, position, False))
        pieces = [p for p in _SPLIT.split(line.text) if p.strip()]
        if len(pieces) > 1:
            out.append((pieces[0].strip(), position, False))
    return out


def _labelled(text: str) -> list[str]:
    return [m.group("value").strip() for m in _LABEL.finditer(text)]


def file_name_words(file_name: str) -> list[list[str]]:
    """The file name's segments as word lists ("React Developer_Vinay Reddy.docx" -> [[React, Developer], [Vinay,
    Reddy]]), CamelCase split ("MooraboyinaGuravaiah")."""
    # Some clients percent-encode the multipart file name ("React%20Developer_Vinay%20Reddy.docx").
    if _PERCENT.search(file_name):
        file_name = unquote(file_name)
    stem = PurePath(file_name.replace("\\", "/")).name
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    segments = []
    for raw in _FILE_SPLIT.split(stem):
        words = _CAMEL.sub(" ", raw).split()
        if words:
            segments.append(words)
    return segments


def name_from_file(file_name: str, text: str) -> str:
    """A person's name the file name carries, or "" (no segment looks like one)."""
    options: list[tuple[float, str]] = []
    lowered = text.lower()
    for words in file_name_words(file_name):
        candidate = " ".join(words)
        if candidate.lower() in {"resume", "cv", "copy", "converted", "final", "new", "updated"}:
            continue
        if not _shape_ok(words) or veto(candidate) or all(len(w) <= 2 for w in words):
            continue
        if _all_ordinary(words) or any(is_skill_term(w) for w in words if len(w) > 2):
            continue
        score = 1.5 * len(words) - sum(is_place(w) for w in words) + (1.0 if candidate.lower() in lowered else 0.0)
        score += 0.5 if any(w.lower() in lowered for w in words if len(w) > 2) else 0.0
        options.append((score, candidate))
    if not options:
        return ""
    return clean_name(max(options)[1])


def find_name(text: str, layout: Layout, file_name: str = "") -> NameGuess:
    """The candidate's name: from the resume text when the evidence is strong enough, else the file name."""
    evidence = _evidence(text)
    file_words = {w.lower() for words in file_name_words(file_name) for w in words if len(w) > 2}
    best: tuple[float, str, int] = (float("-inf"), "", -1)
    for value in _labelled(text):
        best = max(best, (_score(value, 0, True, evidence, file_words), value, -1))
    for value, position, _ in _candidates(layout):
        scored = _score(value, position, False, evidence, file_words)
        if scored > best[0]:
            best = (scored, value, layout.header()[position].index)
    if best[0] >= THRESHOLD:
        return NameGuess(clean_name(best[1]), "resume", best[2], best[0])
    from_file = name_from_file(file_name, text) if file_name else ""
    if from_file:
        return NameGuess(from_file, "file_name")
    return NameGuess("", "unnamed")


def name_line(layout: Layout, guess: NameGuess) -> Line | None:
    if guess.line_index < 0:
        return None
    return layout.lines[guess.line_index]


__all__ = [
    "NameGuess",
    "NameSource",
    "clean_name",
    "file_name_words",
    "find_name",
    "name_from_file",
    "name_line",
    "veto",
    "words_of",
]
