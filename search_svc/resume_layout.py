"""A resume's layout: its non-empty lines with offsets, which of them are section headings, and the sections.

Profile extraction reads fields by where they sit: the name and location in the header (the lines before the
first heading), the current title there or at the top of the experience section, degrees in the education section.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Literal

from hiremesh.resume_terms import is_heading, words_of

SectionKind = Literal["header", "experience", "education", "skills", "other"]
HEADER_MAX_LINES = 12
_KIND_WORDS: tuple[tuple[SectionKind, frozenset[str]], ...] = (
    (
        "education",
        frozenset(
            {"education", "educational", "academic", "academics", "qualification", "qualifications", "scholastic"}
        ),
    ),
    (
        "experience",
        frozenset({"experience", "experiences", "employment", "work", "history", "internship", "internships"}),
    ),
    (
        "skills",
        frozenset({"skill", "skills", "skillset", "competencies", "expertise", "proficiency", "technologies", "tools"}),
    ),
)
# A heading glued to the end of a line by a converter ("... SPSSEducation Details"): the heading words start
# with a capital right after a letter.
_GLUED = re.compile(
    r"(?<=[a-z.)])(?=(?:Education|Skill|Work|Employment|Professional|Academic|Company)"
    r" (?:Details|Experience|Qualifications?|Profile|History)\b)"
)


@dataclass(frozen=True)
class Line:
    index: int  # position among the non-empty lines
    start: int
    end: int
    text: str  # stripped


@dataclass
class Layout:
    lines: list[Line]
    headings: dict[int, SectionKind] = field(default_factory=dict)  # line index -> kind of section it opens

    def section(self, kind: SectionKind) -> list[Line]:
        """The lines of every section of this kind (headings excluded), in text order."""
        out: list[Line] = []
        current: SectionKind = "header"
        for line in self.lines:
            if line.index in self.headings:
                current = self.headings[line.index]
                continue
            if current == kind:
                out.append(line)
        return out

    def header(self) -> list[Line]:
        first = min(self.headings, default=len(self.lines))
        return self.lines[: min(first, HEADER_MAX_LINES)]


def heading_kind(text: str) -> SectionKind | None:
    """The kind of section a heading line opens, or None when the line is not a heading."""
    if not is_heading(text):
        return None
    words = set(words_of(text))
    for kind, vocabulary in _KIND_WORDS:
        if words & vocabulary:
            return kind
    return "other"


def layout(text: str) -> Layout:
    lines: list[Line] = []
    headings: dict[int, SectionKind] = {}
    offset = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        for piece_start, piece in _pieces(body):
            stripped = piece.strip()
            if stripped:
                start = offset + piece_start + piece.index(stripped)
                line = Line(len(lines), start, start + len(stripped), stripped)
                kind = heading_kind(stripped)
                if kind is not None:
                    headings[line.index] = kind
                lines.append(line)
        offset += len(raw)
    return Layout(lines, headings)


def _pieces(body: str) -> list[tuple[int, str]]:
    cuts = [m.start() for m in _GLUED.finditer(body)]
    if not cuts:
        return [(0, body)]
    bounds = [0, *cuts, len(body)]
    return [(a, body[a:b]) for a, b in itertools.pairwise(bounds)]
