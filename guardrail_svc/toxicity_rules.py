"""What the profanity model cannot see: threats and identity attacks without swear words, and the recruiting
jargon that looks violent to a bag-of-words model ("killer instinct", "attack problems", "execute")."""

from __future__ import annotations

import re

_GROUPS = (
    r"women|men|girls|boys|females|males|immigrants|foreigners|migrants|refugees|muslims|jews|christians|"
    r"hindus|sikhs|atheists|blacks|whites|asians|mexicans|arabs|africans|indians|hispanics|latinos|gays|"
    r"lesbians|trans(?:gender)?\s+people|old\s+people|older\s+people|disabled\s+people|the\s+disabled"
)
_INSULTS = (
    r"lazy|stupid|dumb|inferior|animals|criminals|terrorists|vermin|subhuman|worthless|useless|dirty|"
    r"incompetent|thieves|parasites|savages|too\s+emotional|not\s+smart\s+enough|unfit\s+to\s+\w+|"
    r"a\s+disease|the\s+problem|scum|trash|filth"
)

RULES: tuple[tuple[str, re.Pattern[str], float], ...] = (
    (
        "threat",
        re.compile(
            r"(?i)\b(?:i|we)\s*(?:'ll|’ll|\s+will|\s+am\s+going\s+to|\s+are\s+going\s+to|\s+gonna|\s+should)\s+"
            r"(?:kill|hurt|beat(?:\s+up)?|shoot|stab|strangle|murder|burn|break)\s+(?:you|u|him|her|them|your)\b"
        ),
        0.95,
    ),
    (
        "threat",
        re.compile(
            r"(?i)\byou(?:'ll|’ll|\s+will|\s+are\s+going\s+to)\s+"
            r"(?:regret\s+(?:it|this)|pay\s+for\s+(?:this|it))"
            r"|\bwatch\s+(?:your|ur)\s+back\b|\bi\s+know\s+where\s+you\s+(?:live|work)\b"
        ),
        0.9,
    ),
    ("threat", re.compile(r"(?i)\b(?:deserves?|ought)\s+to\s+(?:die|be\s+(?:shot|killed|hurt|beaten|hanged))\b"), 0.95),
    ("self_harm", re.compile(r"(?i)\b(?:kill|hang|shoot)\s+(?:yourself|urself)\b|\bkys\b"), 0.95),
    (
        "identity_attack",
        re.compile(
            rf"(?i)\b(?:all\s+)?(?:{_GROUPS})\s+(?:are|is)\s+(?:all\s+)?(?:(?:too|so|just|naturally|simply)\s+)?"
            rf"(?:{_INSULTS})\b"
        ),
        0.9,
    ),
    ("identity_attack", re.compile(r"(?i)\bgo\s+back\s+to\s+(?:your|ur)\s+(?:own\s+)?country\b"), 0.9),
    (
        "identity_attack",
        re.compile(
            rf"(?i)\b(?:{_GROUPS})\s+(?:should|must)\s+"
            r"(?:not\s+be\s+allowed|be\s+banned|go\s+back|die|be\s+deported)"
        ),
        0.9,
    ),
)

RULE_DIMENSIONS = ("threat", "identity_attack", "self_harm")

# Workplace idioms that a bag-of-words model scores as violent or profane; removed before the model scores.
JARGON = re.compile(
    r"(?i)\bkiller\s+(?:instinct|app|feature|product|demo)s?\b|\bkill(?:ing)?\s+it\b"
    r"|\bkill(?:ed|ing)?\s+(?:the|a|this|that|any|stale|zombie)\s+(?:\w+\s+)?(?:process|job|task|bug|project|feature|"
    r"pod|container|query|session|thread|switch)s?\b|\bkill\s+switch\b|\bkill\s+-(?:9|15|[A-Z]+)\b|\bsig(?:kill|term)\b"
    r"|\bexecut(?:e|es|ed|ing|ion)\b|\battack(?:ing|s|ed)?\s+(?:the\s+|hard\s+|complex\s+|new\s+)?"
    r"(?:problems?|challenges?|issues?|opportunit(?:y|ies))\b|\battack\s+(?:surface|vectors?|trees?)\b"
    r"|\bcrush(?:ing|ed)?\s+(?:it|targets?|goals?|quotas?|the\s+competition)\b|\bsmash(?:ing|ed)?\s+(?:targets?|goals?|it)\b"
    r"|\bhit\s+the\s+ground\s+running\b|\bshoot\s+(?:me|us|them)\s+(?:an?\s+)?(?:e-?mail|message|note|line|dm)\b"
    r"|\bfire[-\s]?fight(?:ing|er)?s?\b|\bbullet[-\s]?proof\b|\bdead\s?lines?\b|\bwar\s+rooms?\b"
    r"|\bbattle[-\s]tested\b|\bguns\s+blazing\b|\btake\s+no\s+prisoners\b|\bhack(?:ing|athons?|er|ers)?\b"
    r"|\b(?:dominate|beat)\s+the\s+(?:market|competition)\b|\brockstars?\b|\bninjas?\b|\bblow\s+away\b"
    r"|\bkick[-\s]?off\b|\bpenetration\s+test(?:ing|s)?\b|\bpen[-\s]?test(?:ing|s)?\b|\bhard[-\s]?core\b"
    r"|\bdie[-\s]?hard\b|\bcut[-\s]?throat\b|\bdrop[-\s]?dead\b"
)


def mask_jargon(text: str) -> str:
    return JARGON.sub(" ", text)


def rule_findings(text: str) -> list[tuple[str, int, int, float]]:
    """(category, start, end, score) for every threat / identity-attack rule that fires."""
    out: list[tuple[str, int, int, float]] = []
    for category, regex, score in RULES:
        out.extend((category, m.start(), m.end(), score) for m in regex.finditer(text))
    return out
