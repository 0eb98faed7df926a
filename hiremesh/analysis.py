"""Validation (and repair) of a screening result before anyone sees it.

Plain Python shared by two services: screening_svc calls `validate_analysis` on the LLM's raw output
(`auto_fix=True`) and uses `outcome.repaired`; guardrail_svc's ValidateOutput RPC wraps the same function.
Field names (`KNOWN_FIELDS`) come from the analysis model, hiremesh.analysis_model: ScreeningAnalysis'
(`match_score`, `summary`, `strengths`, ..., `interview_questions` as strings or objects
`{question, rationale, skill}`). Every issue names its field (`interview_questions[2].question`), and every
repair appears once in `changes`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from hiremesh import analysis_text as vt
from hiremesh.analysis_model import DEFAULT_QUESTIONS, KNOWN_FIELDS, LIST_FIELDS, SUB_SCORES
from hiremesh.errors import InvalidArgument

__all__ = [
    "NoJSONObject",
    "Severity",
    "ValidationIssue",
    "ValidationOutcome",
    "extract_json_object",
    "validate_analysis",
]


class Severity(IntEnum):
    """Mirrors hiremesh.v1.Severity so conversion is a cast."""

    UNSPECIFIED = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


@dataclass(frozen=True)
class ValidationIssue:
    field: str
    code: str
    message: str
    severity: Severity
    fixed: bool = False


SUMMARY_MIN = 20
SUMMARY_MAX = 1200
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_MAX_BLOCK_STARTS = 16

L, M, H = Severity.LOW, Severity.MEDIUM, Severity.HIGH


@dataclass
class ValidationOutcome:
    """`valid`: no unrepaired issue of medium severity or worse. `repaired`: the result after the repairs
    that were made (always present with auto_fix; it is trustworthy only when `valid`)."""

    valid: bool
    issues: list[ValidationIssue]
    changes: list[str]
    repaired: dict[str, Any] | None

    @property
    def fixed(self) -> dict[str, Any] | None:
        """The repaired result when it passes validation, else None."""
        return self.repaired if self.valid else None


class NoJSONObject(ValueError):
    """No JSON object can be taken from a text. The message says why without quoting the text: an LLM's answer
    can repeat a candidate's name, e-mail and phone, and these messages are logged."""


def extract_json_object(text: str) -> tuple[dict[str, Any], bool]:
    """The JSON object in an LLM's answer, and whether it had to be dug out of prose or a ```json fence.

    Tried in order: the whole text (when it is JSON it is the answer, so a list is an error, not a wrapper); each
    ``` fenced block; each balanced {...} block; the span from the first "{" to the last "}".
    Raises NoJSONObject saying what was wrong (for a text that is no JSON, the whole text's parse error)."""
    stripped = text.strip()
    if not stripped:
        raise NoJSONObject("must not be empty")
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as exc:
        error = f"invalid JSON at line {exc.lineno} column {exc.colno} (char {exc.pos}): {exc.msg}"
    except RecursionError:  # "[[[[..." deeper than the parser's stack: the caller's mistake, not a crash
        raise NoJSONObject("JSON nested too deeply") from None
    else:
        if isinstance(value, dict):
            return value, False
        raise NoJSONObject(f"expected a JSON object, got {type(value).__name__}")
    for candidate in _wrapped_candidates(stripped):
        try:
            value = json.loads(candidate)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(value, dict):
            return value, True
    raise NoJSONObject(error)


def _wrapped_candidates(text: str) -> Iterator[str]:
    for fence in _FENCE.finditer(text):
        yield fence.group(1).strip()
    yield from _balanced_objects(text)
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        yield text[start : end + 1]


def _balanced_objects(text: str) -> Iterator[str]:
    """Balanced {...} blocks from successive opening braces, skipping braces inside strings, so "{note}" or an
    unclosed "{" in the prose before the object is passed over. At most _MAX_BLOCK_STARTS braces are tried:
    each try can scan to the end of the text, and a ValidateOutput text full of "{" must not cost quadratic time."""
    start = text.find("{")
    for _ in range(_MAX_BLOCK_STARTS):
        if start < 0:
            return
        depth, in_string, escaped = 0, False, False
        for i in range(start, len(text)):
            ch = text[i]
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    yield text[start : i + 1]
                    break
        start = text.find("{", start + 1)


def parse_result_json(text: str, field_name: str = "result_json") -> tuple[dict[str, Any], bool]:
    """`extract_json_object` for a caller's field: InvalidArgument naming `field_name` when there is no object."""
    try:
        return extract_json_object(text)
    except NoJSONObject as exc:
        raise InvalidArgument(field_name, str(exc)) from None


@dataclass
class _Run:
    auto_fix: bool
    issues: list[ValidationIssue] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    def flag(self, path: str, code: str, message: str, severity: Severity, fix: str | None = None) -> bool:
        """Record an issue; returns True when the caller should apply the repair described by `fix`."""
        fixing = self.auto_fix and fix is not None
        self.issues.append(ValidationIssue(path, code, message, severity, fixed=fixing))
        if fixing:
            assert fix is not None
            self.changes.append(f"{path}: {fix}")
        return fixing


def validate_analysis(
    result: str | Mapping[str, Any], *, expected_questions: int = DEFAULT_QUESTIONS, auto_fix: bool = False
) -> ValidationOutcome:
    """Check a screening result's schema and content; with `auto_fix`, repair what can be repaired."""
    if expected_questions <= 0:
        expected_questions = DEFAULT_QUESTIONS
    run = _Run(auto_fix)
    if isinstance(result, str):
        data, wrapped = parse_result_json(result)
        if wrapped:
            run.flag("$", "json_wrapped", "the JSON object is surrounded by other text", M, "extracted the JSON object")
    else:
        data = dict(result)
    out: dict[str, Any] = {}
    for key in sorted(set(data) - KNOWN_FIELDS):
        if not run.flag(key, "unknown_field", f"unknown field {key!r}", L, "dropped"):
            out[key] = data[key]
    out["match_score"] = _score(run, data, "match_score", 0, 100, required=True, integer=True)
    for name in SUB_SCORES:
        if name in data:
            out[name] = _score(run, data, name, 0, 100)
    if "confidence" in data:
        out["confidence"] = _confidence(run, data["confidence"])
    out["summary"] = _summary(run, data.get("summary"))
    for name in LIST_FIELDS:
        out[name] = _string_list(run, name, data.get(name, []))
    out["interview_questions"] = _questions(run, data.get("interview_questions"), expected_questions)
    if "recommendation" in data:
        out["recommendation"] = _recommendation(run, data["recommendation"])
    valid = not any(i.severity >= M and not i.fixed for i in run.issues)
    return ValidationOutcome(valid, run.issues, run.changes, out if auto_fix else None)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().rstrip("%"))
        except ValueError:
            return None
    return None


def _score(
    run: _Run,
    data: Mapping[str, Any],
    name: str,
    low: float,
    high: float,
    *,
    required: bool = False,
    integer: bool = False,
) -> Any:
    if name not in data or data[name] is None:
        if required:
            run.flag(name, "missing", f"{name} is required", H)
        return data.get(name)
    raw = data[name]
    number = _number(raw)
    if number is None:
        run.flag(name, "type", f"{name} must be a number, got {type(raw).__name__}", H)
        return raw
    value: float = number
    if isinstance(raw, str) and run.flag(
        name, "type", f"{name} is a string, expected a number", L, f"converted {raw!r} to a number"
    ):
        raw = number
    if not low <= value <= high:
        clamped = min(max(value, low), high)
        if run.flag(
            name,
            "out_of_range",
            f"{name} {value:g} is outside {low:g}..{high:g}",
            M,
            f"clamped {value:g} to {clamped:g}",
        ):
            raw = value = clamped
    if (
        integer
        and value != round(value)
        and run.flag(
            name, "not_integer", f"{name} {value:g} is not a whole number", L, f"rounded {value:g} to {round(value)}"
        )
    ):
        raw = value = round(value)
    if run.auto_fix:
        return int(value) if integer else float(value)
    return raw


def _confidence(run: _Run, raw: Any) -> Any:
    number = _number(raw)
    if number is None:
        run.flag("confidence", "type", "confidence must be a number", M)
        return raw
    if 1 < number <= 100:
        if run.flag(
            "confidence",
            "out_of_range",
            f"confidence {number:g} looks like a percentage; expected 0..1",
            M,
            f"divided {number:g} by 100",
        ):
            return number / 100
        return raw
    if not 0 <= number <= 1:
        clamped = min(max(number, 0.0), 1.0)
        if run.flag(
            "confidence",
            "out_of_range",
            f"confidence {number:g} is outside 0..1",
            M,
            f"clamped {number:g} to {clamped:g}",
        ):
            return clamped
        return raw
    return number if run.auto_fix else raw


def _clean_text(run: _Run, path: str, value: str) -> str | None:
    """Shared content checks for one string; None means "drop it" (only when fixing)."""
    text = value
    if vt.has_debris(text):
        cleaned = vt.strip_debris(text)
        if run.flag(path, "json_debris", "contains JSON syntax or escapes", M, f"stripped debris: {cleaned!r}"):
            text = cleaned
    if vt.has_placeholder(text) and run.flag(
        path, "placeholder", "contains a placeholder (TODO/TBD/insert...)", M, "dropped the placeholder item"
    ):
        return None
    if vt.is_repetitive(text):
        collapsed = vt.collapse_repetition(text)
        if run.flag(path, "repetition", "excessive repetition", M, "collapsed repeated words and sentences"):
            text = collapsed
    if not text.strip() and run.flag(path, "empty", "empty string", L, "dropped the empty item"):
        return None
    return text.strip() if run.auto_fix else text


def _summary(run: _Run, raw: Any) -> Any:
    if raw is None:
        run.flag("summary", "missing", "summary is required", H)
        return ""
    if not isinstance(raw, str):
        run.flag("summary", "type", f"summary must be a string, got {type(raw).__name__}", H)
        return raw
    text = raw
    if vt.has_debris(text):
        cleaned = vt.strip_debris(text)
        if run.flag("summary", "json_debris", "contains JSON syntax or escapes", M, "stripped debris"):
            text = cleaned
    if vt.has_placeholder(text):
        without = vt.remove_placeholder_sentences(text)
        fix = "removed sentences holding placeholders" if len(without) >= SUMMARY_MIN else None
        if run.flag("summary", "placeholder", "contains a placeholder (TODO/TBD/insert...)", M, fix):
            text = without
    if vt.is_repetitive(text):
        collapsed = vt.collapse_repetition(text)
        fix = "collapsed repeated words and sentences" if len(collapsed) >= SUMMARY_MIN else None
        if run.flag("summary", "repetition", "excessive repetition", M, fix):
            text = collapsed
    if len(text.strip()) < SUMMARY_MIN:
        run.flag("summary", "too_short", f"summary has {len(text.strip())} characters; at least {SUMMARY_MIN}", H)
    elif len(text) > SUMMARY_MAX and run.flag(
        "summary",
        "too_long",
        f"summary has {len(text)} characters; at most {SUMMARY_MAX}",
        M,
        f"trimmed to {SUMMARY_MAX} characters",
    ):
        text = vt.trim_to(text, SUMMARY_MAX)
    return text.strip() if run.auto_fix else text


def _recommendation(run: _Run, raw: Any) -> Any:
    if not isinstance(raw, str):
        run.flag("recommendation", "type", "recommendation must be a string", M)
        return raw
    cleaned = _clean_text(run, "recommendation", raw)
    return "" if cleaned is None else cleaned


def _as_list(run: _Run, name: str, raw: Any) -> list[Any]:
    if raw is None:
        return []
    if isinstance(raw, list):
        return raw
    if isinstance(raw, str):
        parts = [p.strip(" -•*") for p in re.split(r"\n|;", raw) if p.strip(" -•*")]
        if run.flag(name, "type", f"{name} must be a list, got a string", M, f"split into {len(parts)} item(s)"):
            return parts
        return [raw]
    run.flag(name, "type", f"{name} must be a list, got {type(raw).__name__}", H, "replaced with an empty list")
    return []


def _string_list(run: _Run, name: str, raw: Any) -> list[Any]:
    items = _as_list(run, name, raw)
    out: list[Any] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = f"{name}[{i}]"
        value = item
        if not isinstance(value, str):
            as_text = (
                vt.strip_debris(json.dumps(value))
                if isinstance(value, dict | list)
                else ""
                if value is None
                else str(value)
            )
            if not run.flag(
                path, "type", f"must be a string, got {type(value).__name__}", M, f"converted to {as_text!r}"
            ):
                out.append(value)
                continue
            value = as_text
        cleaned = _clean_text(run, path, value)
        if cleaned is None:
            continue
        key = cleaned.strip().lower()
        if key in seen and run.flag(path, "duplicate", f"duplicate of an earlier {name} item", L, "dropped duplicate"):
            continue
        seen.add(key)
        out.append(cleaned)
    return out


def _question_item(run: _Run, path: str, item: Any) -> dict[str, Any] | None:
    if isinstance(item, str):
        return {"question": item, "rationale": "", "skill": ""}
    if isinstance(item, dict):
        text = item.get("question", item.get("text"))
        if isinstance(text, str):
            return {
                "question": text,
                "rationale": str(item.get("rationale") or ""),
                "skill": str(item.get("skill") or ""),
            }
    run.flag(path, "type", "must be a string or an object with a 'question' string", H, "dropped the item")
    return None


def _questions(run: _Run, raw: Any, expected: int) -> list[dict[str, Any]]:
    if raw is None:
        run.flag("interview_questions", "missing", "interview_questions is required", H)
        return []
    kept: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(_as_list(run, "interview_questions", raw)):
        path = f"interview_questions[{i}]"
        q = _question_item(run, path, item)
        if q is None:
            continue
        qpath = f"{path}.question" if isinstance(item, dict) else path
        text = _clean_text(run, qpath, q["question"])
        if text is None:
            continue
        if vt.is_generic_question(text) and run.flag(
            qpath, "generic_question", f"generic question: {text!r}", M, "dropped the generic question"
        ):
            continue
        if not text.rstrip().endswith("?"):
            fixed = text.rstrip().rstrip(".!:;,") + "?"
            if run.flag(qpath, "not_a_question", "does not end with '?'", L, "ended the question with '?'"):
                text = fixed
        key = re.sub(r"\W+", " ", text.lower()).strip()
        if key in seen and run.flag(qpath, "duplicate", "duplicate question", M, "dropped duplicate"):
            continue
        seen.add(key)
        q["question"] = text
        kept.append(q)
    if len(kept) > expected:
        if run.flag(
            "interview_questions",
            "count",
            f"{len(kept)} questions; exactly {expected} required",
            M,
            f"kept the first {expected} of {len(kept)} questions",
        ):
            kept = kept[:expected]
    elif len(kept) < expected:
        run.flag("interview_questions", "count", f"{len(kept)} usable questions; exactly {expected} required", H)
    return kept
