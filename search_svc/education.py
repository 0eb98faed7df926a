"""Education entries (degree, institution, graduation year) read from a resume's education section.

Resumes lay an entry out on one line ("May 2013 to May 2017 B.E   UIT-RGPV") or over several (degree, then
"School -  City, Region", then "2013 to 2017"), so lines are read in order: a degree starts an entry, an
institution or a year fills the open entry's empty field (or starts a new entry when it is already filled).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hiremesh.places import find_places
from hiremesh.resume_terms import DEGREE, DEGREE_LOOSE, INSTITUTION_WORDS, title_word_count
from search_svc.resume_layout import Layout, Line

MAX_ENTRIES = 10
_YEAR = re.compile(r"(?<!\d)(?:19[5-9]\d|20[0-4]\d)(?!\d)")
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]{0,6}\.?"
_DATES = re.compile(
    rf"(?i:(?:{_MONTH}[ \t]{{1,3}})?(?:19|20)\d{{2}}(?:[ \t]{{0,3}}(?:-|–|to)[ \t]{{0,3}}"
    rf"(?:(?:{_MONTH}[ \t]{{1,3}})?(?:19|20)\d{{2}}|present|current|now|pursuing))?)"
)
# "School -  City, Region": the institution is the part before the dash.
_DASH = re.compile(r"[ \t]+[-–—][ \t]+|[ \t]{2,}")
_FROM = re.compile(r"[ \t]{1,8}(?:from|at)[ \t]{1,8}(?=[A-Z])")
_PLACEHOLDER = re.compile(r"^[\W\d_]*$")
MAX_FIELD = 160


@dataclass(frozen=True)
class Education:
    degree: str = ""
    institution: str = ""
    year: int = 0  # the year it ended (graduation), 0 when not given


class _Open:
    def __init__(self) -> None:
        self.degree = ""
        self.institution = ""
        self.year = 0

    def empty(self) -> bool:
        return not (self.degree or self.institution)

    def done(self) -> Education:
        return Education(self.degree[:MAX_FIELD], self.institution[:MAX_FIELD], self.year)


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" ,;:-–|/")
    return "" if _PLACEHOLDER.match(text) else text


def _institution(text: str, degree_end: int) -> str:
    """The institution a line names: the dash- or gap-separated part holding an institution word, else "" ."""
    parts = [p for p in _DASH.split(text[degree_end:]) if p.strip()]
    for part in parts:
        if INSTITUTION_WORDS.search(part):
            return _tidy(part.split(",")[0] if INSTITUTION_WORDS.search(part.split(",")[0]) else part)
    return ""


def _read_line(line: Line, entries: list[_Open]) -> None:
    text = line.text
    years = [int(y) for y in _YEAR.findall(text)]
    plain = _DATES.sub(" ", text).strip(" ,;:-–|/")  # spacing kept: two spaces separate columns
    degree = DEGREE_LOOSE.match(plain)  # a degree opens its line ("B.E in ...", after the dates)
    school = INSTITUTION_WORDS.search(plain)
    if degree is not None and school is not None and school.start() < degree.start():
        degree = None
    current = entries[-1]
    if degree is not None:
        if not current.empty():
            current = _Open()
            entries.append(current)
        head = plain[degree.start() :]
        pieces = [p for p in _FROM.split(head, maxsplit=1) if p.strip()]
        if len(pieces) == 1:
            pieces = _DASH.split(head)
        current.degree = _tidy(pieces[0])
        current.institution = _institution(plain, degree.start() + len(pieces[0])) or (
            _tidy(pieces[-1]) if len(pieces) > 1 and not years else ""
        )
        if len(pieces) > 1 and not current.institution:
            current.institution = _tidy(pieces[-1])
    elif (
        plain
        and (INSTITUTION_WORDS.search(plain) or _school_then_place(plain))
        and not _looks_like_prose(plain)
        and not title_word_count(_DASH.split(plain)[0])
    ):
        if current.institution:
            current = _Open()
            entries.append(current)
        current.institution = _tidy(_DASH.split(plain)[0])
    if years:
        current.year = current.year or max(years)


def _school_then_place(text: str) -> bool:
    """ "Anurag College -  Hyderabad, Telangana", "UIT -  Bhopal": a name, a dash, then a place."""
    parts = _DASH.split(text, maxsplit=1)
    return len(parts) == 2 and bool(find_places(parts[1]))


def _looks_like_prose(text: str) -> bool:
    return len(text.split()) > 14 or text.endswith(".")


def read_education(layout: Layout) -> list[Education]:
    lines = layout.section("education")
    if not lines:
        # No education heading: lines that name a degree and a school or a year, wherever they are.
        lines = [
            ln
            for ln in layout.lines
            if DEGREE.match(ln.text)
            and (INSTITUTION_WORDS.search(ln.text) or _YEAR.search(ln.text))
            and not _looks_like_prose(ln.text)
        ]
    entries = [_Open()]
    for line in lines[:60]:
        _read_line(line, entries)
        if len(entries) > MAX_ENTRIES:
            break
    return [e.done() for e in entries if not e.empty()][:MAX_ENTRIES]
