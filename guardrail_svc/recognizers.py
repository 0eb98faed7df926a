"""Recognisers for what resumes carry and the small spaCy model misses.

Each one is a Presidio `LocalRecognizer`, so they run inside the same `AnalyzerEngine` pass and share its
context enhancement. A regex's named group `value` (when present) is the reported span, so a label such as
"Date of birth:" helps find the value without being redacted with it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from hiremesh.skills import is_skill_term


@dataclass(frozen=True)
class Rule:
    name: str
    regex: re.Pattern[str]
    score: float


class RuleRecognizer(LocalRecognizer):
    """Regex rules for one entity type; the `value` group, if any, is the reported span."""

    def __init__(self, name: str, entity: str, rules: list[Rule], context: list[str] | None = None) -> None:
        self._rules = rules
        self._label = name
        super().__init__(supported_entities=[entity], name=name, context=context or [])

    def load(self) -> None:
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        entity = self.supported_entities[0]
        out: list[RecognizerResult] = []
        for rule in self._rules:
            for match in rule.regex.finditer(text):
                start, end = match.span("value") if "value" in rule.regex.groupindex else match.span()
                if start == end or not self.validate(text[start:end]):
                    continue
                out.append(
                    RecognizerResult(
                        entity,
                        start,
                        end,
                        rule.score,
                        analysis_explanation=AnalysisExplanation(self._label, rule.score, pattern_name=rule.name),
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self._label,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        },
                    )
                )
        return out

    def validate(self, value: str) -> bool:
        return True


_DATE = (
    r"(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d{2}|(?:19|20)\d{2}-\d{2}-\d{2}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?,?\s+(?:19|20)\d{2}"
    r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{2})"
)


def date_of_birth() -> RuleRecognizer:
    label = r"(?:date\s+of\s+birth|d\.?o\.?b\.?|birth\s*date|born(?:\s+on)?)"
    return RuleRecognizer(
        "DateOfBirthRecognizer",
        "DATE_OF_BIRTH",
        [
            Rule("labelled date of birth", re.compile(rf"(?i:\b{label})\s*[:\-–]?\s*(?P<value>{_DATE})"), 0.9),
        ],
    )


def national_id() -> RuleRecognizer:
    return RuleRecognizer(
        "NationalIdRecognizer",
        "NATIONAL_ID",
        [
            # US SSN: no 000/666/9xx area, no 00 group, no 0000 serial.
            Rule("us ssn", re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])"), 0.85),
            # UK National Insurance number (prefix letters as issued by HMRC).
            Rule(
                "uk nino",
                re.compile(
                    r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b"
                ),
                0.85,
            ),
            # Indian Aadhaar: 12 digits in groups of four (not the start of a 16-digit card number).
            Rule("aadhaar", re.compile(r"(?<![\d ])[2-9]\d{3}\s\d{4}\s\d{4}(?!\s?\d)"), 0.5),
            Rule(
                "labelled id",
                re.compile(
                    r"(?i:\b(?:passport(?:\s+(?:no|number))?|national\s+id(?:entity)?(?:\s+(?:no|number))?|id\s+number"
                    r"|social\s+security(?:\s+number)?|ssn|sin|nino|national\s+insurance(?:\s+number)?|tax\s+id|personnummer))"
                    r"\.?\s*[:#\-]?\s*(?P<value>[A-Z0-9][A-Z0-9 \-]{4,18}[A-Z0-9])\b"
                ),
                0.75,
            ),
        ],
        context=["ssn", "social", "security", "national", "insurance", "passport", "id"],
    )


_STREET_TYPES = (
    r"Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Terrace|"
    r"Close|Crescent|Square|Sq|Parkway|Pkwy|Highway|Hwy|Row|Gardens|Mews|Walk"
)


def street_address() -> RuleRecognizer:
    return RuleRecognizer(
        "StreetAddressRecognizer",
        "STREET_ADDRESS",
        [
            Rule(
                "number and street",
                re.compile(
                    rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:[A-Z][\w'’.-]*\s+){{1,4}}(?:{_STREET_TYPES})\b\.?"
                    r"(?:,?\s+(?:Apt|Apartment|Suite|Unit|Flat)\.?\s*#?\w+)?"
                ),
                0.75,
            ),
            Rule(
                "street and number",
                re.compile(
                    r"\b[A-ZÄÖÜ][\wäöüß-]*(?:straße|strasse|str\.|weg|platz|gasse|allee|laan|straat|gatan|vej)\s+\d{1,4}[a-z]?\b"
                ),
                0.7,
            ),
        ],
    )


def postal_code() -> RuleRecognizer:
    return RuleRecognizer(
        "PostalCodeRecognizer",
        "POSTAL_CODE",
        [
            Rule("uk postcode", re.compile(r"\b(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?)\s?\d[ABD-HJLNP-UW-Z]{2}\b"), 0.6),
            Rule(
                "us state zip",
                re.compile(
                    r"\b(?:A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]"
                    r"|O[HKR]|PA|RI|S[CD]|T[NX]|UT|V[AT]|W[AIVY]),?\s+(?P<value>\d{5}(?:-\d{4})?)\b"
                ),
                0.6,
            ),
            Rule(
                "canadian postcode",
                re.compile(r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d\b"),
                0.6,
            ),
            Rule(
                "labelled code",
                re.compile(r"(?i:\b(?:zip|postal|post)\s*code|\bzip|\bplz)\s*[:\-]?\s*(?P<value>\d{4,6})\b"),
                0.7,
            ),
        ],
    )


class PhoneNumberRecognizer(LocalRecognizer):
    """Phone numbers in international and national formats, validated with libphonenumber.

    Presidio's own phone recogniser runs libphonenumber's matcher over the whole text once per region (17 ms
    for a resume with 14 regions); finding candidates with one regex and validating only those is ~50x cheaper.
    """

    CANDIDATE = re.compile(
        r"(?<![\w+.-])(?:\+\d{7,15}|(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d{1,8}(?:[\s.-]\d{2,8}){1,5})"
        r"(?![\w-]|\.\d)"
    )

    def __init__(self, regions: Sequence[str]) -> None:
        self._regions = tuple(regions)
        self._label = "PhoneNumberRecognizer"
        super().__init__(
            supported_entities=["PHONE_NUMBER"],
            name="PhoneNumberRecognizer",
            context=["phone", "mobile", "tel", "telephone", "cell", "whatsapp", "contact", "call"],
        )

    def load(self) -> None:
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        out: list[RecognizerResult] = []
        for match in self.CANDIDATE.finditer(text):
            value = match.group(0)
            digits = sum(ch.isdigit() for ch in value)
            if not 7 <= digits <= 15 or _looks_like_range(value):
                continue
            score = self._score(value)
            if score > 0:
                out.append(
                    RecognizerResult(
                        "PHONE_NUMBER",
                        match.start(),
                        match.end(),
                        score,
                        analysis_explanation=AnalysisExplanation(self._label, score, pattern_name="libphonenumber"),
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self._label,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        },
                    )
                )
        return out

    def _score(self, value: str) -> float:
        if value.startswith("+"):
            try:
                number = phonenumbers.parse(value, None)
            except phonenumbers.NumberParseException:
                return 0.0
            if phonenumbers.is_valid_number(number):
                return 0.75
            return 0.5 if phonenumbers.is_possible_number(number) else 0.0
        for region in self._regions:
            try:
                number = phonenumbers.parse(value, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return 0.6
        return 0.0


_YEAR_RANGE = re.compile(r"^(?:19|20)\d{2}\s?[-.]\s?(?:(?:19|20)\d{2}|\d{2})$")


def _looks_like_range(value: str) -> bool:
    return bool(_YEAR_RANGE.match(value.strip()))


def social_profile() -> RuleRecognizer:
    hosts = (
        r"(?:linkedin\.com/(?:in|pub)|github\.com|gitlab\.com|twitter\.com|x\.com|stackoverflow\.com/users"
        r"|medium\.com/@?|behance\.net|dribbble\.com|kaggle\.com|instagram\.com|facebook\.com)"
    )
    return RuleRecognizer(
        "SocialProfileRecognizer",
        "SOCIAL_PROFILE",
        [
            Rule(
                "profile url",
                re.compile(rf"(?i:(?:https?://)?(?:[a-z]{{2,3}}\.)?{hosts}/?[\w.%-]+(?:/[\w.%-]+)?/?)"),
                0.9,
            ),
            Rule(
                "handle",
                re.compile(
                    r"(?<![\w.@/])@[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,37}[A-Za-z0-9_])?\b"
                    r"(?!\.[a-z]{2,}|@)"
                ),
                0.6,
            ),
        ],
        context=["twitter", "github", "linkedin", "handle", "instagram", "telegram", "x"],
    )


_NAME_TOKEN = re.compile(r"^(?:[A-Z][a-z]+(?:[-'’][A-Z][a-z]+)?\.?|[A-Z]{2,}(?:[-'’][A-Z]{2,})?|[A-Z]\.?)$")
# A header name may be written in lower case ("kimaya sonawane") when the resume's links or e-mail spell it too.
_LOWER_TOKEN = re.compile(r"^[a-z]{2,}$")
_SLUG = re.compile(
    r"(?i:indeed\.com/r/|linkedin\.com/in/|github\.com/)([A-Za-z][A-Za-z-]{1,60})|"
    r"(?<![\w.%+-])([A-Za-z][A-Za-z0-9._%+-]{0,63})@"
)
# Words that make a capitalised header line a title or a heading rather than a name.
_NOT_NAME_WORDS = frozenset(
    """
resume curriculum vitae cv profile summary contact experience education skills objective about senior junior
lead principal staff chief head engineer developer manager director analyst designer consultant architect
scientist specialist administrator officer intern assistant associate software data product project web backend
frontend front back end full stack fullstack mobile cloud devops platform security systems system network
technical sales marketing account executive president vice team group company corp inc ltd llc gmbh plc
university college school institute the and of for at in on with to a an page references portfolio
""".split()
)


HEADER_SCORE = 0.9


class HeaderNameRecognizer(LocalRecognizer):
    """The candidate's name on the first lines of a resume (often all-caps, which the small model misses)."""

    # "Name: Ana Silva", "Former manager: Tomasz Nguyen", "Referee - Jo Park": a label the small model ignores.
    LABELLED = re.compile(
        r"(?i:\b(?:full\s+)?name|manager|supervisor|referee|reference|contact(?:\s+person)?|mentor|reports?\s+to)"
        r"\s*[:\-–]\s*(?P<value>[A-Z][a-z'’-]+(?:\s+[A-Z]\.)?(?:\s+[A-Z][a-z'’-]+){1,2})\b"
    )

    def __init__(self) -> None:
        self._label = "HeaderNameRecognizer"
        super().__init__(supported_entities=["PERSON"], name=self._label)

    def load(self) -> None:
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        spans = [m.span("value") for m in self.LABELLED.finditer(text) if looks_like_name(m.group("value"))]
        header = self._header_line(text)
        if header is not None:
            spans.append(header)
            # The same name again further down (a signature, "I, <name>, declare ..."): the same person.
            name = text[header[0] : header[1]]
            pos = text.find(name, header[1])
            while pos >= 0 and len(spans) < 50:
                spans.append((pos, pos + len(name)))
                pos = text.find(name, pos + len(name))
        # Above spaCy's 0.85: Presidio drops a finding contained in a same-type one that scores at least as high,
        # and the model's spans often run from the name into the next line.
        return [
            RecognizerResult(
                "PERSON",
                start,
                end,
                HEADER_SCORE,
                analysis_explanation=AnalysisExplanation(self._label, HEADER_SCORE, pattern_name="resume header"),
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self._label,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for start, end in spans
        ]

    @staticmethod
    def _header_line(text: str) -> tuple[int, int] | None:
        if text.count("\n") < 2:  # a resume, not a sentence
            return None
        offset = 0
        seen = 0
        for raw in text.split("\n", 8):
            line = raw.strip()
            if line:
                seen += 1
                if looks_like_name(line) or (seen == 1 and _spelled_in_links(line, text)):
                    start = offset + raw.index(line)
                    return start, start + len(line)
                if seen >= 3:
                    return None
            offset += len(raw) + 1
        return None


def _spelled_in_links(line: str, text: str) -> bool:
    """A first line of 2-3 plain words that the resume's profile links or e-mail also spell ("amarjyot sodhi" and
    indeed.com/r/amarjyot-sodhi)."""
    words = line.split()
    if not 2 <= len(words) <= 3 or not all(_LOWER_TOKEN.match(w.lower()) for w in words):
        return False
    if any(w.lower() in _NOT_NAME_WORDS or is_skill_term(w) for w in words):
        return False
    spelled = " ".join(m.group(1) or m.group(2) for m in _SLUG.finditer(text[:20000])).lower()
    return sum(w.lower() in spelled for w in words if len(w) > 2) >= 1 and words[0].lower() in spelled


def looks_like_name(line: str) -> bool:
    words = line.split()
    if not 2 <= len(words) <= 4 or len(line) > 60:
        return False
    if not all(_NAME_TOKEN.match(w) for w in words):
        return False
    if any(w.lower().strip(".") in _NOT_NAME_WORDS or (len(w) > 1 and is_skill_term(w)) for w in words):
        return False
    return not all(len(w.rstrip(".")) <= 2 for w in words)
