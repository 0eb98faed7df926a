"""Structured fields read out of resume text: name, e-mail, phone, location, current title, years, skills, education.

Fields are read by where they sit in the resume's layout (`resume_layout`): the name (`names`) and location in the
header, the current title after the name or atop the experience section, education entries (`education`) in their
section. They only fill fields the caller left empty (explicit fields always win). Every pattern here runs in
linear time on any input (tests/hiremesh/test_linear_regex.py feeds them pathological text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from hiremesh.places import (
    PlaceMention,
    find_places,
    fuzzy_lookup,
    in_address,
    is_ambiguous,
    is_place,
    iter_region_tail,
    lookup,
)
from hiremesh.resume_terms import DEGREE, has_org_word, is_heading, title_word_count
from hiremesh.skills import extract_skills
from hiremesh.wordlist import is_common_word
from search_svc.education import Education, read_education
from search_svc.names import NameSource, find_name
from search_svc.resume_layout import Layout, Line, layout

# Bounded parts (RFC 5321: local part <= 64, label <= 63) and a left boundary keep the scan linear: a long run of
# letters without "@" is tried once, not from every position.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}"
    r"\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
# A phone is 7-15 digits with the usual separators, optionally led by + or a parenthesised area code.
_PHONE = re.compile(r"(?<![\w+])(\+?\(?\d[\d \t().-]{5,20}\d)(?!\w)")
_YEARS = re.compile(
    r"(?<![\d.])(\d{1,2}(?:\.\d{1,2})?)[ \t]{0,3}\+?[ \t-]{0,3}(?:years?|yrs?)\b\.?(?:[ \t]{1,3}of)?"
    r"(?:[ \t]{1,3}(?:professional|industry|hands-on|total|relevant|work|working|commercial|it))?"
    r"(?:[ \t]{1,3}(?:experience|exp\b))?",
    re.IGNORECASE,
)
_YEAR_RANGE = re.compile(
    r"\b((?:19|20)\d{2})[ \t]{0,3}(?:-|–|—|to)[ \t]{0,3}(?:[A-Za-z]{3,9}\.?[ \t]{1,3})?((?:19|20)\d{2}|present|current|"
    r"now|today|till[ \t]date|date)\b",
    re.IGNORECASE,
)
_LOCATION_LABEL = re.compile(
    r"(?im)^[ \t]*(?:current[ \t]+|present[ \t]+|permanent[ \t]+)?(?:location|address|city|residence|based[ \t]+in|"
    r"place)[ \t]*[:\-–][ \t]*(?P<value>[^\n\r]{2,120})$"
)
_NOT_CURRENT = re.compile(r"(?i:relocat\w*|prefer\w*|willing|open[ \t]to)[^\n]{0,40}$")
# Where a title line stops being a title: "Test Analyst at Oracle", "Associate consultant@SAP", "X - Accenture".
_TITLE_END = re.compile(
    r"[ \t]{1,8}[-–—|][ \t]{0,8}|[ \t]{0,8}@[ \t]{0,8}|[ \t]{1,8}(?:at|with|for)[ \t]{1,8}|"
    r"[ \t]{1,8}in[ \t]{1,8}(?=[A-Z])|[ \t]{1,8}as[ \t]{1,8}(?:an?[ \t]{1,8})?|"
    r"[ \t]{0,8},[ \t]{0,8}(?=[A-Z])|[ \t]{1,8}-(?=[A-Za-z])|\t|[ ]{3,8}|[()]"
)
_BULLET = re.compile(r"^[\W_]{1,3}[ \t]*(?=\w)")
_TITLE_LABEL = re.compile(r"(?i)^(?:current[ \t]+)?(?:role|designation|title|position|job[ \t]+title)[ \t:.\-–]{1,8}")
_WORD_BEFORE = re.compile(r"([A-Z][a-z]{2,})[ \t]+\Z")
_DATED = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
# "Bengaluru, Karnataka", "Chennai, TAMIL NADU, IN": an address line's start.
_CITY_REGION = re.compile(
    r"(?P<city>[A-Za-z][A-Za-z'.]{2,30}(?:[ \t][A-Za-z][A-Za-z'.]{1,30}){0,2}),[ \t]{0,3}"
    r"[A-Z][A-Za-z]{1,30}(?:[ \t][A-Z][A-Za-z]{1,30}){0,2}(?:,[ \t]{0,3}[A-Z][A-Za-z]{1,30}"
    r"(?:[ \t][A-Z][A-Za-z]{1,30}){0,2}){0,2}"
)
MAX_YEARS = 60.0
MAX_TITLE_WORDS = 10
MAX_LINE_WORDS = 14
_NOT_TITLE_START = frozenset(
    {
        "to",
        "having",
        "have",
        "a",
        "an",
        "the",
        "i",
        "my",
        "am",
        "is",
        "was",
        "seeking",
        "looking",
        "and",
        "or",
        "of",
        "in",
        "on",
    }
)


@dataclass
class Profile:
    name: str = ""
    name_source: NameSource = "unnamed"
    email: str = ""
    phone: str = ""
    location: str = ""
    headline: str = ""
    years_experience: float = 0.0
    skills: list[str] = field(default_factory=list)
    education: list[Education] = field(default_factory=list)


def extract_profile(text: str, today: date | None = None, file_name: str = "") -> Profile:
    """Best-effort structured fields from a resume's plain text (and the name of the file it came in)."""
    lay = layout(text)
    guess = find_name(text, lay, file_name)
    return Profile(
        name=guess.name,
        name_source=guess.source,
        email=find_email(text),
        phone=find_phone(text),
        location=find_location(text, lay, guess.line_index, guess.name),
        headline=find_headline(lay, guess.line_index),
        years_experience=years_of_experience(text, today, lay),
        skills=extract_skills(text),
        education=read_education(lay),
    )


def find_email(text: str) -> str:
    match = _EMAIL.search(text)
    return match.group(0).rstrip(".") if match else ""


def find_phone(text: str) -> str:
    for match in _PHONE.finditer(text):
        candidate = match.group(1).strip()
        digits = re.sub(r"\D", "", candidate)
        if not 7 <= len(digits) <= 15:
            continue
        # Year ranges ("2015 - 2020") and dates look like digit runs; a phone has no 4-digit year pair only.
        if _YEAR_RANGE.fullmatch(candidate) or re.fullmatch(
            r"(?:19|20)\d{2}[ \t]{0,3}[-–][ \t]{0,3}(?:19|20)\d{2}", candidate
        ):
            continue
        return candidate
    return ""


# --- location ------------------------------------------------------------------------------------------------
def _with_region(text: str, mention: PlaceMention) -> str:
    """ "Bengaluru, Karnataka" from a mention of Bengaluru followed on its line by its region."""
    end = mention.end
    for _, part_end in iter_region_tail(text, mention.end):
        end = part_end
    return re.sub(r"\s+", " ", text[mention.start : end]).strip(" ,")


def _usable(text: str, mention: PlaceMention, line: Line, name: str = "") -> bool:
    if in_address(text, mention.start, mention.end) or mention.text.lower() in name.lower().split():
        return False  # in a URL or an e-mail, or a word of the candidate's own name ("Sri Krishna S")
    before = _WORD_BEFORE.search(text, line.start, mention.start)
    if before is not None and not is_common_word(before.group(1)) and not is_place(before.group(1)):
        return False  # the end of a longer name: a locality ("Ashok Nagar"), a company ("Oracle Hartford")
    after = text[mention.end : line.end]
    if has_org_word(" ".join(after.split()[:1])):  # "Tata Communications", "Pune University"
        return False
    if _NOT_CURRENT.search(text[line.start : mention.start]):
        return False
    # A place that is also a common word or a skill needs its region after it ("Erode, Tamil Nadu").
    return not mention.ambiguous or next(iter_region_tail(text, mention.end), None) is not None


def _first_place(text: str, lines: list[Line], name: str = "") -> str:
    """The first usable city in these lines (a country or region only when no city follows)."""
    fallback = ""
    for line in lines:
        if is_heading(line.text):
            continue
        for mention in find_places(text[line.start : line.end]):
            shifted = PlaceMention(
                mention.start + line.start, mention.end + line.start, mention.text, mention.place, mention.ambiguous
            )
            if not _usable(text, shifted, line, name):
                continue
            if shifted.place.kind == "city":
                return _with_region(text, shifted)
            fallback = fallback or _with_region(text, shifted)
    return fallback


def _address_line(lines: list[Line]) -> str:
    """A header line that starts "City, Region" where the city is known, allowing one typing slip ("Banglore,
    Karnataka")."""
    for line in lines:
        match = _CITY_REGION.match(line.text)
        if match is None or _NOT_CURRENT.search(match.group("city")):
            continue
        city = match.group("city")
        # "Bangalore Urban": a district named after its city still places the candidate there.
        place = lookup(city) or fuzzy_lookup(city) or lookup(city.split()[0])
        if place is not None and not is_ambiguous(city.split()[0]):
            return re.sub(r"\s+", " ", match.group(0)).strip(" ,")
    return ""


def find_location(text: str, lay: Layout, name_index: int = -1, name: str = "") -> str:
    """Where the candidate lives: a "Location:"/"Address:" label, else the header's address line or first place
    (not on the name's line), else the first place of the experience section (the current job's city)."""
    for match in _LOCATION_LABEL.finditer(text):
        start = match.start("value")
        value_line = Line(-1, start, match.end("value"), match.group("value"))
        found = _first_place(text, [value_line], name)
        if found:
            return found
    header = [line for line in lay.header() if line.index != name_index]
    return (
        _address_line(header)
        or _first_place(text, header, name)
        or _first_place(text, lay.section("experience")[:8], name)
    )


# --- current title -------------------------------------------------------------------------------------------
def _title_of(line: str) -> str:
    """The title part of a line that reads like one ("Test Analyst at Oracle, Hyderabad" -> "Test Analyst",
    "SAP - FI Support Consultant - SAP FI" -> "FI Support Consultant")."""
    line = _TITLE_LABEL.sub("", _BULLET.sub("", line))
    if _EMAIL.search(line) or len(line) > 120 or is_heading(line) or DEGREE.match(line) or _DATED.search(line):
        return ""
    if len(line.split()) > MAX_LINE_WORDS:
        return ""  # prose ("Having 3 months of experience in manual testing ...")
    for part in _TITLE_END.split(line):
        head = part.strip(" ,.:;")
        words = head.split()
        if not 1 <= len(words) <= MAX_TITLE_WORDS or words[0].lower() in _NOT_TITLE_START:
            continue
        # Titles are head-final ("Software Test Engineer") or head-first ("Head of Operations").
        if title_word_count(words[-1]) or title_word_count(words[0]):
            return head
    return ""


def find_headline(lay: Layout, name_index: int) -> str:
    """The current title: a title line just below the name, else the first title line of the experience section."""
    header = lay.header()
    start = next((i + 1 for i, line in enumerate(header) if line.index == name_index), 0)
    for line in header[start : start + 3]:
        title = _title_of(line.text)
        if title:
            return title
    for line in lay.section("experience")[:6]:
        title = _title_of(line.text)
        if title:
            return title
    return ""


# --- years of experience -------------------------------------------------------------------------------------
def years_of_experience(text: str, today: date | None = None, lay: Layout | None = None) -> float:
    """Claimed years ("7+ years of experience"), else the longest duration the resume mentions ("Java (6 years)"),
    else the span of dated roles in the experience section ("2016 - present")."""
    matches = list(_YEARS.finditer(text))
    claimed = [float(m.group(1)) for m in matches if re.search(r"(?i)\bexp", m.group(0))] or [
        float(m.group(1)) for m in matches
    ]
    if claimed:
        return min(max(claimed), MAX_YEARS)
    lay = lay or layout(text)
    experience = lay.section("experience")
    return _dated_span("\n".join(line.text for line in experience) if experience else text, today)


def _dated_span(text: str, today: date | None) -> float:
    this_year = (today or date.today()).year
    spans: list[tuple[int, int]] = []
    for match in _YEAR_RANGE.finditer(text):
        start = int(match.group(1))
        end_raw = match.group(2).lower()
        end = int(end_raw) if end_raw.isdigit() else this_year
        if start <= end <= this_year:
            spans.append((start, end))
    if not spans:
        return 0.0
    return float(min(max(e for _, e in spans) - min(s for s, _ in spans), MAX_YEARS))
