"""The arguments of the operator commands in hiremesh_ops/ops_cli.py (seed-demo, import, search, screen, migrate).

Kept apart from ops_cli so that building `hiremesh`'s parser imports argparse only: every image's healthcheck
runs `hiremesh probe`, and an image holds core dependencies plus its service's extra, not rich or the clients.
"""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    seed = sub.add_parser("seed-demo", help="generate realistic demo jobs, candidates and applications")
    seed.add_argument("--jobs", type=int, default=12)
    seed.add_argument("--candidates", type=int, default=200)
    seed.add_argument("--seed", type=int, default=7)
    imp = sub.add_parser(
        "import", help="import resume files or folders (PDF, DOCX, DOC, ODT, RTF, HTML, text, PNG/JPEG scans, JSONL)"
    )
    imp.add_argument("paths", nargs="+")
    srch = sub.add_parser("search", help="search candidates (or --jobs) by free text")
    srch.add_argument("text")
    srch.add_argument("--jobs", action="store_true")
    srch.add_argument("--mode", choices=["hybrid", "vector", "keyword"], default="hybrid")
    srch.add_argument("-k", "--top-k", type=int, default=10)
    scr = sub.add_parser("screen", help="screen a candidate against a job, showing live progress")
    scr.add_argument("--application", default="")
    scr.add_argument("--candidate", default="")
    scr.add_argument("--job", default="")
    scr.add_argument("--engine", choices=["auto", "llm", "evidence"], default="auto")
    sub.add_parser("migrate", help="apply every schema's SQL migrations to HIREMESH_DATABASE_URL")
