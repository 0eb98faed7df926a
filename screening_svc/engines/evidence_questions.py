"""Interview questions built from the evidence: gaps first, then claimed skills, experience and the role.

Always exactly `inp.questions` questions, each ending with '?', each naming a concrete skill, requirement or
the role, so none is a generic "tell me about yourself".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from screening_svc.engines.base import Question, ScreeningInput

if TYPE_CHECKING:
    from screening_svc.engines.evidence import Facts

_GAP = [
    "The role requires {skill}, which your resume does not mention. What experience do you have with {skill} "
    "or a closely related technology, and how would you get productive with it?",
    "How would you approach a first task that depends on {skill}, given that it does not appear on your resume?",
]
_CLAIMED = [
    "Your resume lists {skill}. Describe a project where you used {skill}: what problem did it solve and what "
    "was your own contribution?",
    "What is the hardest problem you have solved with {skill}, and what would you do differently today?",
]
_PREFERRED = "The job also values {skill}, which you list. Where have you applied {skill} in production work?"
_EXPERIENCE_GAP = (
    "The role asks for {need} years of experience and your resume shows {have}. Which of your projects best "
    "shows you can already work at that level?"
)
_EXPERIENCE_UNKNOWN = "How many years have you worked hands-on with {topic}, and in which roles?"
_ROLE = [
    "Which responsibilities of the {title} role are closest to work you have already delivered, and what was "
    "the measurable result?",
    "What would you want to learn or change in your first 90 days as {title}{at}?",
    "Walk us through a technical decision you made that would be relevant to the {title} role: what were the "
    "alternatives and trade-offs?",
    "Which part of the {title} role would stretch you the most, and how would you close that gap?",
    "Describe the team setup and development process you worked in most recently; how would it compare to "
    "this {title} role?",
    "What is a recent piece of work in your field that you are proud of, and how does it prepare you for the "
    "{title} role?",
]


def build_questions(facts: Facts, inp: ScreeningInput) -> list[Question]:
    n = max(inp.questions, 1)
    title = inp.job.title.strip() or "this"
    at = f" at {inp.job.company}" if inp.job.company else ""
    out: list[Question] = []
    seen: set[str] = set()

    def add(text: str, rationale: str, skill: str = "") -> None:
        if len(out) < n and text not in seen:
            seen.add(text)
            out.append(Question(question=text, rationale=rationale, skill=skill))

    gaps, claimed = facts.missing, facts.matched_required
    # Interleave so both gaps and verification of claims get asked even when n is small.
    for i in range(max(len(gaps), len(claimed))):
        if i < len(gaps) and i < 3:
            add(_GAP[i % len(_GAP)].format(skill=gaps[i]), f"gap: {gaps[i].lower()}", gaps[i])
        if i < len(claimed) and i < 3:
            add(_CLAIMED[i % len(_CLAIMED)].format(skill=claimed[i]), f"claimed: {claimed[i].lower()}", claimed[i])
    if facts.min_years > 0:
        if facts.years is None:
            topic = facts.required[0] if facts.required else f"work like the {title} role"
            add(_EXPERIENCE_UNKNOWN.format(topic=topic), "gap: years of experience not stated")
        elif facts.years < facts.min_years:
            add(
                _EXPERIENCE_GAP.format(need=f"{facts.min_years:g}", have=f"{facts.years:g}"),
                "gap: experience below the minimum",
            )
    for skill in facts.matched_preferred[:2]:
        add(_PREFERRED.format(skill=skill), f"claimed: {skill.lower()}", skill)
    for i, skill in enumerate(gaps[3:] + claimed[3:]):
        template = _GAP[1] if skill in gaps else _CLAIMED[1]
        add(template.format(skill=skill), ("gap: " if skill in gaps else "claimed: ") + skill.lower(), skill)
        if i > 4:
            break
    for template in _ROLE:
        add(template.format(title=title, at=at), f"role: {title.lower()}")
    # The banks above hold more than any sensible n; number extra questions rather than repeat one.
    k = 1
    while len(out) < n:
        add(
            f"Which achievement number {k} on your resume is most relevant to the {title} role, and why?",
            f"role: {title.lower()}",
        )
        k += 1
    return out
