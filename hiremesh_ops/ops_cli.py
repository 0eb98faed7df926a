"""Operator commands over gRPC: seed-demo, import, search, screen, migrate."""

from __future__ import annotations

import argparse
import asyncio
import json
import mimetypes
from pathlib import Path

import grpc
from google.protobuf import json_format
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hiremesh import config
from hiremesh.clients import screening_stub, search_stub
from hiremesh.v1 import common_pb2, screening_pb2, search_pb2, search_pb2_grpc
from hiremesh_ops import demo
from hiremesh_ops.rpc_failure import describe

console = Console()
TIMEOUT = 600.0


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=console,
    )


def _search_stub() -> search_pb2_grpc.SearchServiceAsyncStub:
    return search_stub()


async def _import_stream(request: search_pb2.ImportCandidatesRequest, label: str) -> search_pb2.ImportSummary:
    summary = search_pb2.ImportSummary()
    with _progress() as bar:
        task = bar.add_task(label, total=None, note="")
        async for event in _search_stub().ImportCandidates(request, timeout=TIMEOUT):
            p = event.progress
            bar.update(task, total=p.total or None, completed=p.done, note=f"failed {p.failed}" if p.failed else "")
            for err in event.errors:
                console.print(f"[red]failed[/red] {err.source}: {err.reason}")
            if event.HasField("summary"):
                summary = event.summary
    return summary


async def seed_demo(jobs: int, candidates: int, seed: int) -> int:
    stub = _search_stub()
    made_jobs = []
    with _progress() as bar:
        task = bar.add_task("jobs", total=jobs, note="")
        for job in demo.make_jobs(jobs, seed):
            reply = await stub.CreateJob(
                search_pb2.CreateJobRequest(
                    job=search_pb2.Job(
                        title=job.title,
                        description=job.description,
                        location=job.location,
                        company=job.company,
                        min_experience=job.min_experience,
                        required_skills=job.required_skills,
                        status=common_pb2.JOB_STATUS_OPEN,
                    )
                ),
                timeout=60,
            )
            made_jobs.append(reply.job.id)
            bar.advance(task)
    records = [
        json.dumps(
            {
                "name": c.name,
                "email": c.email,
                "phone": c.phone,
                "location": c.location,
                "years_experience": c.years_experience,
                "skills": c.skills,
                "resume_text": c.resume_text,
            }
        )
        for c in demo.make_candidates(candidates, seed)
    ]
    summary = await _import_stream(search_pb2.ImportCandidatesRequest(jsonl_records=records), "candidates")
    applied = 0
    with _progress() as bar:
        task = bar.add_task("applications", total=len(summary.candidate_ids), note="")
        for i, candidate_id in enumerate(summary.candidate_ids):
            job_id = made_jobs[i % len(made_jobs)]
            try:
                await stub.CreateApplication(
                    search_pb2.CreateApplicationRequest(
                        application=search_pb2.Application(candidate_id=candidate_id, job_id=job_id)
                    ),
                    timeout=60,
                )
                applied += 1
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.ALREADY_EXISTS:
                    raise
            bar.advance(task)
    console.print(
        f"seeded {len(made_jobs)} jobs, {summary.created} new candidates "
        f"({summary.duplicates} already there), {applied} applications"
    )
    return 0


def _import_request(paths: list[str]) -> search_pb2.ImportCandidatesRequest:
    """The import request for files and folders on this machine (reads the files: run it off the loop)."""
    request = search_pb2.ImportCandidatesRequest()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            request.folder = str(path.absolute())
        else:
            media = mimetypes.guess_type(path.name)[0] or ""
            request.files.append(
                search_pb2.ResumeFile(file_name=path.name, media_type=media, content=path.read_bytes())
            )
    return request


async def import_files(paths: list[str]) -> int:
    request = await asyncio.to_thread(_import_request, paths)
    summary = await _import_stream(request, "import")
    console.print(f"created {summary.created}, duplicates {summary.duplicates}, failed {summary.failed}")
    return 0 if summary.failed == 0 else 1


async def search(text: str, jobs: bool, mode: str, top_k: int) -> int:
    options = search_pb2.SearchOptions(mode=search_pb2.SearchMode.Value(f"SEARCH_MODE_{mode.upper()}"), top_k=top_k)
    stub = _search_stub()
    table = Table("score", "cosine", "matched skills", "job" if jobs else "candidate", "id")
    if jobs:
        reply_j = await stub.SearchJobs(search_pb2.SearchJobsRequest(text=text, options=options), timeout=60)
        for hit in reply_j.hits:
            table.add_row(
                f"{hit.match.score:.4f}",
                f"{hit.match.cosine_similarity:.3f}",
                ", ".join(hit.match.matched_skills),
                hit.job.title,
                hit.job.id,
            )
    else:
        reply_c = await stub.SearchCandidates(
            search_pb2.SearchCandidatesRequest(text=text, options=options), timeout=60
        )
        for c_hit in reply_c.hits:
            table.add_row(
                f"{c_hit.match.score:.4f}",
                f"{c_hit.match.cosine_similarity:.3f}",
                ", ".join(c_hit.match.matched_skills),
                c_hit.candidate.name,
                c_hit.candidate.id,
            )
    console.print(table)
    return 0


async def screen(application_id: str, candidate_id: str, job_id: str, engine: str) -> int:
    stub = screening_stub()
    request = screening_pb2.ScreenRequest(
        application_id=application_id,
        candidate_id=candidate_id,
        job_id=job_id,
        engine=screening_pb2.Engine.Value(f"ENGINE_{engine.upper()}"),
    )
    result = None
    with _progress() as bar:
        task = bar.add_task("screening", total=100, note="")
        async for reply in stub.Screen(request, timeout=TIMEOUT):
            event = reply.event
            stage = screening_pb2.ScreeningStage.Name(event.stage).removeprefix("SCREENING_STAGE_").lower()
            bar.update(task, completed=event.percent, note=stage)
            if event.error:
                console.print(f"[red]failed:[/red] {event.error}")
                return 1
            if event.HasField("result"):
                result = event.result
    if result is not None:
        console.print_json(json_format.MessageToJson(result, preserving_proto_field_name=True))
    return 0


async def migrate() -> int:
    from hiremesh.db import migrate as apply

    url = config.database_url()
    for schema, migrations in await asyncio.to_thread(_migration_folders):
        applied = await apply(url, schema, migrations)
        console.print(f"{schema}: {len(applied)} migration(s) applied")
    return 0


def _migration_folders() -> list[tuple[str, Path]]:
    """(schema, folder) of every service's migrations present in this tree, in the order they apply."""
    repo = Path(__file__).resolve().parents[1]
    found = []
    for schema, folder in (("catalog", "search_svc"), ("screening", "screening_svc"), ("auth", "gateway")):
        migrations = repo / folder / "migrations"
        if migrations.is_dir():
            found.append((schema, migrations))
    return found


def run(args: argparse.Namespace) -> int:
    try:
        if args.command == "seed-demo":
            return asyncio.run(seed_demo(args.jobs, args.candidates, args.seed))
        if args.command == "import":
            return asyncio.run(import_files(args.paths))
        if args.command == "search":
            return asyncio.run(search(args.text, args.jobs, args.mode, args.top_k))
        if args.command == "screen":
            return asyncio.run(screen(args.application, args.candidate, args.job, args.engine))
        if args.command == "migrate":
            return asyncio.run(migrate())
    except grpc.aio.AioRpcError as exc:
        backend = "screening" if args.command == "screen" else "search"
        console.print(f"[red]hiremesh {args.command}[/red]: {escape(describe(exc, backend))}")
        return 1
    return 2
