"""One JSON extraction from LLM text (hiremesh.analysis.extract_json_object), used by screening and guardrail."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardrail_svc.llm_bias import parse_llm_findings
from hiremesh.analysis import NoJSONObject, extract_json_object, validate_analysis
from hiremesh.errors import InvalidArgument
from screening_svc.engines.base import LLMOutputError
from screening_svc.engines.llm import parse_json_object

REPO = Path(__file__).resolve().parents[2]
DOC = {
    "match_score": 70,
    "summary": 'Five years of Python services, {braces} and "quotes" inside.',
    "strengths": ["Python"],
}
TEXT = json.dumps(DOC)


@pytest.mark.parametrize(
    ("text", "wrapped"),
    [
        (TEXT, False),
        (f"  \n{TEXT}\n ", False),
        (f"Here is the analysis:\n```json\n{TEXT}\n```\nHope this helps!", True),  # guardrail's case
        (f"```JSON\n{TEXT}\n```", True),
        (f"```\n{TEXT}\n```  trailing {{{{x}}}}", True),  # screening's case
        (f"Sure! {TEXT} Thanks", True),
        (f"Scores {{note}} follow: {TEXT}", True),  # neither former parser found this one
        (f"An unclosed {{ brace, then {TEXT}", True),
        (f"```python\nprint()\n```\n{TEXT}", True),
    ],
)
def test_the_object_is_found_in_every_wrapper(text: str, wrapped: bool) -> None:
    assert extract_json_object(text) == (DOC, wrapped)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "must not be empty"),
        ("   \n", "must not be empty"),
        ('["a list"]', "expected a JSON object, got list"),
        ('[{"a": 1}]', "expected a JSON object, got list"),
        ('"just a string"', "expected a JSON object, got str"),
        ("The candidate seems fine.", "invalid JSON at line 1 column 1 (char 0): Expecting value"),
        ("{not json}", "invalid JSON at line 1 column 2 (char 1)"),
        ("[" * 100_000, "JSON nested too deeply"),
    ],
)
def test_no_object_says_why_without_quoting_the_text(text: str, reason: str) -> None:
    with pytest.raises(NoJSONObject) as caught:
        extract_json_object(text)
    assert str(caught.value).startswith(reason)
    assert "candidate seems" not in str(caught.value)


def test_a_text_full_of_open_braces_is_rejected() -> None:
    # Each balanced-block try scans to the end: the number of tries is bounded, so this returns at all.
    with pytest.raises(NoJSONObject):
        extract_json_object("{" * 200_000 + "x")


@given(
    st.dictionaries(st.text(min_size=1, max_size=8), st.integers() | st.text(max_size=20), max_size=4),
    st.sampled_from(["{}", "Here you go:\n{}\nDone.", "```json\n{}\n```", "Note {{x}} below.\n{}"]),
)
def test_any_object_in_any_wrapper_round_trips(data: dict[str, Any], wrapper: str) -> None:
    assert extract_json_object(wrapper.replace("{}", json.dumps(data)))[0] == data


def test_screening_guardrail_validation_and_bias_review_share_the_extraction() -> None:
    answer = "Scores {note} follow: " + json.dumps({"findings": [{"term": "fresh blood", "category": "age"}], **DOC})
    assert parse_json_object(answer)["match_score"] == 70
    outcome = validate_analysis(answer)
    assert ("$", "json_wrapped") in {(i.field, i.code) for i in outcome.issues}
    assert "match_score" not in {i.field for i in outcome.issues}
    [finding] = parse_llm_findings("We want fresh blood.", answer)
    assert finding.term == "fresh blood"


def test_each_caller_keeps_its_own_error() -> None:
    with pytest.raises(LLMOutputError) as llm_error:
        parse_json_object("The candidate seems fine.")
    assert llm_error.value.kind == "invalid_output" and "25 characters" in str(llm_error.value)
    with pytest.raises(InvalidArgument) as bad_field:
        validate_analysis('["a list"]')
    assert bad_field.value.field == "result_json" and "got list" in str(bad_field.value)
    assert parse_llm_findings("text", '["a list"]') == []


@pytest.mark.parametrize("path", ["screening_svc/engines/llm.py", "guardrail_svc/llm_bias.py"])
def test_no_other_parser_of_llm_text_is_left(path: str) -> None:
    tree = ast.parse((REPO / path).read_text())
    calls = {
        f"{n.func.value.id}.{n.func.attr}"
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)
    }
    assert "json.loads" not in calls
    imported = {
        a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module == "hiremesh.analysis"
        for a in n.names
    }
    assert "extract_json_object" in imported
