"""What the text around a span says about it: a list of skills, an organisation, a job title, a heading.

The small spaCy model tags by the shape of a word, so in a resume it calls tools ("Jenkins", "Teradata"), companies
("Accenture") and titles ("Principal Consultant") people or places. These checks read the evidence a human reader
uses instead: the span is one item of a list whose other items are skills; an organisation word follows it here or
wherever else the document mentions it ("Infosys Limited"); it holds job-title or heading words; it is an ordinary
English word. Every check is linear in the length of the span's line.
"""

from __future__ import annotations

import re
from functools import lru_cache

from hiremesh.resume_terms import HEADING_WORDS, TITLE_WORDS, is_heading, words_of
from hiremesh.skills import canonical_skill, is_skill_term
from hiremesh.wordlist import is_common_word

# Organisation words that end a company's name (not a school's: "Pune University" still names a city).
COMPANY_WORDS = frozenset(
    """
ltd limited inc incorporated corp corporation llc llp plc pvt private gmbh ag bv co company group labs
technologies technology tech systems solutions services consultancy consulting communications software softwares
infotech infosystems enterprises industries networks retail
""".split()
)
_ITEM_SPLIT = re.compile(r"[,;|•●▪➢✓►*/]|\s-\s|\(|\)")
_LIST_LABEL = re.compile(
    r"(?i)^[\W_]{0,3}(?:technical\s+|key\s+|core\s+|it\s+|soft\s+)?(?:skills?|tools?|technologies|"
    r"environment|languages?|frameworks?|databases?|platforms?|software|expertise|"
    r"operating\s+systems?|utilities|domain|packages|web\s+technologies)\b[^:\n]{0,30}[:\-–]"
)
_NEXT_WORD = re.compile(r"[ \t]{0,3}[,&]?[ \t]{0,3}([A-Za-z]+)\.?")
MIN_SKILL_NEIGHBOURS = 2
_DURATION = re.compile(r"\((?:less than )?\d{0,2}\+?[ \t]{0,3}(?:years?|yrs?|months?)\)", re.IGNORECASE)
_SECTION_LOOKBACK_LINES = 40
_SKILL_HEADING_WORDS = frozenset(
    {
        "skill",
        "skills",
        "skillset",
        "competencies",
        "competency",
        "expertise",
        "proficiency",
        "technologies",
        "tools",
        "technical",
    }
)


def line_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    left = text.rfind("\n", 0, start) + 1
    right = text.find("\n", end)
    return left, len(text) if right < 0 else right


@lru_cache(maxsize=4096)
def _is_skill_item(item: str) -> bool:
    item = item.strip(" .:-\t")
    return bool(item) and len(item.split()) <= 4 and (canonical_skill(item) is not None)


def in_skill_list(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is one item of a list of skills on its line: a "Skills:"/"Tools:" label, two other
    items the skills vocabulary knows, or one among three or more short items ("Jcl (3 years), Teradata (3 years),
    cobol (3 years)")."""
    left, right = line_bounds(text, start, end)
    line = text[left:right]
    if _LIST_LABEL.match(line):
        return True
    items = [i.strip() for i in _ITEM_SPLIT.split(_DURATION.sub("", line)) if i.strip()]
    if len(items) < 3:
        return False
    value = text[start:end].strip()
    others = sum(_is_skill_item(i) for i in items if i != value)
    short = all(len(i.split()) <= 4 for i in items)
    return others >= MIN_SKILL_NEIGHBOURS or (short and others >= 1)


def in_skills_section(text: str, start: int) -> bool:
    """Whether the nearest section heading above `start` opens a skills section ("TECHNICAL SKILLS")."""
    pos = text.rfind("\n", 0, start)
    for _ in range(_SECTION_LOOKBACK_LINES):
        if pos < 0:
            return False
        prev = text.rfind("\n", 0, pos)
        line = text[prev + 1 : pos].strip()
        if line and is_heading(line):
            return bool(set(words_of(line)) & _SKILL_HEADING_WORDS)
        pos = prev
    return False


def followed_by_company_word(text: str, end: int) -> bool:
    match = _NEXT_WORD.match(text, end)
    return match is not None and match.group(1).lower() in COMPANY_WORDS


def named_as_company(text: str, value: str) -> bool:
    """Whether the document elsewhere writes `value` followed by a company word ("Infosys Limited")."""
    if len(value) < 2:
        return False
    pos = text.find(value)
    seen = 0
    while pos >= 0 and seen < 50:
        if followed_by_company_word(text, pos + len(value)):
            return True
        pos = text.find(value, pos + 1)
        seen += 1
    return False


def after_title_dash(text: str, start: int) -> bool:
    """Whether the span follows "<job title> - " on its line ("Senior Analyst - Cisco": Cisco is the employer)."""
    left, _ = line_bounds(text, start, start)
    before = text[left:start].rstrip()
    if not before.endswith(("-", "–", "—", "@", "|")) and not before.lower().endswith((" at", " with", " in", " for")):
        return False
    return any(w in TITLE_WORDS for w in words_of(before[-80:]))


def has_title_word(value: str) -> bool:
    return any(w in TITLE_WORDS or any(p in TITLE_WORDS for p in w.split("-")) for w in words_of(value))


def all_heading_words(value: str) -> bool:
    words = words_of(value)
    return bool(words) and all(w in HEADING_WORDS for w in words)


def ordinary_words(value: str, lower_words: frozenset[str] = frozenset()) -> bool:
    """Every word of 3+ letters an ordinary English word, a skill, or written in lower case elsewhere in the same
    document ("Team-Player", "Frameworks", "Scripting" next to "shell scripting": names are not written so)."""
    long_words = [w for w in re.split(r"[\s\-–/]+", value.strip(" •*·-")) if len(w.strip(".,")) > 2]
    return bool(long_words) and all(
        is_common_word(w) or is_skill_term(w) or w.strip(".,").lower() in lower_words for w in long_words
    )


_LOWER_WORD = re.compile(r"(?<![\w.@/-])[a-z][a-z]{2,}(?![\w@/-])")


def lower_case_words(text: str) -> frozenset[str]:
    """Words the document writes in lower case (outside URLs and e-mail addresses)."""
    return frozenset(_LOWER_WORD.findall(text))


def acronyms_only(value: str) -> bool:
    """ "JCL", "SAP ABAP": capitals of at most four letters are acronyms of products and departments."""
    words = value.split()
    return bool(words) and all(w.isupper() and len(w.strip(".")) <= 4 for w in words)
