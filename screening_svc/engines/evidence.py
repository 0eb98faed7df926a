"""The `evidence` engine: a deterministic, explainable screening without an LLM.

match_score = a weighted mean of the parts that have evidence, each reported in the analysis:
- text relevance: how far the resume's words (lexical_score) and meaning (semantic_score) stand above a
  typical candidate of the catalog for this job, fused exactly as hybrid search orders its candidates
  (search_svc ScoreCandidates, handed over by the retriever as `ScreeningInput.match`). On real resumes this
  separates in-category from out-of-category resumes better than any part alone (docs/BENCHMARKS.md
  "Relevance"). Without it (search could not score the pair) the engine falls back to its own embeddings:
  how well each section of the job is covered by its best-matching resume section;
- skills_score: required (and, at half weight, preferred) skills found in the resume, via hiremesh.skills
  and its synonyms; left out when the job names no skill;
- experience_score: the candidate's years against the job's minimum (and maximum); left out (neutral) when
  the job states no minimum.
Confidence grows with the evidence there was: catalog scores, resume length, the job's skills, known years.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import grpc

from hiremesh.rpc_errors import code_of
from hiremesh.skills import extract_skills, normalise_skills
from screening_svc.engines.base import Analysis, EngineResult, QuestionsResult, ScreeningInput, TextMatch
from screening_svc.engines.evidence_questions import build_questions

log = logging.getLogger("screening_svc.evidence")

VERSION = "evidence-2"
Embed = Callable[[list[str]], Awaitable[list[list[float]]]]

WEIGHTS = {"relevance": 0.6, "skills": 0.3, "experience": 0.1}
# A catalog z-score z maps to 100 / (1 + exp(-(z - Z_MID) / Z_SCALE)): a typical candidate (z = 0) scores ~8,
# one standing 2 standard deviations above the catalog ~59, 3 ~85, 4 ~96.
Z_MID, Z_SCALE = 1.75, 0.7
PREFERRED_WEIGHT = 0.5
# MiniLM cosine between unrelated texts sits near 0.1, between a resume and the job it fits near 0.6+.
COSINE_FLOOR, COSINE_CEIL = 0.15, 0.70
MAX_SECTIONS = 12
SECTION_CHARS = 700
# Bounded gaps: "\\s*\\+?\\s*" rescanned a run of spaces after a number from every split point (quadratic).
_YEARS = re.compile(
    r"(\d{1,2}(?:\.\d)?)\s{0,3}\+?\s{0,3}(?:years|yrs)(?:\s{1,3}of)?(?:\s{1,3}\w+){0,3}?"
    r"\s{1,3}experience",
    re.I,
)


@dataclass
class Facts:
    """Everything the score is made of; also the raw material of interview questions."""

    required: list[str]
    preferred: list[str]
    candidate_skills: list[str]
    matched_required: list[str]
    matched_preferred: list[str]
    missing: list[str]
    years: float | None
    min_years: float
    max_years: float
    skills_score: float | None
    experience_score: float
    semantic_score: float | None = None
    lexical_score: float | None = None
    relevance_score: float | None = None  # the fused text match, or the semantic score when there is none
    match: TextMatch | None = None
    best_pairs: list[tuple[str, str, float]] = field(default_factory=list)  # job part, resume part, cosine
    semantic_error: str = ""


def _key(skill: str) -> str:
    return skill.strip().lower()


def skill_facts(inp: ScreeningInput) -> tuple[list[str], list[str], list[str]]:
    """(required, preferred, candidate) skills in canonical form."""
    job, cand = inp.job, inp.candidate
    mentioned = extract_skills(f"{job.title}\n{job.description}")
    required = normalise_skills(list(job.required_skills)) or mentioned
    required_keys = {_key(s) for s in required}
    preferred = [s for s in mentioned if _key(s) not in required_keys]
    candidate = normalise_skills(list(cand.skills) + extract_skills(f"{cand.headline}\n{cand.resume_text}"))
    return required, preferred, candidate


def candidate_years(inp: ScreeningInput) -> float | None:
    """Years of experience: the catalog field, else the largest "N years of experience" in the resume."""
    if inp.candidate.years_experience > 0:
        return inp.candidate.years_experience
    found = [float(m.group(1)) for m in _YEARS.finditer(inp.candidate.resume_text)]
    return max(found) if found else None


def required_years(inp: ScreeningInput) -> float:
    if inp.job.min_experience > 0:
        return inp.job.min_experience
    found = [float(m.group(1)) for m in _YEARS.finditer(inp.job.description)]
    return min(found) if found else 0.0


def experience_score(years: float | None, min_years: float, max_years: float) -> float:
    if min_years <= 0:
        return 100.0  # nothing asked, nothing missing (and left out of match_score)
    if years is None:
        return 40.0
    if years >= min_years:
        # Far above the range is a (mild) flight risk / mismatch of level, not a disqualifier.
        if max_years > 0 and years > max_years + 5:
            return 85.0
        return 100.0
    return round(100.0 * max(years, 0.0) / min_years, 1)


def sections(text: str, limit: int = MAX_SECTIONS) -> list[str]:
    """Paragraph-sized chunks (the embedder truncates long inputs, so long texts are embedded in parts)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n|\n(?=[A-Z][A-Za-z /&]{2,40}:?\n)", text) if p.strip()]
    chunks: list[str] = []
    current = ""
    for para in paragraphs:
        while len(para) > SECTION_CHARS:
            cut = para.rfind(". ", 0, SECTION_CHARS)
            cut = cut + 1 if cut > SECTION_CHARS // 3 else SECTION_CHARS
            if current:
                chunks.append(current)
                current = ""
            chunks.append(para[:cut].strip())
            para = para[cut:].strip()
        if current and len(current) + len(para) + 1 > SECTION_CHARS:
            chunks.append(current)
            current = ""
        current = f"{current}\n{para}".strip()
    if current:
        chunks.append(current)
    return chunks[:limit]


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def _scale_cosine(cos: float) -> float:
    return round(100.0 * min(max((cos - COSINE_FLOOR) / (COSINE_CEIL - COSINE_FLOOR), 0.0), 1.0), 1)


def z_score_points(z: float) -> float:
    """A catalog z-score as 0..100 points (see Z_MID, Z_SCALE)."""
    return round(100.0 / (1.0 + math.exp(-(z - Z_MID) / Z_SCALE)), 1)


def catalog_share_below(z: float) -> str:
    """The share of a normally spread catalog that scores below z, as a percentage for the explanation."""
    percent = 50.0 * (1.0 + math.erf(z / math.sqrt(2.0)))
    return f"{min(percent, 99.9):.1f}%" if percent >= 99 else f"{max(percent, 1.0):.0f}%"


class EvidenceEngine:
    """Deterministic screening; `embed` is optional (without it there is no semantic score)."""

    name = "evidence"
    version = VERSION

    def __init__(self, embed: Embed | None = None) -> None:
        self._embed = embed

    async def facts(self, inp: ScreeningInput) -> Facts:
        required, preferred, candidate = skill_facts(inp)
        have = {_key(s) for s in candidate}
        matched_req = [s for s in required if _key(s) in have]
        matched_pref = [s for s in preferred if _key(s) in have]
        weight = len(required) + PREFERRED_WEIGHT * len(preferred)
        skills = (
            None
            if weight == 0
            else round(100.0 * (len(matched_req) + PREFERRED_WEIGHT * len(matched_pref)) / weight, 1)
        )
        years, min_years = candidate_years(inp), required_years(inp)
        facts = Facts(
            required=required,
            preferred=preferred,
            candidate_skills=candidate,
            matched_required=matched_req,
            matched_preferred=matched_pref,
            missing=[s for s in required if _key(s) not in have],
            years=years,
            min_years=min_years,
            max_years=inp.job.max_experience,
            skills_score=skills,
            experience_score=experience_score(years, min_years, inp.job.max_experience),
        )
        if inp.match is not None:
            m = inp.match
            facts.match = m
            facts.lexical_score = z_score_points(m.lexical_z)
            facts.semantic_score = z_score_points(m.semantic_z)
            facts.relevance_score = z_score_points(m.fused_z)
        else:
            await self._semantic(inp, facts)
            facts.relevance_score = facts.semantic_score
        return facts

    async def _semantic(self, inp: ScreeningInput, facts: Facts) -> None:
        if self._embed is None:
            facts.semantic_error = "no embedding service configured"
            return
        job_parts = sections(f"{inp.job.title}\n\n{inp.job.description}", limit=6)
        resume_parts = sections(f"{inp.candidate.headline}\n\n{inp.candidate.resume_text}")
        if not job_parts or not resume_parts:
            facts.semantic_error = "empty job or resume text"
            return
        try:
            vectors = await self._embed(job_parts + resume_parts)
        except Exception as exc:  # any embedding failure only costs the semantic part, never the screening
            log.warning("embedding failed, scoring without semantics: %s", exc)
            # The reader of a screening is a recruiter: name the cause, never the RPC internals.
            facts.semantic_error = _embedding_failure_reason(exc)
            return
        job_vecs, resume_vecs = vectors[: len(job_parts)], vectors[len(job_parts) :]
        best: list[tuple[str, str, float]] = []
        for part, vec in zip(job_parts, job_vecs, strict=True):
            scores = [_cosine(vec, rv) for rv in resume_vecs]
            i = max(range(len(scores)), key=scores.__getitem__)
            best.append((part, resume_parts[i], scores[i]))
        facts.best_pairs = best
        facts.semantic_score = _scale_cosine(sum(c for _, _, c in best) / len(best))

    def score(self, facts: Facts, inp: ScreeningInput) -> tuple[int, float]:
        parts: dict[str, float] = {}
        if facts.relevance_score is not None:
            parts["relevance"] = facts.relevance_score
        if facts.skills_score is not None:
            parts["skills"] = facts.skills_score
        if facts.min_years > 0:
            parts["experience"] = facts.experience_score
        total_weight = sum(WEIGHTS[k] for k in parts)
        match = round(sum(WEIGHTS[k] * v for k, v in parts.items()) / total_weight) if total_weight else 0
        confidence = 0.3
        if facts.match is not None:
            confidence += 0.25
            # Words and meaning telling the same story is more evidence than either alone.
            confidence += 0.05 if abs(facts.match.lexical_z - facts.match.semantic_z) < 1.5 else 0.0
        elif facts.semantic_score is not None:
            confidence += 0.15
        text = len(inp.candidate.resume_text)
        confidence += 0.15 if text >= 400 else 0.05 if text >= 150 else 0.0
        confidence += 0.1 if len(facts.required) >= 3 else 0.05 if facts.required else 0.0
        confidence += 0.1 if facts.min_years <= 0 or facts.years is not None else 0.0
        return int(match), round(min(confidence, 0.95), 2)

    async def analyze(self, inp: ScreeningInput) -> EngineResult:
        facts = await self.facts(inp)
        match, confidence = self.score(facts, inp)
        analysis = Analysis(
            match_score=match,
            summary=_summary(facts, inp, match),
            strengths=_strengths(facts),
            weaknesses=_weaknesses(facts),
            missing_skills=facts.missing,
            matched_skills=facts.matched_required + facts.matched_preferred,
            interview_questions=build_questions(facts, inp),
            skills_score=facts.skills_score if facts.skills_score is not None else 0.0,
            experience_score=facts.experience_score,
            semantic_score=facts.semantic_score if facts.semantic_score is not None else 0.0,
            lexical_score=facts.lexical_score if facts.lexical_score is not None else 0.0,
            confidence=confidence,
            recommendation=_recommendation(match),
        )
        tools = ["skills.gazetteer"]
        if facts.match is not None:
            tools.append("search.ScoreCandidates")
        elif self._embed is not None:
            tools.append("embedding.Embed")
        return EngineResult(analysis=analysis, engine=self.name, engine_version=self.version, tool_calls=tools)

    async def interview_questions(self, inp: ScreeningInput) -> QuestionsResult:
        # Questions need only the skills and experience facts; skip the embedding round trip.
        required, preferred, candidate = skill_facts(inp)
        have = {_key(s) for s in candidate}
        years, min_years = candidate_years(inp), required_years(inp)
        facts = Facts(
            required=required,
            preferred=preferred,
            candidate_skills=candidate,
            matched_required=[s for s in required if _key(s) in have],
            matched_preferred=[s for s in preferred if _key(s) in have],
            missing=[s for s in required if _key(s) not in have],
            years=years,
            min_years=min_years,
            max_years=inp.job.max_experience,
            skills_score=None,
            experience_score=experience_score(years, min_years, inp.job.max_experience),
        )
        return QuestionsResult(questions=build_questions(facts, inp), engine=self.name, tool_calls=["skills.gazetteer"])


def _recommendation(match: int) -> str:
    if match >= 75:
        return "Strong match: advance to interview."
    if match >= 55:
        return "Possible match: a phone screen should probe the gaps."
    return "Weak match: only consider if the gaps are acceptable."


def _fmt_years(value: float) -> str:
    return f"{value:g} year" + ("" if value == 1 else "s")


def _summary(facts: Facts, inp: ScreeningInput, match: int) -> str:
    title = inp.job.title or "the job"
    parts = [f"Evidence-based screening for {title}: {match}/100."]
    if facts.required:
        parts.append(
            f"The resume shows {len(facts.matched_required)} of {len(facts.required)} required skills"
            + (f" and is missing {', '.join(facts.missing[:5])}." if facts.missing else ".")
        )
    else:
        parts.append(
            "The job lists no recognisable required skills, so the score leans on experience and text similarity."
        )
    if facts.min_years > 0:
        have = "unknown experience" if facts.years is None else _fmt_years(facts.years) + " of experience"
        parts.append(f"It shows {have} against a {facts.min_years:g}-year minimum.")
    if facts.match is not None:
        share = catalog_share_below(facts.match.fused_z)
        parts.append(
            f"Its wording and meaning match the job better than {share} of the catalog "
            f"(text relevance {facts.relevance_score:.0f}/100: keywords {facts.lexical_score:.0f}, "
            f"meaning {facts.semantic_score:.0f})."
        )
    elif facts.semantic_score is not None:
        parts.append(f"Resume-to-job text similarity scores {facts.semantic_score:.0f}/100.")
    else:
        parts.append(f"Text similarity was not scored ({facts.semantic_error}).")
    return " ".join(parts)


def _strengths(facts: Facts) -> list[str]:
    out: list[str] = []
    if facts.matched_required:
        out.append(
            f"Has {len(facts.matched_required)} of {len(facts.required)} required skills: "
            + ", ".join(facts.matched_required)
        )
    if facts.matched_preferred:
        out.append("Also has preferred skills: " + ", ".join(facts.matched_preferred))
    if facts.years is not None and facts.min_years > 0 and facts.years >= facts.min_years:
        out.append(f"{_fmt_years(facts.years)} of experience meets the {facts.min_years:g}-year minimum")
    if facts.match is not None and facts.relevance_score is not None and facts.relevance_score >= 60:
        out.append(
            f"Resume closely matches the job's wording and meaning (text relevance "
            f"{facts.relevance_score:.0f}/100, above {catalog_share_below(facts.match.fused_z)} of the catalog)"
        )
    elif facts.semantic_score is not None and facts.semantic_score >= 60 and facts.best_pairs:
        _part, resume, cos = max(facts.best_pairs, key=lambda p: p[2])
        out.append(f'Resume text closely matches the job (cosine {cos:.2f}): "{_snippet(resume)}"')
    return out


def _weaknesses(facts: Facts) -> list[str]:
    out: list[str] = []
    if facts.missing:
        out.append("Missing required skills: " + ", ".join(facts.missing))
    if facts.min_years > 0 and facts.years is None:
        out.append(f"Years of experience not stated; the job asks for {facts.min_years:g}")
    elif facts.years is not None and facts.min_years > 0 and facts.years < facts.min_years:
        out.append(f"{_fmt_years(facts.years)} of experience, below the {facts.min_years:g}-year minimum")
    elif facts.years is not None and facts.max_years > 0 and facts.years > facts.max_years + 5:
        out.append(f"{_fmt_years(facts.years)} of experience, well above the {facts.max_years:g}-year range")
    if facts.relevance_score is not None and facts.relevance_score < 35:
        out.append(f"Little overlap between the resume and the job description ({facts.relevance_score:.0f}/100)")
    return out


def _snippet(text: str, limit: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + "…"


def _embedding_failure_reason(exc: Exception) -> str:
    code = code_of(exc)  # a failed call or the domain error it became (hiremesh.rpc_errors)
    if code == grpc.StatusCode.UNAVAILABLE or isinstance(exc, ConnectionError):
        return "the embedding service is unavailable"
    if code == grpc.StatusCode.DEADLINE_EXCEEDED or isinstance(exc, TimeoutError):
        return "the embedding service did not answer in time"
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return "the embedding service is overloaded"
    return "the embedding service returned an error"
