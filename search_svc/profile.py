"""Structured fields read out of resume text: name, e-mail, phone, years of experience, skills, headline.

Heuristics, not NER: they only fill fields the caller left empty (explicit fields always win).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from hiremesh.skills import extract_skills

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A phone is 7-15 digits with the usual separators, optionally led by + or a parenthesised area code.
_PHONE = re.compile(r"(?<![\w+])(\+?\(?\d[\d \t().-]{5,20}\d)(?!\w)")
_YEARS = re.compile(
    r"(\d{1,2}(?:\.\d)?)\s*\+?\s*(?:years?|yrs?)\b(?:\s+of)?(?:\s+(?:professional|industry|hands-on|total|"
    r"relevant|work|working|commercial))?(?:\s+(?:experience|exp\b))?",
    re.IGNORECASE,
)
_YEAR_RANGE = re.compile(
    r"\b((?:19|20)\d{2})\s*(?:-|–|—|to)\s*((?:19|20)\d{2}|present|current|now|today)\b", re.IGNORECASE)
_SECTION_WORDS = {"resume", "curriculum vitae", "cv", "profile", "summary", "contact", "experience", "education",
                  "skills", "objective"}
# Capitalised words that start a title line, not a name ("Senior Data Engineer").
_TITLE_WORDS = {"senior", "junior", "lead", "staff", "principal", "engineer", "developer", "manager", "designer",
                "analyst", "scientist", "architect", "consultant", "director", "head", "intern", "specialist",
                "administrator", "officer", "software", "data", "product", "chief", "vp"}
_NAME_WORD = re.compile(r"^[A-Z][A-Za-z'’.-]*$|^[A-Z]\.?$|^(?:van|von|de|da|del|der|di|le|la|bin|al)$")
MAX_YEARS = 60.0


@dataclass
class Profile:
    name: str = ""
    email: str = ""
    phone: str = ""
    headline: str = ""
    years_experience: float = 0.0
    skills: list[str] = field(default_factory=list)


def extract_profile(text: str, today: date | None = None) -> Profile:
    """Best-effort structured fields from a resume's plain text."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    name, name_index = _name(lines)
    return Profile(
        name=name,
        email=find_email(text),
        phone=find_phone(text),
        headline=_headline(lines, name_index),
        years_experience=years_of_experience(text, today),
        skills=extract_skills(text),
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
        if _YEAR_RANGE.fullmatch(candidate) or re.fullmatch(r"(?:19|20)\d{2}\s*[-–]\s*(?:19|20)\d{2}", candidate):
            continue
        return candidate
    return ""


def years_of_experience(text: str, today: date | None = None) -> float:
    """Claimed years ("7+ years of experience"), else the span of dated roles ("2016 - present")."""
    claimed = [float(m.group(1)) for m in _YEARS.finditer(text) if "experience" in m.group(0).lower()
               or "exp" in m.group(0).lower()]
    if not claimed:
        claimed = [float(m.group(1)) for m in _YEARS.finditer(text)]
    if claimed:
        return min(max(claimed), MAX_YEARS)
    this_year = (today or date.today()).year
    spans: list[tuple[int, int]] = []
    for match in _YEAR_RANGE.finditer(text):
        start = int(match.group(1))
        end_raw = match.group(2).lower()
        end = this_year if not end_raw.isdigit() else int(end_raw)
        if start <= end <= this_year:
            spans.append((start, end))
    if not spans:
        return 0.0
    return float(min(max(e for _, e in spans) - min(s for s, _ in spans), MAX_YEARS))


def _name(lines: list[str]) -> tuple[str, int]:
    """The first short line of 2-4 capitalised words among the first few lines (a resume's heading)."""
    for index, line in enumerate(lines[:5]):
        cleaned = re.sub(r"^(?:name\s*:\s*)", "", line, flags=re.IGNORECASE).strip(" \t-–|,")
        if cleaned.lower() in _SECTION_WORDS or _EMAIL.search(cleaned) or any(ch.isdigit() for ch in cleaned):
            continue
        head = re.split(r"\s+[|–—-]\s+|,\s+", cleaned)[0]
        words = head.split()
        if not 2 <= len(words) <= 4 or any(w.lower().strip(",.") in _TITLE_WORDS for w in words):
            continue
        if head.isupper() and all(re.sub(r"['’.-]", "", w).isalpha() for w in words):
            return head.title(), index  # "JOHN O'NEIL" -> "John O'Neil"
        if all(_NAME_WORD.match(w) for w in words):
            return head, index
    return "", -1


def _headline(lines: list[str], name_index: int) -> str:
    """The line after the name when it reads like a title ("Senior Data Engineer"), not contact details."""
    start = name_index + 1 if name_index >= 0 else 0
    for line in lines[start:start + 2]:
        if _EMAIL.search(line) or _PHONE.search(line) or len(line) > 120 or line.lower() in _SECTION_WORDS:
            continue
        if 2 <= len(line.split()) <= 12:
            return line
    return ""
