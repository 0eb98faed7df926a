"""Resume formats benchmark: the real recruiter files and OCR'd renderings through the REST API of a running mesh.

    source .hiremesh/env.sh && .venv/bin/hiremesh up          # in another shell: a private mesh
    .venv/bin/python bench/formats.py [--data ../shared/data] [--ocr-samples 4] [--out F]

The admin token is read from $HIREMESH_HOME/admin-token (or --token); the gateway from HIREMESH_GATEWAY_PORT.

Part 1: every file in data/resume-files is uploaded as a recruiter would (POST /api/v1/candidates, multipart).
Per received format: accepted, rejected (with reason), characters of text, round-trip time through the API
(parse in a worker + profile + embedding + insert) and, for reference, the in-process parse time of the
same bytes. For each .doc that has a .docx twin: the word-sequence similarity of the two extracted texts,
next to the same figure for Debian's `antiword` (the baseline; when installed) in the same run.

Part 2 (OCR): a few real resume texts from data/resumes-dev.csv are rendered to PNG and to an image-only
PDF, uploaded, and the returned text compared with the source: character accuracy (1 - CER) and word
accuracy (1 - WER), whitespace normalised. Baseline in the same run: RapidOCR with its defaults (angle
classifier on, no space bias) on the same PNGs, in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import difflib
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402

from hiremesh import config  # noqa: E402
from search_svc import ingest  # noqa: E402

TIMEOUT = "300s"


def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return platform.processor()
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    flags = fields.get("Flags", "").split()
    wanted = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni") if f in flags]
    return f"{fields.get('Model name', '?').strip()}, {os.cpu_count()} CPUs, flags: {' '.join(wanted) or 'none'}"


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, words(a), words(b), autojunk=False).ratio()


def edit_distance(a: list[str] | str, b: list[str] | str) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def normalised(text: str) -> str:
    return " ".join(text.split())


def accuracy(source: str, read: str) -> tuple[float, float]:
    s, r = normalised(source), normalised(read)
    cer = edit_distance(s, r) / max(1, len(s))
    wer = edit_distance(s.split(), r.split()) / max(1, len(s.split()))
    return max(0.0, 1 - cer), max(0.0, 1 - wer)


def demojibake(text: str) -> str:
    # resumes-dev.csv holds UTF-8 that was once decoded as cp1252 ("â€¢" for "•"): undo it where it applies.
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


class Api:
    def __init__(self, http: aiohttp.ClientSession, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}", "X-Request-Timeout": TIMEOUT}

    async def upload(self, name: str, content: bytes) -> tuple[int, dict[str, Any], float]:
        form = aiohttp.FormData()
        form.add_field("resume", content, filename=name, content_type="application/octet-stream")
        began = time.perf_counter()
        async with self.http.post("/api/v1/candidates", data=form, headers=self.headers) as resp:
            body = await resp.json()
            return resp.status, body, time.perf_counter() - began


def antiword_text(path: Path) -> str | None:
    if shutil.which("antiword") is None:
        return None
    done = subprocess.run(
        ["antiword", "-m", "UTF-8.txt", "-w", "0", str(path)], capture_output=True, text=True, check=False
    )
    return done.stdout if done.returncode == 0 else ""


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


async def files_part(api: Api, folder: Path) -> dict[str, Any]:
    paths = await asyncio.to_thread(files_under, folder)
    per: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "files": 0,
            "accepted": 0,
            "rejected": [],
            "chars": [],
            "api_s": [],
            "parse_s": [],
            "sniffed": defaultdict(int),
        }
    )
    texts: dict[Path, str] = {}
    for path in paths:
        suffix = path.suffix.lower() or "(none)"
        row = per[suffix]
        row["files"] += 1
        content = path.read_bytes()
        began = time.perf_counter()
        try:
            ingest.extract(content, "", path.name)
        except Exception:  # the API's answer is what is reported; this is only the timing
            pass
        row["parse_s"].append(time.perf_counter() - began)
        status, body, seconds = await api.upload(path.name, content)
        row["api_s"].append(seconds)
        if status in (200, 201):
            candidate = body["candidate"]
            row["accepted"] += 1
            row["chars"].append(len(candidate["resume_text"]))
            row["sniffed"][candidate["resume_media_type"]] += 1
            texts[path] = candidate["resume_text"]
        else:
            row["rejected"].append(
                {"file": str(path.relative_to(folder)), "status": status, "reason": body.get("message", "")}
            )
    twins: list[dict[str, Any]] = []
    for doc in sorted(p for p in texts if p.suffix.lower() == ".doc"):
        twin = doc.with_suffix(".docx")
        if twin in texts:
            baseline = antiword_text(doc)
            twins.append(
                {
                    "file": str(doc.relative_to(folder)),
                    "hiremesh": similarity(texts[doc], texts[twin]),
                    "antiword": None if baseline is None else similarity(baseline, texts[twin]),
                }
            )
    formats = {}
    for suffix, row in sorted(per.items()):
        formats[suffix] = {
            "files": row["files"],
            "accepted": row["accepted"],
            "rejected": len(row["rejected"]),
            "rejections": row["rejected"],
            "sniffed_as": dict(row["sniffed"]),
            "chars_median": int(statistics.median(row["chars"])) if row["chars"] else 0,
            "chars_total": sum(row["chars"]),
            "api_s_median": round(statistics.median(row["api_s"]), 3),
            "api_s_max": round(max(row["api_s"]), 3),
            "parse_s_median": round(statistics.median(row["parse_s"]), 4),
            "parse_s_max": round(max(row["parse_s"]), 4),
        }
    out: dict[str, Any] = {"files": len(paths), "formats": formats, "doc_twins": twins}
    if twins:
        ours = [t["hiremesh"] for t in twins]
        out["doc_twin_similarity"] = {
            "n": len(twins),
            "hiremesh_mean": round(statistics.fmean(ours), 4),
            "hiremesh_min": round(min(ours), 4),
        }
        base = [t["antiword"] for t in twins if t["antiword"] is not None]
        if base:
            out["doc_twin_similarity"].update(
                antiword_mean=round(statistics.fmean(base), 4), antiword_min=round(min(base), 4)
            )
    return out


def render(text: str) -> tuple[bytes, bytes, Any]:
    from tests.search_svc.format_files import text_image

    lines = [line for paragraph in text.splitlines() for line in (textwrap.wrap(paragraph, 80) or [])]
    image = text_image(lines, size=26, width=1654)  # A4 width at 200 dpi
    png, pdf = io.BytesIO(), io.BytesIO()
    image.save(png, "PNG")
    image.convert("RGB").save(pdf, "PDF", resolution=200)
    return png.getvalue(), pdf.getvalue(), image


def library_defaults_text(image: Any) -> str:
    import numpy as np
    from rapidocr_onnxruntime import RapidOCR

    from search_svc.formats.ocr import lines_from

    engine = RapidOCR(print_verbose=False)
    result, _ = engine(np.asarray(image.convert("RGB")))
    return lines_from(result or [])


async def ocr_part(api: Api, csv_path: Path, samples: int, chars: int) -> dict[str, Any]:
    with csv_path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    step = max(1, len(rows) // samples)
    picked = [rows[i] for i in range(0, len(rows), step)][:samples]
    results = []
    for i, row in enumerate(picked):
        source = "\n".join(line.strip() for line in demojibake(row["resume"])[:chars].splitlines() if line.strip())
        png, pdf, image = render(source)
        entry: dict[str, Any] = {"sample": i, "category": row["category"], "chars": len(source)}
        for kind, content in (("png", png), ("scanned_pdf", pdf)):
            status, body, seconds = await api.upload(f"ocr-{i}.{kind.split('_')[-1]}", content)
            text = body["candidate"]["resume_text"] if status in (200, 201) else ""
            char_acc, word_acc = accuracy(source, text)
            entry[kind] = {
                "status": status,
                "char_accuracy": round(char_acc, 4),
                "word_accuracy": round(word_acc, 4),
                "api_s": round(seconds, 2),
                "error": "" if text else body.get("message", ""),
            }
        began = time.perf_counter()
        char_acc, word_acc = accuracy(source, library_defaults_text(image))
        entry["baseline_defaults_png"] = {
            "char_accuracy": round(char_acc, 4),
            "word_accuracy": round(word_acc, 4),
            "s": round(time.perf_counter() - began, 2),
        }
        results.append(entry)
        print(json.dumps(entry), flush=True)

    def mean(kind: str, key: str) -> float:
        return round(statistics.fmean(r[kind][key] for r in results), 4)

    return {
        "samples": results,
        "mean": {
            k: {"char_accuracy": mean(k, "char_accuracy"), "word_accuracy": mean(k, "word_accuracy")}
            for k in ("png", "scanned_pdf", "baseline_defaults_png")
        },
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent.parent / "shared" / "data")
    parser.add_argument("--url", default=f"http://127.0.0.1:{config.service_port('gateway')}")
    parser.add_argument("--token", default="")
    parser.add_argument("--ocr-samples", type=int, default=4)
    parser.add_argument("--ocr-chars", type=int, default=1500, help="characters of each resume rendered")
    parser.add_argument("--skip-files", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    token = args.token or (config.home() / "admin-token").read_text().strip()
    report: dict[str, Any] = {"cpu": cpu_name(), "gateway": args.url}
    async with aiohttp.ClientSession(base_url=args.url, timeout=aiohttp.ClientTimeout(total=600)) as http:
        api = Api(http, token)
        if not args.skip_files:
            report["resume_files"] = await files_part(api, args.data / "resume-files")
            print(json.dumps(report["resume_files"], indent=1), flush=True)
        if args.ocr_samples:
            report["ocr"] = await ocr_part(api, args.data / "resumes-dev.csv", args.ocr_samples, args.ocr_chars)
    text = json.dumps(report, indent=1)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    asyncio.run(main())
