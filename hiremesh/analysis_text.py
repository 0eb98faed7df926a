"""Content-quality checks on the strings of a screening result: placeholders, JSON debris, repetition,
generic interview questions, and the repairs that can be made to them."""

from __future__ import annotations

import json
import re

__all__ = [
    "collapse_repetition",
    "has_debris",
    "has_placeholder",
    "is_generic_question",
    "is_repetitive",
    "remove_placeholder_sentences",
    "strip_debris",
    "trim_to",
]

PLACEHOLDER = re.compile(
    r"(?i)\b(?:TODO|TBD|TBA|FIXME|XXX+|lorem\s+ipsum|placeholder)\b|\[(?:insert|add|your|candidate|name)[^\]]*\]"
    r"|<(?:insert|add|your|candidate)[^>]*>|\{\{?\s*\w+\s*\}?\}|\binsert\s+(?:\w+\s+){0,3}here\b"
    r"|^\s*(?:insert|n/?a|none|null|\.\.\.|-)\s*$|\binsert\s+(?:the\s+)?(?:candidate|skill|name|summary|question)"
)
# After a closing bracket, each optional part owns its spaces: two adjacent "\\s*" around optional marks backtrack
# quadratically on a long run of spaces.
DEBRIS = re.compile(r'^\s*[\[{,"]|[\]},]\s*(?:"\s*)?(?:,\s*)?$|"\s*\w+\s*"\s*:|\\[n"t]|^\s*```|```\s*$')
_DEBRIS_EDGES = re.compile(r'^[\s\[{,"`:]+|[\s\]},"`]+$')
_KEY_PREFIX = re.compile(r'^\s*"?[A-Za-z_]+"?\s*:\s*')
_REPEATED_WORD = re.compile(r"(?i)\b(\w+)(?:[\s,]+\1\b){2,}")
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")

GENERIC_QUESTIONS = re.compile(
    r"(?i)tell\s+(?:me|us)\s+(?:a\s+(?:little\s+)?(?:bit\s+)?)?about\s+yourself|what\s+are\s+your\s+(?:greatest\s+)?"
    r"(?:strengths|weaknesses)|where\s+do\s+you\s+see\s+yourself|why\s+should\s+we\s+hire\s+you"
    r"|why\s+do\s+you\s+want\s+(?:to\s+work\s+(?:here|for\s+us)|this\s+job)|what\s+is\s+your\s+greatest\s+weakness"
    r"|do\s+you\s+have\s+any\s+questions(?:\s+for\s+(?:me|us))?|describe\s+yourself\s+in\s+(?:three|3)\s+words"
    r"|what\s+motivates\s+you\s*\?$|how\s+would\s+your\s+(?:friends|colleagues)\s+describe\s+you"
)


def has_placeholder(value: str) -> bool:
    return bool(PLACEHOLDER.search(value))


def has_debris(value: str) -> bool:
    return bool(DEBRIS.search(value))


def strip_debris(value: str) -> str:
    """`value` without JSON punctuation, key prefixes and escapes leaked from a half-parsed model output."""
    text = value.strip()
    if text.startswith(("{", "[")):
        try:
            parsed = json.loads(text)
        except ValueError:
            pass
        else:
            if isinstance(parsed, dict):
                text = " ".join(str(v) for v in parsed.values() if isinstance(v, str | int | float))
            elif isinstance(parsed, list):
                text = " ".join(str(v) for v in parsed if isinstance(v, str | int | float))
    text = text.replace("\\n", " ").replace('\\"', '"').replace("\\t", " ").replace("```json", "").replace("```", "")
    text = _KEY_PREFIX.sub("", text)
    text = _DEBRIS_EDGES.sub("", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def is_repetitive(value: str) -> bool:
    if _REPEATED_WORD.search(value):
        return True
    sentences = [s.strip().lower() for s in _SENTENCE.findall(value) if s.strip()]
    if len(sentences) >= 2 and len(set(sentences)) < len(sentences):
        return True
    words = re.findall(r"\w+", value.lower())
    return len(words) >= 20 and len(set(words)) / len(words) < 0.35


def collapse_repetition(value: str) -> str:
    text = _REPEATED_WORD.sub(lambda m: m.group(1), value)
    seen: set[str] = set()
    kept: list[str] = []
    for sentence in _SENTENCE.findall(text):
        key = sentence.strip().lower()
        if key and key not in seen:
            seen.add(key)
            kept.append(sentence.strip())
    return " ".join(kept)


def is_generic_question(question: str) -> bool:
    return bool(GENERIC_QUESTIONS.search(question))


def trim_to(value: str, limit: int) -> str:
    """At most `limit` characters, cut at the last sentence end (else word) before the limit."""
    if len(value) <= limit:
        return value
    cut = value[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if end >= limit // 2:
        return cut[: end + 1].strip()
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip(" ,;:") + "…"


def remove_placeholder_sentences(value: str) -> str:
    return " ".join(s.strip() for s in _SENTENCE.findall(value) if s.strip() and not has_placeholder(s))
