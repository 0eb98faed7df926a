"""The protected-attribute lexicon: terms, their category and severity, and a neutral alternative.

Phrases are written as lemmas (lower case, singular), so "Salesmen" and "mothers" match their entries.
`not_next` / `not_prev` hold lemmas that turn a match into a common false alarm ("race condition").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from guardrail_svc.report import Severity

LOW, MEDIUM, HIGH, CRITICAL = Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL


@dataclass(frozen=True)
class Term:
    phrase: tuple[str, ...]
    category: str
    severity: Severity
    alternative: str
    explanation: str
    not_next: frozenset[str] = field(default_factory=frozenset)
    not_prev: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class PatternTerm:
    regex: re.Pattern[str]
    category: str
    severity: Severity
    alternative: str
    explanation: str


def _t(
    phrase: str,
    category: str,
    severity: Severity,
    alternative: str,
    explanation: str,
    not_next: str = "",
    not_prev: str = "",
) -> Term:
    return Term(
        tuple(phrase.split()),
        category,
        severity,
        alternative,
        explanation,
        frozenset(not_next.split()),
        frozenset(not_prev.split()),
    )


_AGE = "age"
_GENDER = "gender"
_RACE = "race_ethnicity"
_DISABILITY = "disability"
_RELIGION = "religion"
_APPEARANCE = "appearance"
_FAMILY = "family_status"

_PEOPLE = "candidate applicant person people worker employee hire only male female man woman guy"

TERMS: tuple[Term, ...] = (
    # age
    _t("young", _AGE, MEDIUM, "motivated", "Signals a preferred age.", not_next="company startup industry field"),
    _t("youthful", _AGE, MEDIUM, "energetic", "Signals a preferred age."),
    _t("digital native", _AGE, HIGH, "digitally fluent", "Excludes older candidates by generation."),
    _t("recent graduate", _AGE, MEDIUM, "entry-level candidate", "Proxies for age; say the experience level."),
    _t("recent grad", _AGE, MEDIUM, "entry-level candidate", "Proxies for age; say the experience level."),
    _t("fresh graduate", _AGE, MEDIUM, "entry-level candidate", "Proxies for age; say the experience level."),
    _t("overqualified", _AGE, MEDIUM, "describe the required level", "Often used to screen out older candidates."),
    _t("mature", _AGE, LOW, "experienced", "Can signal a preferred age.", not_next="product codebase process"),
    _t("elderly", _AGE, HIGH, "omit", "Refers to age."),
    _t("older worker", _AGE, HIGH, "omit", "Refers to age."),
    _t("too old", _AGE, CRITICAL, "omit", "Excludes by age."),
    _t("senior citizen", _AGE, HIGH, "omit", "Refers to age, not seniority."),
    _t("retiree", _AGE, MEDIUM, "omit", "Refers to age."),
    _t("millennial", _AGE, MEDIUM, "omit", "Refers to a generation."),
    _t("gen z", _AGE, MEDIUM, "omit", "Refers to a generation."),
    _t("boomer", _AGE, MEDIUM, "omit", "Refers to a generation."),
    # gender
    _t("he", _GENDER, LOW, "they", "Gendered pronoun for an unknown person."),
    _t("him", _GENDER, LOW, "them", "Gendered pronoun for an unknown person."),
    _t("his", _GENDER, LOW, "their", "Gendered pronoun for an unknown person."),
    _t("himself", _GENDER, LOW, "themselves", "Gendered pronoun for an unknown person."),
    _t("she", _GENDER, LOW, "they", "Gendered pronoun for an unknown person."),
    _t("her", _GENDER, LOW, "them / their", "Gendered pronoun for an unknown person."),
    _t("herself", _GENDER, LOW, "themselves", "Gendered pronoun for an unknown person."),
    _t("salesman", _GENDER, MEDIUM, "salesperson", "Gendered job title."),
    _t("chairman", _GENDER, MEDIUM, "chairperson", "Gendered job title."),
    _t("businessman", _GENDER, MEDIUM, "businessperson", "Gendered job title."),
    _t("foreman", _GENDER, MEDIUM, "supervisor", "Gendered job title."),
    _t("craftsman", _GENDER, LOW, "artisan", "Gendered job title."),
    _t("manpower", _GENDER, LOW, "workforce", "Gendered wording."),
    _t("man-hour", _GENDER, LOW, "person-hours", "Gendered wording."),
    _t("waitress", _GENDER, MEDIUM, "server", "Gendered job title."),
    _t("guy", _GENDER, LOW, "people / team members", "Gendered wording."),
    _t("brotherhood", _GENDER, LOW, "community", "Gendered wording."),
    _t("fraternity", _GENDER, LOW, "community", "Gendered wording."),
    _t("female", _GENDER, HIGH, "omit", "States a preferred gender."),
    _t("male", _GENDER, HIGH, "omit", "States a preferred gender."),
    _t("man only", _GENDER, CRITICAL, "omit", "Excludes by gender."),
    _t("woman only", _GENDER, CRITICAL, "omit", "Excludes by gender."),
    _t("no woman", _GENDER, CRITICAL, "omit", "Excludes by gender."),
    _t("strong man", _GENDER, HIGH, "strong candidate", "States a preferred gender."),
    _t("aggressive", _GENDER, LOW, "proactive", "Masculine-coded wording deters some applicants."),
    _t(
        "dominant",
        _GENDER,
        LOW,
        "leading",
        "Masculine-coded wording deters some applicants.",
        not_next="market position",
    ),
    # race / ethnicity / national origin
    _t("native english speaker", _RACE, HIGH, "fluent in English", "Proxies for national origin."),
    _t("native speaker", _RACE, HIGH, "fluent speaker", "Proxies for national origin."),
    _t("no accent", _RACE, HIGH, "clear communicator", "Proxies for national origin."),
    _t("caucasian", _RACE, HIGH, "omit", "Refers to race."),
    _t("race", _RACE, MEDIUM, "omit", "Refers to race.", not_next="condition"),
    _t("racial", _RACE, MEDIUM, "omit", "Refers to race."),
    _t("ethnicity", _RACE, MEDIUM, "omit", "Refers to ethnicity."),
    _t("nationality", _RACE, MEDIUM, "work authorisation", "Refers to national origin; ask about work authorisation."),
    _t("culture fit", _RACE, LOW, "values alignment", "Vague criterion that often excludes by background."),
    *(
        _t(f"{group} {noun}", _RACE, CRITICAL, "omit", "States a preferred race or ethnicity.")
        for group in ("white", "black", "asian", "hispanic", "latino", "arab", "african")
        for noun in _PEOPLE.split()
    ),
    # disability
    _t("able-bodied", _DISABILITY, HIGH, "able to perform the essential functions", "Excludes disabled candidates."),
    _t("able bodied", _DISABILITY, HIGH, "able to perform the essential functions", "Excludes disabled candidates."),
    _t("handicapped", _DISABILITY, HIGH, "disabled person", "Outdated term for disability."),
    _t("wheelchair-bound", _DISABILITY, HIGH, "wheelchair user", "Defines a person by a disability."),
    _t("crippled", _DISABILITY, HIGH, "omit", "Slur for disability."),
    _t("retarded", _DISABILITY, CRITICAL, "omit", "Slur for intellectual disability."),
    _t("mentally ill", _DISABILITY, HIGH, "omit", "Refers to a health condition."),
    _t("disability", _DISABILITY, MEDIUM, "omit", "Refers to a health condition."),
    _t("disabled", _DISABILITY, MEDIUM, "omit", "Refers to a health condition."),
    _t("crazy", _DISABILITY, LOW, "intense / surprising", "Ableist wording."),
    _t("insane", _DISABILITY, LOW, "remarkable", "Ableist wording."),
    _t("lame", _DISABILITY, LOW, "weak", "Ableist wording."),
    _t("psycho", _DISABILITY, MEDIUM, "omit", "Ableist wording."),
    _t("perfect health", _DISABILITY, HIGH, "omit", "Screens out health conditions."),
    # religion
    *(
        _t(word, _RELIGION, MEDIUM, "omit", "Refers to religion.")
        for word in (
            "christian",
            "muslim",
            "jewish",
            "jew",
            "hindu",
            "buddhist",
            "sikh",
            "catholic",
            "protestant",
            "atheist",
            "religion",
            "religious",
            "church",
            "mosque",
            "synagogue",
            "temple-going",
        )
    ),
    _t("god-fearing", _RELIGION, HIGH, "omit", "Refers to religion."),
    # appearance
    _t("attractive", _APPEARANCE, HIGH, "omit", "Judges looks.", not_prev="highly", not_next="salary package"),
    _t("good-looking", _APPEARANCE, HIGH, "omit", "Judges looks."),
    _t("good looking", _APPEARANCE, HIGH, "omit", "Judges looks."),
    _t(
        "pretty",
        _APPEARANCE,
        LOW,
        "omit",
        "Judges looks.",
        not_next="much good well sure quick fast simple straightforward big large small",
    ),
    _t("handsome", _APPEARANCE, MEDIUM, "omit", "Judges looks.", not_next="salary"),
    _t("slim", _APPEARANCE, MEDIUM, "omit", "Judges body shape."),
    _t("overweight", _APPEARANCE, HIGH, "omit", "Judges body shape."),
    _t("clean-shaven", _APPEARANCE, MEDIUM, "omit", "Excludes some religions and cultures."),
    _t("well-groomed", _APPEARANCE, LOW, "professional", "Judges looks."),
    _t("photo required", _APPEARANCE, MEDIUM, "omit", "Invites judging by looks."),
    _t("attach a photo", _APPEARANCE, MEDIUM, "omit", "Invites judging by looks."),
    # family status
    _t("married", _FAMILY, MEDIUM, "omit", "Refers to marital status."),
    _t("marital status", _FAMILY, HIGH, "omit", "Asks about marital status."),
    _t("single mother", _FAMILY, HIGH, "omit", "Refers to family status."),
    _t("single parent", _FAMILY, HIGH, "omit", "Refers to family status."),
    _t("pregnant", _FAMILY, HIGH, "omit", "Refers to pregnancy."),
    _t("pregnancy", _FAMILY, HIGH, "omit", "Refers to pregnancy."),
    _t("no child", _FAMILY, CRITICAL, "omit", "Excludes by family status."),
    _t("no kid", _FAMILY, CRITICAL, "omit", "Excludes by family status."),
    _t("childless", _FAMILY, HIGH, "omit", "Refers to family status."),
    _t("family commitment", _FAMILY, MEDIUM, "availability", "Asks about family status; ask about availability."),
    _t("mother", _FAMILY, MEDIUM, "omit", "Refers to family status."),
    _t("father", _FAMILY, MEDIUM, "omit", "Refers to family status."),
    _t("wife", _FAMILY, MEDIUM, "omit", "Refers to family status."),
    _t("husband", _FAMILY, MEDIUM, "omit", "Refers to family status."),
    _t("housewife", _FAMILY, MEDIUM, "omit", "Refers to family status."),
)

PATTERNS: tuple[PatternTerm, ...] = (
    PatternTerm(
        re.compile(
            r"(?i)\b(?:under|below|over|above|younger than|older than)\s+(?:the\s+age\s+of\s+)?\d{2}\b"
            r"(?!\s*(?:%|percent|ms|k\b|million|users|employees|countries|languages|years of))"
        ),
        _AGE,
        CRITICAL,
        "omit",
        "States an age limit.",
    ),
    PatternTerm(
        re.compile(r"(?i)\b(?:aged?|between)\s+\d{2}\s*(?:-|–|to|and)\s*\d{2}(?:\s+years)?(?:\s+old)?\b"),
        _AGE,
        CRITICAL,
        "omit",
        "States an age range.",
    ),
    PatternTerm(
        re.compile(r"(?i)\b\d{2}\s*(?:years?|yrs?)\s*(?:old|of\s+age)\b"), _AGE, HIGH, "omit", "States an age."
    ),
    PatternTerm(
        re.compile(r"(?i)\bborn\s+(?:after|before|in)\s+(?:19|20)\d{2}\b"),
        _AGE,
        CRITICAL,
        "omit",
        "States a birth year limit.",
    ),
    PatternTerm(
        re.compile(r"(?i)\b(?:max(?:imum)?|min(?:imum)?)\.?\s+age\b"), _AGE, CRITICAL, "omit", "States an age limit."
    ),
)

# A sentence with one of these is a legal equal-opportunity statement that names protected attributes on purpose.
EEO_MARKERS = re.compile(
    r"(?i)equal\s+(?:employment\s+)?opportunit|without\s+regard\s+to|regardless\s+of|do(?:es)?\s+not\s+discriminate"
    r"|\bEEO\b|affirmative\s+action|protected\s+(?:veteran|characteristic|class|status)|reasonable\s+accommodation"
)
