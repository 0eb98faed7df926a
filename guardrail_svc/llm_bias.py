"""Optional second opinion on bias from the screening LLM (HIREMESH_GUARDRAIL_LLM_BIAS, off by default).

The lexicon catches explicit terms; an LLM can flag coded language it does not list. Its answer is parsed
leniently and each reported term is located in the text; terms it invents are dropped. A failing LLM never
fails the scan: the lexicon findings stand and the error is logged.
"""

from __future__ import annotations

import logging

from guardrail_svc.bias import find_bias
from guardrail_svc.report import BiasFinding, Severity
from hiremesh.analysis import NoJSONObject, extract_json_object

log = logging.getLogger("guardrail_svc.llm_bias")

CATEGORIES = ("age", "gender", "race_ethnicity", "disability", "religion", "appearance", "family_status")
PROMPT = (
    "You review recruiting text for language that discriminates or signals a preference on a protected "
    "attribute (" + ", ".join(CATEGORIES) + "). Ignore equal-opportunity statements and job seniority words. "
    'Answer with JSON only: {"findings": [{"term": "<exact words from the text>", "category": "<one of the '
    'categories>", "severity": "low|medium|high|critical", "alternative": "<neutral wording>", '
    '"explanation": "<one sentence>"}]}. Use an empty list when there is nothing.'
)


def parse_llm_findings(text: str, answer: str) -> list[BiasFinding]:
    """Findings from the LLM's JSON answer whose term really occurs in `text` (case-insensitive)."""
    try:
        payload, _ = extract_json_object(answer)  # the extraction screening's LLM engine uses too
    except NoJSONObject:
        return []
    items = payload.get("findings", [])
    lowered = text.lower()
    out: list[BiasFinding] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("term"), str) or not item["term"].strip():
            continue
        term = item["term"].strip()
        pos = lowered.find(term.lower())
        category = str(item.get("category", "")).lower()
        if pos < 0 or category not in CATEGORIES:
            continue
        severity = Severity.__members__.get(str(item.get("severity", "medium")).upper(), Severity.MEDIUM)
        if severity == Severity.UNSPECIFIED:
            severity = Severity.MEDIUM
        out.append(
            BiasFinding(
                text[pos : pos + len(term)],
                category,
                severity,
                pos,
                pos + len(term),
                str(item.get("alternative", "")),
                "LLM review: " + str(item.get("explanation", "")),
            )
        )
    return out


class LlmBiasChecker:
    def __init__(self, base_url: str, model: str, api_key: str, timeout_s: float) -> None:
        from openai import AsyncOpenAI

        self._client = AsyncOpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=1)
        self._model = model

    async def check(self, text: str) -> list[BiasFinding]:
        try:
            response = await self._client.chat.completions.create(
                model=self._model,
                temperature=0,
                max_tokens=512,
                messages=[{"role": "system", "content": PROMPT}, {"role": "user", "content": text[:8000]}],
            )
        except Exception as exc:  # the LLM is an optional extra: log and keep the lexicon's findings
            log.warning("LLM bias check failed: %s", exc)
            return []
        answer = response.choices[0].message.content or ""
        return parse_llm_findings(text, answer)

    async def close(self) -> None:
        await self._client.close()


def merge(lexicon: list[BiasFinding], llm: list[BiasFinding]) -> list[BiasFinding]:
    """Lexicon findings plus LLM findings that do not overlap them."""
    extra = [f for f in llm if all(f.end <= g.start or f.start >= g.end for g in lexicon)]
    return sorted(lexicon + extra, key=lambda f: f.start)


__all__ = ["LlmBiasChecker", "find_bias", "merge", "parse_llm_findings"]
