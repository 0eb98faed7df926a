"""The offline gazetteer: places found in text with what tells a place from a word."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hiremesh import places
from hiremesh.wordlist import is_common_word


def mentions(text: str) -> list[str]:
    return [m.text for m in places.find_places(text)]


def test_cities_of_real_resume_headers_are_found_with_their_spellings() -> None:
    text = "Hyderabad, Telangana - Email me\nNavi Mumbai, Maharashtra\nworked in Bangalore City and Nāmakkal"
    assert mentions(text) == ["Hyderabad", "Navi Mumbai", "Bangalore City", "Nāmakkal"]
    assert places.lookup("Bangalore") == places.lookup("bengaluru")  # an alternate name of the same city
    assert places.lookup("Namakkal") is not None  # accents folded


def test_words_that_are_also_towns_are_flagged_ambiguous() -> None:
    found = {m.text: m.ambiguous for m in places.find_places("Reading, Mobile and Spring Boot in Pune and Boston")}
    assert found["Reading"] and found["Mobile"] and found["Spring"]
    assert not found["Pune"] and not found["Boston"]  # a big city is first a place


def test_lower_case_words_acronyms_and_addresses_are_not_places() -> None:
    assert mentions("reading pune HCM SAP") == []
    text = "indeed.com/r/Pune-Kumar and pune.dev@mail.org"
    assert all(places.in_address(text, m.start, m.end) for m in places.find_places(text))


def test_one_typing_slip_is_forgiven_only_when_asked_and_only_for_big_cities() -> None:
    assert places.fuzzy_lookup("Banglore") == places.lookup("Bengaluru")
    assert places.fuzzy_lookup("hyderbad") == places.lookup("Hyderabad")
    assert places.fuzzy_lookup("Details") is None and places.fuzzy_lookup("Pradeep") is None
    assert mentions("Banglore") == []


def test_region_parts_after_a_city_are_read_on_its_line() -> None:
    text = "Bishnupur, MANIPUR, 722122, IN\nnext line"
    first = places.find_places(text)[0]
    assert [text[a:b] for a, b in places.iter_region_tail(text, first.end)] == ["MANIPUR"]


def test_word_list_keeps_case_and_folds_plurals() -> None:
    assert is_common_word("Details") and is_common_word("skills") and not is_common_word("Hyderabad")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_spans_that_are_the_text(text: str) -> None:
    previous_end = 0
    for mention in places.find_places(text):
        assert text[mention.start : mention.end] == mention.text
        assert mention.start >= previous_end and "\n" not in mention.text
        previous_end = mention.end
