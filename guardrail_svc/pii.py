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

from guardrail_svc import recognizers
from guardrail_svc.nlp import LeanSpacyNlpEngine, build_nlp_engine
from guardrail_svc.pii_cache import DEFAULT_CACHE_ENTRIES, FindingsCache
from guardrail_svc.report import PiiFinding
from hiremesh.skills import is_skill_term

PiiMode = Literal["full", "fast"]
RedactionStyle = Literal["tag", "hash"]

NER_ENTITIES = ("PERSON", "LOCATION")
REGEX_ENTITIES = (
    "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IP_ADDRESS", "URL", "SOCIAL_PROFILE", "DATE_OF_BIRTH",
    "NATIONAL_ID", "STREET_ADDRESS", "POSTAL_CODE",
)
SUPPORTED_ENTITIES = (*NER_ENTITIES, *REGEX_ENTITIES)

# Regions whose national phone formats phonenumbers should accept without a "+" prefix.
PHONE_REGIONS = ("US", "GB", "CA", "AU", "IE", "DE", "FR", "NL", "ES", "IT", "IN", "BR", "SG", "ZA")

# When two findings overlap, the more specific type wins regardless of score (an e-mail is not a URL).
_PRIORITY = {
    "EMAIL_ADDRESS": 9, "SOCIAL_PROFILE": 8, "CREDIT_CARD": 8, "NATIONAL_ID": 7, "IP_ADDRESS": 7,
    "DATE_OF_BIRTH": 7, "STREET_ADDRESS": 6, "PHONE_NUMBER": 5, "POSTAL_CODE": 4, "URL": 3, "PERSON": 2,
    "LOCATION": 1,
}
_ORG_SUFFIX = re.compile(
    r"\b(?:ltd|limited|inc|corp|corporation|llc|llp|plc|gmbh|ag|sa|co|company|group|labs?|technologies|"
    r"systems|solutions|university|college|institute|school|bank|foundation)\.?$", re.IGNORECASE)
# Names the model often tags as people or places that are products, platforms or document words.
_NOT_PII_WORDS = frozenset("""
twitter linkedin github gitlab stackoverflow google microsoft amazon apple meta facebook netflix uber
airbnb slack jira confluence notion zoom youtube instagram whatsapp telegram medium kaggle coursera udemy
summary experience education skills references projects certifications interests languages profile
""".split())


def pin_tldextract_to_snapshot() -> None:
    """Make tldextract (Presidio's e-mail validation) use its bundled suffix list: no network, no disk cache."""
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def _salted_hash(value: str, salt: bytes) -> str:
    return hmac.new(salt, value.encode(), hashlib.sha256).hexdigest()[:10]


class PiiDetector:
    """Finds PII spans in texts (full: NER + rules; fast: rules only) and redacts them."""

    def __init__(self, *, score_threshold: float = 0.4, hash_salt: bytes = b"hiremesh",
                 cache_entries: int = DEFAULT_CACHE_ENTRIES) -> None:
        pin_tldextract_to_snapshot()
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

    def analyze_many(self, texts: Sequence[str], mode: PiiMode = "full", entities: Sequence[str] = ()
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
            results = self.analyzer.analyze(texts[i], language="en", entities=wanted, nlp_artifacts=art,
                                            score_threshold=self.score_threshold)
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
        kept = [r for r in results if not self._false_positive(text, r)]
        # Highest priority first, then longest, then best score; a finding overlapping a kept one is dropped.
        kept.sort(key=lambda r: (-_PRIORITY.get(r.entity_type, 0), -(r.end - r.start), -r.score))
        chosen: list[RecognizerResult] = []
        for r in kept:
            if all(r.end <= c.start or r.start >= c.end for c in chosen):
                chosen.append(r)
        chosen.sort(key=lambda r: r.start)
        return [PiiFinding(r.entity_type, r.start, r.end, round(float(r.score), 4), _recognizer_name(r))
                for r in chosen]

    @staticmethod
    def _false_positive(text: str, result: RecognizerResult) -> bool:
        value = text[result.start:result.end].strip()
        if result.entity_type in NER_ENTITIES:
            words = re.findall(r"[\w+#.]+", value)
            if not words or any(ch.isdigit() or ch == "@" for ch in value):
                return True
            if is_skill_term(value) or all(is_skill_term(w) or w.lower() in _NOT_PII_WORDS for w in words):
                return True
            if _ORG_SUFFIX.search(value):
                return True
            return value.islower()
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
            pieces.append(text[cursor:f.start])
            if style == "hash":
                pieces.append(f"<{f.entity_type}:{_salted_hash(text[f.start:f.end], self._salt)}>")
            else:
                pieces.append(f"<{f.entity_type}>")
            cursor = f.end
        pieces.append(text[cursor:])
        return "".join(pieces)


def _may_name_someone(text: str) -> bool:
    """Whether NER could find a person or place here that `_false_positive` would keep: a text without a
    capital letter only yields lowercase spans, which it drops ("gap: python" rationales skip NER)."""
    return any(ch.isupper() for ch in text)


def _token_around(text: str, start: int, end: int) -> str:
    """The whitespace-delimited token containing text[start:end]."""
    left = max(text.rfind(c, 0, start) for c in " \n\t") + 1
    rights = [i for i in (text.find(c, end) for c in " \n\t") if i != -1]
    return text[left:min(rights) if rights else len(text)]


def _recognizer_name(result: RecognizerResult) -> str:
    meta = result.recognition_metadata or {}
    return str(meta.get(RecognizerResult.RECOGNIZER_NAME_KEY, "unknown"))
