"""Structured fields from resume text: the heuristics on realistic layouts, and never a crash on any text."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from search_svc.profile import MAX_YEARS, extract_profile, find_phone, years_of_experience

RESUME = """JOHN O'NEIL
Staff Backend Engineer
john.oneil@mail.example.com · (415) 555-0199 · San Francisco
Summary
Over 12+ years of experience building APIs in Java, Kotlin and PostgreSQL; some k8s.
2012 - 2016 Engineer at Foo
"""


def test_fields_of_a_typical_resume() -> None:
    p = extract_profile(RESUME)
    assert p.name == "John O'Neil"
    assert p.headline == "Staff Backend Engineer"
    assert p.email == "john.oneil@mail.example.com"
    assert p.phone == "(415) 555-0199"
    assert p.years_experience == 12
    assert p.skills[:3] == ["Java", "Kotlin", "PostgreSQL"]
    assert "Kubernetes" in p.skills


def test_years_from_dated_roles_when_none_are_claimed() -> None:
    text = "Engineer at A 2015 - 2018\nLead at B 2018 – present"
    assert years_of_experience(text, today=date(2025, 6, 1)) == 10


def test_year_ranges_are_not_phone_numbers() -> None:
    assert find_phone("worked 2015 - 2020 at X") == ""
    assert find_phone("call +44 20 7946 0958 today") == "+44 20 7946 0958"


def test_no_name_when_the_first_lines_are_not_one() -> None:
    assert extract_profile("Curriculum Vitae\nexperienced developer with python\n").name == ""


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_any_text_gives_sane_fields(text: str) -> None:
    p = extract_profile(text)
    assert 0 <= p.years_experience <= MAX_YEARS
    assert "\n" not in p.name and "\n" not in p.phone and "\n" not in p.email
    assert p.email == "" or "@" in p.email


def test_a_title_line_is_not_taken_for_a_name() -> None:
    p = extract_profile("Senior Data Engineer\nAda Lovelace\nada@example.com")
    assert p.name == "Ada Lovelace"
