"""PII detection and redaction with Presidio on the small spaCy model.

`PiiDetector` keeps one `AnalyzerEngine` holding only the recognisers resumes need (Presidio's full default
set costs ~4x the time and adds US-only ids that misfire on resume numbers), adds our own recognisers for
the model's weak spots, and filters what the model gets wrong: technology names tagged as people or places,
organisations, URL fragments inside e-mail addresses.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from typing import Literal

import tldextract
import tldextract.tldextract
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IpRecognizer,
    SpacyRecognizer,
    UrlRecognizer,
)

from guardrail_svc import recognizers, resume_context
from guardrail_svc.locations import GazetteerLocationRecognizer, confirmed_by_context
from guardrail_svc.nlp import LeanSpacyNlpEngine, build_nlp_engine
from guardrail_svc.pii_cache import DEFAULT_CACHE_ENTRIES, FindingsCache
from guardrail_svc.report import PiiFinding
from hiremesh import places
from hiremesh.resume_terms import INSTITUTION_WORDS
from hiremesh.skills import is_skill_term

PiiMode = Literal["full", "fast"]
RedactionStyle = Literal["tag", "hash"]

NER_ENTITIES = ("PERSON", "LOCATION")
REGEX_ENTITIES = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IP_ADDRESS",
    "URL",
    "SOCIAL_PROFILE",
    "DATE_OF_BIRTH",
    "NATIONAL_ID",
    "STREET_ADDRESS",
    "POSTAL_CODE",
)
SUPPORTED_ENTITIES = (*NER_ENTITIES, *REGEX_ENTITIES)

# Regions whose national phone formats phonenumbers should accept without a "+" prefix.
PHONE_REGIONS = ("US", "GB", "CA", "AU", "IE", "DE", "FR", "NL", "ES", "IT", "IN", "BR", "SG", "ZA")

# When two findings overlap, the more specific type wins regardless of score (an e-mail is not a URL).
_PRIORITY = {
    "EMAIL_ADDRESS": 9,
    "SOCIAL_PROFILE": 8,
    "CREDIT_CARD": 8,
    "NATIONAL_ID": 7,
    "IP_ADDRESS": 7,
    "DATE_OF_BIRTH": 7,
    "STREET_ADDRESS": 6,
    "PHONE_NUMBER": 5,
    "POSTAL_CODE": 4,
    "URL": 3,
    "PERSON": 2,
    "LOCATION": 1,
}
_ORG_SUFFIX = re.compile(
    r"\b(?:ltd|limited|inc|corp|corporation|llc|llp|plc|gmbh|ag|sa|co|company|group|labs?|technologies|"
    r"systems|solutions|university|college|institute|school|bank|foundation)\.?$",
    re.IGNORECASE,
)
# Names the model often tags as people or places that are products, platforms or document words.
_NOT_PII_WORDS = frozenset(
    """
twitter linkedin github gitlab stackoverflow google microsoft amazon apple meta facebook netflix uber
airbnb slack jira confluence notion zoom youtube instagram whatsapp telegram medium kaggle coursera udemy
summary experience education skills references projects certifications interests languages profile
""".split()
)


def pin_tldextract_to_snapshot() -> None:
    """Make tldextract (Presidio's e-mail validation) use its bundled suffix list: no network, no disk cache."""
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True
    )


def _salted_hash(value: str, salt: bytes) -> str:
    return hmac.new(salt, value.encode(), hashlib.sha256).hexdigest()[:10]


class PiiDetector:
    """Finds PII spans in texts (full: NER + rules; fast: rules only) and redacts them."""

    def __init__(
        self,
        *,
        score_threshold: float = 0.4,
        hash_salt: bytes = b"hiremesh",
        cache_entries: int = DEFAULT_CACHE_ENTRIES,
    ) -> None:
        pin_tldextract_to_snapshot()
        places.warm()
        self.score_threshold = score_threshold
        self._salt = hash_salt
        self.nlp: LeanSpacyNlpEngine = build_nlp_engine()
        registry = RecognizerRegistry(supported_languages=["en"])
        for recognizer in (
            SpacyRecognizer(supported_entities=list(NER_ENTITIES)),
            EmailRecognizer(),
            recognizers.PhoneNumberRecognizer(PHONE_REGIONS),
            CreditCardRecognizer(),
            IpRecognizer(),
            UrlRecognizer(),
            recognizers.HeaderNameRecognizer(),
            GazetteerLocationRecognizer(),
            recognizers.social_profile(),
            recognizers.date_of_birth(),
            recognizers.national_id(),
            recognizers.street_address(),
            recognizers.postal_code(),
        ):
            registry.add_recognizer(recognizer)
        self.analyzer = AnalyzerEngine(registry=registry, nlp_engine=self.nlp, supported_languages=["en"])
        # A first call JIT-builds Presidio's regexes and spaCy's tables so the first request is not slow.
        self.cache = FindingsCache(cache_entries)
        self.analyze_many(["Warm-up: John Smith, john@example.com, +44 20 7946 0958, London."], "full")

    def analyze(self, text: str, mode: PiiMode = "full", entities: Sequence[str] = ()) -> list[PiiFinding]:
        return self.analyze_many([text], mode, entities)[0]

    def analyze_many(
        self, texts: Sequence[str], mode: PiiMode = "full", entities: Sequence[str] = ()
    ) -> list[list[PiiFinding]]:
        """Findings per text, in text order; spaCy runs once over the batch with `pipe`."""
        wanted = self._entities(mode, entities)
        if not wanted:
            return [[] for _ in texts]
        ner = mode == "full" and bool(set(wanted) & set(NER_ENTITIES))
        # A string that is just a skill name carries no PII (every hit in it is dropped as a false positive);
        # screening results hold dozens of them (skill lists, question topics). Strings seen before (their
        # questions and verdict lines repeat across a job's applicants) come from the cache.
        out: list[list[PiiFinding] | None] = []
        keys: list[bytes | None] = []
        for text in texts:
            skill = is_skill_term(text.strip())
            keys.append(None if skill else self.cache.key(text, wanted, ner))
            out.append([] if skill else self.cache.get(keys[-1]))
        todo = [i for i, found in enumerate(out) if found is None]
        needs_ner = {i for i in todo if ner and _may_name_someone(texts[i])}
        with_ner = iter(self.nlp.process_full([texts[i] for i in todo if i in needs_ner]))
        without = iter(self.nlp.process_fast([texts[i] for i in todo if i not in needs_ner]))
        for i in todo:
            art: NlpArtifacts = next(with_ner) if i in needs_ner else next(without)
            results = self.analyzer.analyze(
                texts[i], language="en", entities=wanted, nlp_artifacts=art, score_threshold=self.score_threshold
            )
            found = self._clean(texts[i], results)
            self.cache.put(keys[i], found)
            out[i] = found
        return [found if found is not None else [] for found in out]

    @staticmethod
    def _entities(mode: PiiMode, entities: Sequence[str]) -> list[str]:
        allowed = REGEX_ENTITIES if mode == "fast" else SUPPORTED_ENTITIES
        if not entities:
            return list(allowed)
        return [e for e in entities if e in allowed]

    def _clean(self, text: str, results: list[RecognizerResult]) -> list[PiiFinding]:
        doc = _Doc(text)
        kept = [r for r in _split_at_line_breaks(text, results) if not self._false_positive(text, r, doc)]
        kept = _drop_regions_taken_for_people(kept)
        # Highest priority first, then longest, then best score; a finding overlapping a kept one is dropped.
        kept.sort(key=lambda r: (-_PRIORITY.get(r.entity_type, 0), -(r.end - r.start), -r.score))
        chosen: list[RecognizerResult] = []
        for r in kept:
            if all(r.end <= c.start or r.start >= c.end for c in chosen):
                chosen.append(r)
        chosen.sort(key=lambda r: r.start)
        return [
            PiiFinding(r.entity_type, r.start, r.end, round(float(r.score), 4), _recognizer_name(r)) for r in chosen
        ]

    @staticmethod
    def _false_positive(text: str, result: RecognizerResult, doc: _Doc) -> bool:
        value = text[result.start : result.end].strip()
        if result.entity_type in NER_ENTITIES:
            return _not_a_person_or_place(text, result, value, doc)
        if result.entity_type == "URL":
            if "@" in _token_around(text, result.start, result.end) and "://" not in value:
                return True  # a piece of an e-mail address the e-mail recogniser rejected
            return is_skill_term(value) or is_skill_term(value.rsplit(".", 1)[0])
        return False

    def redact(self, text: str, findings: Sequence[PiiFinding], style: RedactionStyle = "tag") -> str:
        """`text` with every finding replaced by `<TYPE>` or `<TYPE:hash>` (stable per value and salt)."""
        pieces: list[str] = []
        cursor = 0
        for f in sorted(findings, key=lambda f: f.start):
            if f.start < cursor:
                continue
            pieces.append(text[cursor : f.start])
            if style == "hash":
                pieces.append(f"<{f.entity_type}:{_salted_hash(text[f.start : f.end], self._salt)}>")
            else:
                pieces.append(f"<{f.entity_type}>")
            cursor = f.end
        pieces.append(text[cursor:])
        return "".join(pieces)


class _Doc:
    """Document-wide evidence, computed once per text and only when a check needs it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lower: frozenset[str] | None = None

    @property
    def lower_words(self) -> frozenset[str]:
        if self._lower is None:
            self._lower = resume_context.lower_case_words(self.text)
        return self._lower


def _not_a_person_or_place(text: str, result: RecognizerResult, value: str, doc: _Doc) -> bool:
    """Evidence that a PERSON or LOCATION span is a skill, a tool, a company, a title or a heading."""
    words = re.findall(r"[\w+#.]+", value)
    recognizer = _recognizer_name(result)
    if not words or any(ch.isdigit() or ch == "@" for ch in value):
        return True
    if value.islower() and recognizer != "HeaderNameRecognizer":
        return True
    if is_skill_term(value) or all(is_skill_term(w) or w.lower() in _NOT_PII_WORDS for w in words):
        return True
    if _ORG_SUFFIX.search(value) or INSTITUTION_WORDS.search(value) or resume_context.all_heading_words(value):
        return True  # "Infosys Ltd", "Kendriya Vidyalaya", "Skill Details"
    if recognizer == GazetteerLocationRecognizer.__name__ or recognizer == "HeaderNameRecognizer":
        return False  # they weighed their own context
    if resume_context.in_skill_list(text, result.start, result.end) or resume_context.in_skills_section(
        text, result.start
    ):
        return True  # "Tools: Jenkins, Maven, Teradata"
    if resume_context.followed_by_company_word(text, result.end) or resume_context.named_as_company(text, value):
        return True  # "Accenture" where the resume also says "Accenture Services Pvt Ltd"
    if resume_context.after_title_dash(text, result.start) or resume_context.acronyms_only(value):
        return True  # "Senior Analyst - Cisco", "SAP ABAP"
    if result.entity_type == "PERSON":
        if resume_context.has_title_word(value) or resume_context.ordinary_words(value, doc.lower_words):
            return True  # "Principal Consultant", "Team Player", "Frameworks"
        # A known place the model took for a person: the gazetteer reports it as a LOCATION.
        return places.is_place(value) and not places.is_ambiguous(value)
    # The model's LOCATION: a place the gazetteer knows is the gazetteer recogniser's to judge (it reported it or
    # had a reason not to); another counts only where its context says it is a place ("Irinchayam B.O, Kerala").
    if places.is_place(value) or resume_context.ordinary_words(value, doc.lower_words):
        return True
    return not confirmed_by_context(text, result.start, result.end)


def _drop_regions_taken_for_people(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """The model's PERSON spans that overlap a gazetteer place without starting where it starts ("Chennai, [Tamil
    Nadu - Email]", "[Cisco Bangalore] - Bengaluru"): a region or a company's office, not a person. One that starts
    where the place starts ("Salem Khan") stays a person."""
    gazetteer = [(r.start, r.end) for r in results if _recognizer_name(r) == GazetteerLocationRecognizer.__name__]
    if not gazetteer:
        return results
    return [
        r
        for r in results
        if not (
            r.entity_type == "PERSON"
            and _recognizer_name(r) == "SpacyRecognizer"
            and any(r.start < end and start < r.end and r.start != start for start, end in gazetteer)
        )
    ]


def _split_at_line_breaks(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """NER spans cut at line breaks ("Abhishek Jha\nApplication Development Associate" is two lines, not one
    name); each line's part is then judged on its own."""
    out: list[RecognizerResult] = []
    for r in results:
        if r.entity_type not in NER_ENTITIES or "\n" not in text[r.start : r.end]:
            out.append(r)
            continue
        pos = r.start
        for piece in text[r.start : r.end].split("\n"):
            stripped = piece.strip()
            if stripped:
                start = pos + piece.index(stripped)
                out.append(
                    RecognizerResult(
                        r.entity_type,
                        start,
                        start + len(stripped),
                        r.score,
                        analysis_explanation=r.analysis_explanation,
                        recognition_metadata=r.recognition_metadata,
                    )
                )
            pos += len(piece) + 1
    return out


def _may_name_someone(text: str) -> bool:
    """Whether NER could find a person or place here that `_false_positive` would keep: a text without a
    capital letter only yields lowercase spans, which it drops ("gap: python" rationales skip NER)."""
    return any(ch.isupper() for ch in text)


def _token_around(text: str, start: int, end: int) -> str:
    """The whitespace-delimited token containing text[start:end]."""
    left = max(text.rfind(c, 0, start) for c in " \n\t") + 1
    rights = [i for i in (text.find(c, end) for c in " \n\t") if i != -1]
    return text[left : min(rights) if rights else len(text)]


def _recognizer_name(result: RecognizerResult) -> str:
    meta = result.recognition_metadata or {}
    return str(meta.get(RecognizerResult.RECOGNIZER_NAME_KEY, "unknown"))
