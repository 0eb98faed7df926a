"""Skills: canonical names, their spellings and synonyms, and extraction from free text, for every profession.

Two sources, merged into one vocabulary:
- the curated table (hiremesh.skill_aliases): tools, technologies and the skills recruiters write in legal,
  HR, sales, health and fitness, mechanical, operations, finance and software jobs, with their spellings
  (JS / JavaScript, k8s / Kubernetes, .NET / dotnet, ReactJS / React) and case rules for ambiguous words
  (Go, R, C, Swift, Spring, Excel);
- the ESCO taxonomy (hiremesh.esco): skill and knowledge labels of its 13,939 skills, filtered to the phrases
  that occur as written in resumes and job descriptions (see `_esco_phrase`; bench/skills.py measures it).
The curated table wins where both name a phrase. Without the ESCO wheel installed everything still works on the
curated table alone (logged once).

Shared by search (skill fields and filters), screening (evidence scoring) and guardrail (technology names that
spaCy mistakes for people or places). Extraction is linear in the text (hiremesh.skill_index).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from hiremesh import esco
from hiremesh.skill_aliases import BROAD_SKILLS, CATALOG, SOFT_SKILLS
from hiremesh.skill_index import ANY, CASE, CONTEXT, Alias, PhraseIndex, phrase_key, tokenize

__all__ = [
    "ALL_SKILLS",
    "canonical_skill",
    "clear_caches",
    "extract_skills",
    "find_skills",
    "is_skill_term",
    "normalise_skills",
    "phrase_count",
    "skill_category",
    "skill_info",
    "skill_weight",
    "skills_in_category",
    "warm",
]

log = logging.getLogger("hiremesh.skills")

CURATED, ESCO = "curated", "esco"

# Weights a scorer may give one skill against another (skill_weight): a named tool or method is strong
# evidence, a field everybody in it states is weaker, a habit weaker still.
WEIGHT_SPECIFIC, WEIGHT_ESCO, WEIGHT_BROAD, WEIGHT_SOFT = 1.0, 0.7, 0.6, 0.3

_FUNCTION = frozenset("of the and to in for with on a an at by from into or as per its their".split())
# ESCO labels that are everyday words or whole fields more than skills one can hold.
_ESCO_TOO_BROAD = frozenset(
    """
management administration communication communications design development engineering operations planning
quality research safety security service services software support systems technology training analysis
business marketing sales production maintenance leadership teamwork languages english mathematics
""".split()
)


@dataclass(frozen=True)
class SkillInfo:
    """What is known about one canonical skill."""

    name: str
    source: str  # "curated" or "esco"
    category: str  # the curated table's profession group, "esco" for taxonomy skills
    weight: float
    uri: str = ""  # the ESCO concept, when the skill is one (or is linked to one)


@dataclass(frozen=True)
class SkillMention:
    """One mention of a skill in a text: character offsets [start, end) and the canonical name."""

    name: str
    start: int
    end: int
    text: str


@dataclass
class _Vocabulary:
    index: PhraseIndex
    names: dict[str, str]  # any known spelling, lower-cased -> canonical
    info: dict[str, SkillInfo]


def _mode(alias: str) -> tuple[str, int]:
    if alias.startswith("~"):
        return alias[1:], CONTEXT
    if alias[:1].isupper():
        return alias, CASE
    return alias, ANY


def _curated(vocab: _Vocabulary) -> None:
    for category, skills in CATALOG.items():
        for name, aliases in skills.items():
            weight = WEIGHT_SOFT if name in SOFT_SKILLS else WEIGHT_BROAD if name in BROAD_SKILLS else WEIGHT_SPECIFIC
            vocab.info[name] = SkillInfo(name, CURATED, category, weight)
            spelled = {a.lstrip("~").lower() for a in aliases}
            entries = [_mode(a) for a in aliases]
            if name.lower() not in spelled:
                entries.insert(0, (name, ANY))
            for surface, mode in entries:
                vocab.index.add(surface, Alias(name, surface, mode, CURATED))
                vocab.names.setdefault(surface.lower(), name)
            vocab.names.setdefault(name.lower(), name)


def _esco_language(concept: esco.Concept) -> bool:
    return any(label.startswith(("competent in ", "ability to comprehend")) for label in concept.labels)


def _strip_qualifier(label: str) -> str:
    # "Jenkins (tools for software configuration management)" -> "Jenkins"
    cut = label.find(" (")
    return label[:cut] if cut > 0 else label


@lru_cache(maxsize=1)
def _label_verbs() -> frozenset[str]:
    """Verbs that open ESCO competences ("operate", "manage", "prospect"), lower-cased: words that open three
    or more preferred labels and three or more definitions (in the imperative: "Operate ..."), and that open
    at least 30 % of the labels they occur in (nouns such as "data" or "quality" mostly sit inside labels)."""
    opens_label: dict[str, int] = {}
    opens_definition: dict[str, int] = {}
    first: dict[str, int] = {}
    total: dict[str, int] = {}
    for concept in esco.load():
        if concept.kind != "skill" or not concept.labels:
            continue
        w = concept.labels[0].split(" ", 1)[0].lower()
        opens_label[w] = opens_label.get(w, 0) + 1
        d = concept.definition.split(" ", 1)[0].strip(",.").lower()
        opens_definition[d] = opens_definition.get(d, 0) + 1
        for label in concept.labels:
            words = label.lower().split()
            first[words[0]] = first.get(words[0], 0) + 1
            for word in words:
                total[word] = total.get(word, 0) + 1
    return frozenset(
        w
        for w, n in opens_label.items()
        if n >= 3 and opens_definition.get(w, 0) >= 3 and first.get(w, 0) >= 0.3 * total.get(w, 1)
    )


def _competence(concept: esco.Concept, verbs: frozenset[str]) -> bool:
    """A competence ("adjust cylinder valves") rather than knowledge ("criminal law", "Apache Maven")."""
    if concept.definition.startswith(("The ", "A ", "An ")):
        return False
    opening = concept.definition.split(" ", 1)[0].strip(",.").lower()
    return opening in verbs or concept.labels[0].split(" ", 1)[0].lower() in verbs


def _esco_phrase(label: str, prose: dict[str, int], competence: bool) -> tuple[str, int] | None:
    """The label as a phrase worth matching in resumes and job descriptions, with its case mode, or None.

    Kept: labels of 1-4 words from knowledge concepts ("criminal law", "gas chromatography", "Apache Maven");
    a single word only when ESCO writes it as a name (capitals or digits: "WordPress", "SPARQL") that is not
    also everyday English ("Access", "Salt"), matched in its case. Dropped: competence phrases ("manage musical
    staff": rare as written, and mostly wrong where they occur, measured in bench/skills.py), languages, labels
    starting or ending with a function word (segmentation leftovers), very broad words."""
    label = _strip_qualifier(label).strip()
    words = label.split()
    if not 1 <= len(words) <= 4 or competence:
        return None
    if words[0].lower() in _FUNCTION or words[-1].lower() in _FUNCTION or label.lower() in _ESCO_TOO_BROAD:
        return None
    if any(not any(ch.isalnum() for ch in w) for w in words):
        return None
    if len(words) == 1:
        word = words[0]
        if not any(ch.isupper() or ch.isdigit() for ch in word) or len(word) < 2:
            return None
        # An everyday word written as a name ("Access", "Source", "Embedded" in "MySQL Embedded"): measured
        # on resumes, it is the word far more often than the product.
        return None if prose.get(word.lower(), 0) >= 3 else (word, CASE)
    if any(ch.isupper() for ch in label):
        return label, CASE
    return label, ANY


def _esco_name(concept: esco.Concept, phrases: list[tuple[str, int]]) -> str:
    """The preferred label; where label recovery left a neighbour glued to its end ("reputation management
    reputational"), the shortest accepted label it starts with."""
    first = _strip_qualifier(concept.labels[0])
    prefixes = [p for p, _m in phrases if p != first and (first + " ").startswith(p + " ")]
    if prefixes:
        return min(prefixes, key=len)
    return first if any(p == first for p, _m in phrases) else phrases[0][0]


def _curated_link(index: PhraseIndex, concept: esco.Concept, phrases: list[tuple[str, int]]) -> str | None:
    """The curated skill an ESCO concept is, if any: one of its labels is a curated alias (ESCO "Apache Maven"
    -> curated "Maven"), or its preferred label starts with a curated alias of two or more words ("machine
    learning models" -> "Machine Learning"). Linked, one text never yields both names."""
    for phrase, _mode in phrases:
        alias = index.get(phrase_key(phrase))
        if alias is not None and alias.source == CURATED:
            return alias.name
    tokens = phrase_key(_strip_qualifier(concept.labels[0])).split()
    for n in range(len(tokens) - 1, 1, -1):
        alias = index.get(" ".join(tokens[:n]))
        if alias is not None and alias.source == CURATED:
            return alias.name
    return None


def _esco(vocab: _Vocabulary) -> int:
    concepts = [c for c in esco.load() if c.kind == "skill" and not _esco_language(c)]
    if not concepts:
        return 0
    verbs = _label_verbs()
    prose: dict[str, int] = {}
    for c in concepts:
        for w in c.definition.split():
            if w.islower():
                prose[w] = prose.get(w, 0) + 1
    added = 0
    for concept in concepts:
        competence = _competence(concept, verbs)
        phrases = [p for p in (_esco_phrase(lab, prose, competence) for lab in concept.labels) if p]
        if not phrases:
            continue
        linked = _curated_link(vocab.index, concept, phrases)
        name = linked or _esco_name(concept, phrases)
        if linked is None:
            vocab.info.setdefault(name, SkillInfo(name, ESCO, ESCO, WEIGHT_ESCO, concept.uri))
        elif not vocab.info[name].uri:
            old = vocab.info[name]
            vocab.info[name] = SkillInfo(old.name, old.source, old.category, old.weight, concept.uri)
        for phrase, mode in phrases:
            if vocab.index.add(phrase, Alias(name, phrase, mode, ESCO)):
                added += 1
            vocab.names.setdefault(phrase.lower(), name)
        vocab.names.setdefault(name.lower(), name)
    return added


@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    vocab = _Vocabulary(PhraseIndex(), {}, {})
    _curated(vocab)
    added = _esco(vocab)
    log.info("skills vocabulary: %d skills (%d ESCO phrases)", len(vocab.info), added)
    return vocab


def __getattr__(attr: str) -> object:
    # ALL_SKILLS is built on first use: the ESCO part costs a file read.
    if attr == "ALL_SKILLS":
        return tuple(_vocabulary().info)
    raise AttributeError(attr)


ALL_SKILLS: tuple[str, ...]  # every canonical skill name (curated first, then ESCO); see __getattr__


def canonical_skill(term: str) -> str | None:
    """The canonical name of a skill or synonym ("k8s" -> "Kubernetes"), or None if unknown."""
    key = " ".join(term.split()).lower()
    if not key:
        return None
    names = _vocabulary().names
    found = names.get(key)
    if found is None:
        alias = _vocabulary().index.get(phrase_key(key))
        found = alias.name if alias is not None else None
    return found


def is_skill_term(token: str) -> bool:
    """True when `token` (any case) names a skill or one of its synonyms."""
    return canonical_skill(token) is not None


def find_skills(text: str) -> list[SkillMention]:
    """Every skill mention in `text`, in order, with its offsets (leftmost-longest, non-overlapping)."""
    matches = _vocabulary().index.scan(tokenize(text), text)
    return [SkillMention(m.alias.name, m.start, m.end, text[m.start : m.end]) for m in matches]


def extract_skills(text: str) -> list[str]:
    """Canonical skills mentioned in `text`, in order of first appearance, without duplicates."""
    seen: dict[str, None] = {}
    for mention in find_skills(text):
        seen.setdefault(mention.name, None)
    return list(seen)


def normalise_skills(skills: list[str]) -> list[str]:
    """Canonicalise a user-given skill list; unknown skills are kept as given (trimmed), duplicates dropped."""
    out: dict[str, None] = {}
    for skill in skills:
        cleaned = skill.strip()
        if cleaned:
            out.setdefault(canonical_skill(cleaned) or cleaned, None)
    return list(out)


def skill_info(name: str) -> SkillInfo | None:
    """Source, profession group, weight and ESCO URI of a skill (any spelling), or None if unknown."""
    canonical = canonical_skill(name)
    return _vocabulary().info.get(canonical) if canonical else None


def skill_weight(name: str) -> float:
    """How specific a skill is, for weighting evidence: 1.0 a named tool or method (Hibernate, Litigation), 0.7
    an ESCO skill, 0.6 a broad field (Sales, Maintenance), 0.3 a habit (Communication); unknown 0.5."""
    info = skill_info(name)
    return info.weight if info is not None else 0.5


def skill_category(name: str) -> str | None:
    """The curated profession group ("software", "legal", "hr", ...), "esco", or None if unknown."""
    info = skill_info(name)
    return info.category if info is not None else None


def skills_in_category(category: str) -> list[str]:
    """Canonical skills of one curated profession group (see hiremesh.skill_aliases.CATALOG)."""
    return list(CATALOG.get(category, {}))


def warm() -> None:
    """Build the vocabulary now (services call it at start-up so the first request does not pay for it)."""
    _vocabulary()


def phrase_count() -> int:
    """How many phrases the skill matcher knows (curated aliases and ESCO labels); the benchmark reports it."""
    return len(_vocabulary().index.phrases)


def clear_caches() -> None:
    """Forget the built vocabulary and the ESCO taxonomy, so the next call reads them again (after the ESCO
    folder, HIREMESH_ESCO_DIR, changed)."""
    esco.load.cache_clear()
    _vocabulary.cache_clear()
    _label_verbs.cache_clear()
