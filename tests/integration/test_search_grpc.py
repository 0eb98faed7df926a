"""search_svc as a real process over gRPC: real PostgreSQL + pgvector, real embedding service, real files.

The session service's database is shared with other tests, so each test tags its rows (a unique location
or skill) and filters on the tag when it asserts on what a search returns.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2

from hiremesh.clients import search_stub
from hiremesh.v1 import common_pb2, search_pb2_grpc
from hiremesh.v1 import search_pb2 as pb
from tests import real_resumes
from tests.fixtures.embedding import EMBEDDING_HEALTH, embedding_models_dir
from tests.fixtures.pg import create_database
from tests.fixtures.procs import ServiceProcess, free_port, spawn_service, start_process
from tests.fixtures.search import SEARCH_HEALTH, search_env
from tests.search_svc.resumes import RESUME_LINES, docx_bytes, encrypted_pdf_bytes, pdf_bytes

T = 30.0
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def stub(search_addr: str) -> search_pb2_grpc.SearchServiceAsyncStub:
    return search_stub(search_addr)


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


def tag() -> str:
    return "loc" + uuid.uuid4().hex[:10]


def opts(mode: pb.SearchMode.ValueType = pb.SEARCH_MODE_HYBRID, top_k: int = 10, **filters: Any) -> pb.SearchOptions:
    return pb.SearchOptions(mode=mode, top_k=top_k, filters=pb.SearchFilters(**filters))


async def make(stub: search_pb2_grpc.SearchServiceAsyncStub, text: str, **fields: Any) -> pb.Candidate:
    reply = await stub.CreateCandidate(
        pb.CreateCandidateRequest(candidate=pb.Candidate(resume_text=text, **fields)), timeout=T
    )
    return reply.candidate


async def code_of(call: Awaitable[object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code(), err.value.details() or ""


# --- CRUD ---------------------------------------------------------------------------------------------------


async def test_candidate_round_trip_with_field_mask_update(stub: search_pb2_grpc.SearchServiceAsyncStub) -> None:
    loc = tag()
    cand = await make(
        stub,
        "Ada Lovelace\nAnalytical engine programmer, 7 years of experience with Python",
        location=loc,
        email="ada@example.com",
    )
    assert cand.name == "Ada Lovelace" and cand.years_experience == 7 and cand.skills == ["Python"]
    assert not cand.embedding_stale and cand.embedded_at.seconds > 0
    got = (await stub.GetCandidate(pb.GetCandidateRequest(id=cand.id), timeout=T)).candidate
    assert got == cand

    # Only masked fields change; a non-text change keeps the vector fresh.
    updated = (
        await stub.UpdateCandidate(
            pb.UpdateCandidateRequest(
                candidate=pb.Candidate(id=cand.id, phone="+1 555 0100", name="ignored"), update_mask=mask("phone")
            ),
            timeout=T,
        )
    ).candidate
    assert updated.phone == "+1 555 0100" and updated.name == "Ada Lovelace"
    assert not updated.embedding_stale
    assert updated.embedded_at.ToDatetime() >= cand.embedded_at.ToDatetime()

    code, details = await code_of(
        stub.UpdateCandidate(
            pb.UpdateCandidateRequest(candidate=pb.Candidate(id=cand.id), update_mask=mask("resume_sha256")), timeout=T
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "update_mask" in details

    await stub.DeleteCandidate(pb.DeleteCandidateRequest(id=cand.id), timeout=T)
    code, _ = await code_of(stub.GetCandidate(pb.GetCandidateRequest(id=cand.id), timeout=T))
    assert code == grpc.StatusCode.NOT_FOUND
    code, _ = await code_of(stub.DeleteCandidate(pb.DeleteCandidateRequest(id=cand.id), timeout=T))
    assert code == grpc.StatusCode.NOT_FOUND
    code, details = await code_of(stub.GetCandidate(pb.GetCandidateRequest(id="not-a-uuid"), timeout=T))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "id" in details


async def test_job_round_trip_and_validation(stub: search_pb2_grpc.SearchServiceAsyncStub) -> None:
    job = (
        await stub.CreateJob(
            pb.CreateJobRequest(
                job=pb.Job(
                    title="Site Reliability Engineer",
                    description="Keep k8s and Postgres healthy",
                    min_experience=3,
                    required_skills=["k8s", "postgres"],
                    location=tag(),
                )
            ),
            timeout=T,
        )
    ).job
    assert job.status == common_pb2.JOB_STATUS_OPEN
    assert job.required_skills == ["Kubernetes", "PostgreSQL"]
    assert not job.embedding_stale
    closed = (
        await stub.UpdateJob(
            pb.UpdateJobRequest(job=pb.Job(id=job.id, status=common_pb2.JOB_STATUS_CLOSED), update_mask=mask("status")),
            timeout=T,
        )
    ).job
    assert closed.status == common_pb2.JOB_STATUS_CLOSED and closed.title == job.title
    for status, expected in ((common_pb2.JOB_STATUS_CLOSED, [job.id]), (common_pb2.JOB_STATUS_OPEN, [])):
        listed = await stub.ListJobs(
            pb.ListJobsRequest(location=job.location, status=status, skill="kubernetes"), timeout=T
        )
        assert [j.id for j in listed.jobs] == expected and listed.total_size == len(expected)
    code, details = await code_of(stub.CreateJob(pb.CreateJobRequest(job=pb.Job(title=" ")), timeout=T))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "job.title" in details
    code, details = await code_of(
        stub.CreateJob(pb.CreateJobRequest(job=pb.Job(title="x", min_experience=5, max_experience=2)), timeout=T)
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "max_experience" in details


async def test_applications_unique_decided_at_and_unknown_ids(stub: search_pb2_grpc.SearchServiceAsyncStub) -> None:
    cand = await make(stub, f"Grace Hopper\nCOBOL pioneer {tag()}")
    job = (await stub.CreateJob(pb.CreateJobRequest(job=pb.Job(title="Compiler engineer")), timeout=T)).job
    app = (
        await stub.CreateApplication(
            pb.CreateApplicationRequest(application=pb.Application(candidate_id=cand.id, job_id=job.id)), timeout=T
        )
    ).application
    assert app.status == common_pb2.APPLICATION_STATUS_PENDING and not app.HasField("decided_at")

    code, _ = await code_of(
        stub.CreateApplication(
            pb.CreateApplicationRequest(application=pb.Application(candidate_id=cand.id, job_id=job.id)), timeout=T
        )
    )
    assert code == grpc.StatusCode.ALREADY_EXISTS
    code, details = await code_of(
        stub.CreateApplication(
            pb.CreateApplicationRequest(application=pb.Application(candidate_id=str(uuid.uuid4()), job_id=job.id)),
            timeout=T,
        )
    )
    assert code == grpc.StatusCode.NOT_FOUND and "candidate_id" in details
    code, details = await code_of(
        stub.CreateApplication(
            pb.CreateApplicationRequest(application=pb.Application(candidate_id=cand.id, job_id=str(uuid.uuid4()))),
            timeout=T,
        )
    )
    assert code == grpc.StatusCode.NOT_FOUND and "job_id" in details

    async def set_status(status: common_pb2.ApplicationStatus.ValueType) -> pb.Application:
        return (
            await stub.UpdateApplication(
                pb.UpdateApplicationRequest(
                    application=pb.Application(id=app.id, status=status), update_mask=mask("status")
                ),
                timeout=T,
            )
        ).application

    assert not (await set_status(common_pb2.APPLICATION_STATUS_REVIEWING)).HasField("decided_at")
    hired = await set_status(common_pb2.APPLICATION_STATUS_HIRED)
    assert hired.HasField("decided_at") and hired.decided_at.ToDatetime() >= hired.applied_at.ToDatetime()
    listed = await stub.ListApplications(pb.ListApplicationsRequest(job_id=job.id), timeout=T)
    assert [a.id for a in listed.applications] == [app.id] and listed.total_size == 1

    # Deleting the candidate removes their applications with them.
    await stub.DeleteCandidate(pb.DeleteCandidateRequest(id=cand.id), timeout=T)
    code, _ = await code_of(stub.GetApplication(pb.GetApplicationRequest(id=app.id), timeout=T))
    assert code == grpc.StatusCode.NOT_FOUND


async def test_pagination_is_stable_and_complete(stub: search_pb2_grpc.SearchServiceAsyncStub) -> None:
    loc = tag()
    made = {
        (await make(stub, f"Person {i} {loc}\nwarehouse operative", name=f"P{i}", location=loc)).id for i in range(23)
    }
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        reply = await stub.ListCandidates(
            pb.ListCandidatesRequest(location=loc, page_size=5, page_token=token), timeout=T
        )
        assert reply.total_size >= 23
        seen += [c.id for c in reply.candidates]
        pages += 1
        if pages == 2:  # rows added mid-walk come after the cursor: nothing is skipped or repeated
            await make(stub, f"Late joiner {loc}\nwarehouse operative", name="Late", location=loc)
        token = reply.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) == 24
    assert made <= set(seen)
    code, details = await code_of(stub.ListCandidates(pb.ListCandidatesRequest(page_token="garbage"), timeout=T))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in details
    first = await stub.ListCandidates(pb.ListCandidatesRequest(location=loc, page_size=5), timeout=T)
    code, _ = await code_of(
        stub.ListCandidates(
            pb.ListCandidatesRequest(location="elsewhere", page_size=5, page_token=first.next_page_token), timeout=T
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT


# --- resume files -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "media"), [("pdf", "application/pdf"), ("docx", DOCX)])
async def test_generated_resume_files_become_searchable(
    stub: search_pb2_grpc.SearchServiceAsyncStub, kind: str, media: str
) -> None:
    loc = tag()
    lines = [*RESUME_LINES, f"Reference {loc}"]
    content = pdf_bytes(lines) if kind == "pdf" else docx_bytes(lines)
    reply = await stub.CreateCandidate(
        pb.CreateCandidateRequest(
            candidate=pb.Candidate(location=loc, phone="+1 000 000 0000"),
            resume=pb.ResumeFile(file_name=f"maria.{kind}", content=content),
        ),
        timeout=T,
    )
    cand = reply.candidate
    assert not reply.deduplicated
    assert cand.resume_media_type == media
    assert cand.name == "Maria Gonzalez" and cand.email == "maria.gonzalez@example.org"
    assert cand.phone == "+1 000 000 0000"  # explicit fields win over extracted ones
    assert cand.years_experience == 9 and {"Kubernetes", "Terraform", "Go"} <= set(cand.skills)

    hits = (
        await stub.SearchCandidates(
            pb.SearchCandidatesRequest(
                text="infrastructure engineer running container orchestration", options=opts(location=loc)
            ),
            timeout=T,
        )
    ).hits
    assert [h.candidate.id for h in hits] == [cand.id]
    assert hits[0].match.cosine_similarity > 0.2

    again = await stub.CreateCandidate(
        pb.CreateCandidateRequest(resume=pb.ResumeFile(file_name="renamed", content=content)), timeout=T
    )
    assert again.deduplicated and again.candidate.id == cand.id


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"%PDF-1.4\n%%garbage that is not a pdf", "corrupt"),
        (encrypted_pdf_bytes(RESUME_LINES), "password-protected"),
        (b"PK\x03\x04not really a docx", "corrupt"),
    ],
)
async def test_unreadable_files_are_invalid_argument_with_the_reason(
    stub: search_pb2_grpc.SearchServiceAsyncStub, content: bytes, reason: str
) -> None:
    code, details = await code_of(
        stub.CreateCandidate(
            pb.CreateCandidateRequest(resume=pb.ResumeFile(file_name="cv", content=content)), timeout=T
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert reason in details and "resume.content" in details


# --- search -------------------------------------------------------------------------------------------------

FIXTURE = [
    ("nurse", "Registered nurse in an intensive care unit; triage, patient charting, medication administration."),
    ("chef", "Head chef running a busy restaurant kitchen, menu planning, food safety and line cooks."),
    ("data", "Data engineer: batch ETL pipelines with Spark and Airflow, warehouse modelling in SQL."),
    ("teacher", "Primary school teacher planning lessons, classroom management and parent meetings."),
    ("pilot", "Commercial airline pilot, Airbus A320 type rating, 6000 flight hours."),
]


@pytest.fixture
async def people(stub: search_pb2_grpc.SearchServiceAsyncStub) -> AsyncIterator[tuple[str, dict[str, pb.Candidate]]]:
    loc = tag()
    made = {key: await make(stub, f"{key.title()} Person\n{text} {loc}", location=loc) for key, text in FIXTURE}
    yield loc, made
    for cand in made.values():
        await stub.DeleteCandidate(pb.DeleteCandidateRequest(id=cand.id), timeout=T)


async def test_hybrid_beats_keyword_on_a_paraphrased_query(
    stub: search_pb2_grpc.SearchServiceAsyncStub, people: tuple[str, dict[str, pb.Candidate]]
) -> None:
    loc, made = people
    query = "someone who looks after sick people in a hospital"  # shares no word with the nurse's resume
    keyword = await stub.SearchCandidates(
        pb.SearchCandidatesRequest(text=query, options=opts(pb.SEARCH_MODE_KEYWORD, location=loc)), timeout=T
    )
    hybrid = await stub.SearchCandidates(pb.SearchCandidatesRequest(text=query, options=opts(location=loc)), timeout=T)
    assert made["nurse"].id not in [h.candidate.id for h in keyword.hits]
    assert hybrid.mode == pb.SEARCH_MODE_HYBRID and hybrid.ef_search > 0
    top = hybrid.hits[0]
    assert top.candidate.id == made["nurse"].id
    assert top.match.vector_position == 1 and top.match.cosine_similarity > 0.3


async def test_each_hit_explains_itself(
    stub: search_pb2_grpc.SearchServiceAsyncStub, people: tuple[str, dict[str, pb.Candidate]]
) -> None:
    loc, made = people
    hits = (
        await stub.SearchCandidates(
            pb.SearchCandidatesRequest(text="Spark pipelines", options=opts(location=loc)), timeout=T
        )
    ).hits
    top = hits[0]
    assert top.candidate.id == made["data"].id
    assert top.match.keyword_position == 1 and top.match.keyword_rank > 0
    assert top.match.vector_position >= 1 and top.match.score > 0
    assert "Spark" in top.match.matched_skills


async def test_filters_are_honoured(stub: search_pb2_grpc.SearchServiceAsyncStub) -> None:
    loc = tag()
    junior = await make(
        stub, "Junior Dev\nPython developer building APIs", location=loc, years_experience=1, skills=["Python"]
    )
    senior = await make(
        stub,
        "Senior Dev\nPython developer building APIs with Docker",
        location=loc,
        years_experience=9,
        skills=["Python", "Docker"],
    )
    await make(
        stub,
        "Other Place\nPython developer building APIs",
        location=tag(),
        years_experience=9,
        skills=["Python", "Docker"],
    )
    for mode in (pb.SEARCH_MODE_VECTOR, pb.SEARCH_MODE_KEYWORD, pb.SEARCH_MODE_HYBRID):
        hits = (
            await stub.SearchCandidates(
                pb.SearchCandidatesRequest(text="python developer", options=opts(mode, location=loc)), timeout=T
            )
        ).hits
        assert {h.candidate.id for h in hits} == {junior.id, senior.id}
        hits = (
            await stub.SearchCandidates(
                pb.SearchCandidatesRequest(
                    text="python developer", options=opts(mode, location=loc, min_years_experience=5)
                ),
                timeout=T,
            )
        ).hits
        assert [h.candidate.id for h in hits] == [senior.id]
        hits = (
            await stub.SearchCandidates(
                pb.SearchCandidatesRequest(
                    text="python developer", options=opts(mode, location=loc, required_skills=["docker"])
                ),
                timeout=T,
            )
        ).hits
        assert [h.candidate.id for h in hits] == [senior.id]

    job_loc = tag()
    open_job = (
        await stub.CreateJob(
            pb.CreateJobRequest(job=pb.Job(title="Python API developer", location=job_loc, required_skills=["Python"])),
            timeout=T,
        )
    ).job
    closed_job = (
        await stub.CreateJob(
            pb.CreateJobRequest(
                job=pb.Job(title="Python API developer (filled)", location=job_loc, status=common_pb2.JOB_STATUS_CLOSED)
            ),
            timeout=T,
        )
    ).job
    found = (
        await stub.SearchJobs(pb.SearchJobsRequest(candidate_id=senior.id, options=opts(location=job_loc)), timeout=T)
    ).hits
    assert [h.job.id for h in found] == [open_job.id]
    assert found[0].match.matched_skills == ["Python"]
    found = (
        await stub.SearchJobs(
            pb.SearchJobsRequest(
                candidate_id=senior.id, options=opts(location=job_loc, job_status=common_pb2.JOB_STATUS_CLOSED)
            ),
            timeout=T,
        )
    ).hits
    assert [h.job.id for h in found] == [closed_job.id]
    by_job = (
        await stub.SearchCandidates(
            pb.SearchCandidatesRequest(job_id=open_job.id, options=opts(location=loc)), timeout=T
        )
    ).hits
    assert {h.candidate.id for h in by_job} == {junior.id, senior.id}


async def test_update_re_embeds_and_delete_removes_from_results(stub: search_pb2_grpc.SearchServiceAsyncStub) -> None:
    loc = tag()
    cand = await make(stub, "Sam Baker\nPastry chef, laminated doughs and wedding cakes", location=loc)
    other = await make(stub, "Kim Lee\nMarine biologist studying coral reefs", location=loc)
    query = "underwater ecosystems research"
    before = (
        await stub.SearchCandidates(
            pb.SearchCandidatesRequest(text=query, options=opts(pb.SEARCH_MODE_VECTOR, location=loc)), timeout=T
        )
    ).hits
    assert before[0].candidate.id == other.id
    updated = (
        await stub.UpdateCandidate(
            pb.UpdateCandidateRequest(
                candidate=pb.Candidate(
                    id=cand.id,
                    resume_text="Sam Baker\nOceanographer mapping deep-sea reefs and "
                    "underwater ecosystems; research diving",
                ),
                update_mask=mask("resume_text"),
            ),
            timeout=T,
        )
    ).candidate
    assert not updated.embedding_stale
    assert updated.embedded_at.ToDatetime() > cand.embedded_at.ToDatetime()
    after = (
        await stub.SearchCandidates(
            pb.SearchCandidatesRequest(text=query, options=opts(pb.SEARCH_MODE_VECTOR, location=loc)), timeout=T
        )
    ).hits
    assert after[0].candidate.id == cand.id
    assert after[0].match.cosine_similarity > before[-1].match.cosine_similarity

    await stub.DeleteCandidate(pb.DeleteCandidateRequest(id=cand.id), timeout=T)
    for mode in (pb.SEARCH_MODE_VECTOR, pb.SEARCH_MODE_KEYWORD, pb.SEARCH_MODE_HYBRID):
        hits = (
            await stub.SearchCandidates(
                pb.SearchCandidatesRequest(text="oceanographer reefs", options=opts(mode, location=loc)), timeout=T
            )
        ).hits
        assert cand.id not in [h.candidate.id for h in hits]


async def test_search_input_errors(stub: search_pb2_grpc.SearchServiceAsyncStub) -> None:
    code, details = await code_of(
        stub.SearchCandidates(pb.SearchCandidatesRequest(text="x", options=pb.SearchOptions(top_k=500)), timeout=T)
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "top_k" in details
    code, _ = await code_of(stub.SearchCandidates(pb.SearchCandidatesRequest(), timeout=T))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    code, _ = await code_of(stub.SearchCandidates(pb.SearchCandidatesRequest(job_id=str(uuid.uuid4())), timeout=T))
    assert code == grpc.StatusCode.NOT_FOUND
    reply = await stub.SearchCandidates(
        pb.SearchCandidatesRequest(text="'; DROP TABLE catalog.candidates; --", options=opts(pb.SEARCH_MODE_KEYWORD)),
        timeout=T,
    )
    assert reply.mode == pb.SEARCH_MODE_KEYWORD
    assert (await stub.ListCandidates(pb.ListCandidatesRequest(page_size=1), timeout=T)).total_size > 0


# --- bulk ---------------------------------------------------------------------------------------------------


async def _import(
    stub: search_pb2_grpc.SearchServiceAsyncStub, request: pb.ImportCandidatesRequest
) -> list[pb.ImportCandidatesResponse]:
    return [event async for event in stub.ImportCandidates(request, timeout=120)]


async def test_import_reports_every_record_and_is_idempotent(
    stub: search_pb2_grpc.SearchServiceAsyncStub, tmp_path: Path
) -> None:
    loc = tag()
    folder = tmp_path / "resumes"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(pdf_bytes(["Alex Chen", f"Rust systems programmer {loc}"]))
    (folder / "b.docx").write_bytes(docx_bytes(["Bea Ruiz", f"Android developer, Kotlin {loc}"]))
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 nope")
    (folder / "notes.xlsx").write_bytes(b"whatever")
    (folder / "more.jsonl").write_text(
        json.dumps({"name": "Cy Dow", "resume_text": f"iOS Swift {loc}", "location": loc}) + "\n{broken json\n"
    )
    records = [
        json.dumps(
            {"name": f"Rec {i}", "location": loc, "skills": ["Go"], "resume_text": f"Go developer number {i} {loc}"}
        )
        for i in range(70)
    ]
    text_file = pb.ResumeFile(file_name="c.txt", content=f"Dee Fox\nCOBOL {loc}".encode())
    request = pb.ImportCandidatesRequest(folder=str(folder), jsonl_records=records, batch_size=32, files=[text_file])
    events = await _import(stub, request)
    summary = events[-1].summary
    errors = {e.source: e.reason for ev in events for e in ev.errors}
    assert summary.total == 1 + 6 + 70
    assert summary.failed == 3 and set(errors) == {"broken.pdf", "notes.xlsx", "more.jsonl line 2"}
    assert "corrupt" in errors["broken.pdf"] and "unsupported" in errors["notes.xlsx"]
    assert summary.created == 74 and summary.duplicates == 0
    assert summary.created + summary.duplicates + summary.failed == summary.total
    progress = [ev.progress for ev in events]
    assert progress[0].total == 77 and progress[-1].done == 77
    assert [p.done for p in progress] == sorted(p.done for p in progress)

    again = (await _import(stub, request))[-1].summary
    assert again.created == 0 and again.duplicates == 74 and again.failed == 3
    assert sorted(again.candidate_ids) == sorted(summary.candidate_ids)
    found = await stub.SearchCandidates(
        pb.SearchCandidatesRequest(text=loc, options=opts(pb.SEARCH_MODE_KEYWORD, top_k=200)), timeout=T
    )
    assert {h.candidate.id for h in found.hits} == set(summary.candidate_ids)


async def test_one_resume_over_the_embedding_limit_imports_with_the_rest(
    stub: search_pb2_grpc.SearchServiceAsyncStub,
) -> None:
    # embedding_svc refuses a text over 100 KB; this 150 KB resume used to fail its whole import batch.
    loc = tag()
    long_text = f"Lena Long\nWelder in {loc}, TIG and MIG. " + "Fabricated pressure vessels to code. " * 4000
    records = [json.dumps({"name": "Lena Long", "location": loc, "resume_text": long_text})] + [
        json.dumps({"name": f"Short {i}", "location": loc, "resume_text": f"Baker number {i} in {loc}"})
        for i in range(3)
    ]
    events = await _import(stub, pb.ImportCandidatesRequest(jsonl_records=records, batch_size=8))
    summary = events[-1].summary
    assert (summary.created, summary.failed) == (4, 0), [e for ev in events for e in ev.errors]
    stored = [
        (await stub.GetCandidate(pb.GetCandidateRequest(id=i), timeout=T)).candidate for i in summary.candidate_ids
    ]
    assert not any(c.embedding_stale for c in stored)
    assert max(len(c.resume_text) for c in stored) == len(long_text.strip())  # stored whole
    hits = (
        await stub.SearchCandidates(
            pb.SearchCandidatesRequest(
                text="welder building pressure vessels", options=opts(pb.SEARCH_MODE_VECTOR, top_k=50, location=loc)
            ),
            timeout=T,
        )
    ).hits
    assert hits and hits[0].candidate.name == "Lena Long"


async def test_reindex_streams_progress(stub: search_pb2_grpc.SearchServiceAsyncStub) -> None:
    await make(stub, f"Reindex Me\nsomething to embed {tag()}")
    events = [ev.progress async for ev in stub.Reindex(pb.ReindexRequest(batch_size=50), timeout=300)]
    assert events[0].stage == "counting" and events[-1].stage == "done"
    assert events[-1].done == events[-1].total >= 1 and events[-1].percent == 100
    stale_only = [ev.progress async for ev in stub.Reindex(pb.ReindexRequest(only_stale=True), timeout=60)]
    assert stale_only[-1].total == 0


# --- embedding_svc down ---------------------------------------------------------------------------------------


@pytest.fixture
async def search_without_embedding(pg_url: str) -> AsyncIterator[tuple[ServiceProcess, int]]:
    """A search process whose embedding address has nothing listening yet (port reserved for the test)."""
    emb_port = free_port()
    url = create_database(pg_url, "searchdown")
    proc = await spawn_service(
        "search_svc",
        free_port(),
        search_env(url, f"127.0.0.1:{emb_port}", HIREMESH_SEARCH_EMBED_TIMEOUT_S="2"),
        SEARCH_HEALTH,
    )
    try:
        yield proc, emb_port
    finally:
        await proc.stop()


async def test_writes_survive_an_embedding_outage_and_catch_up_later(
    search_without_embedding: tuple[ServiceProcess, int],
) -> None:
    proc, emb_port = search_without_embedding
    stub = search_stub(proc.addr)
    cand = await make(stub, "Olga Petrova\nAirline pilot with 5000 flight hours on the A320")
    assert cand.embedding_stale and not cand.HasField("embedded_at")
    job = (await stub.CreateJob(pb.CreateJobRequest(job=pb.Job(title="Captain, short haul")), timeout=T)).job
    assert job.embedding_stale

    code, details = await code_of(
        stub.SearchCandidates(pb.SearchCandidatesRequest(text="aviator", options=opts()), timeout=T)
    )
    assert code == grpc.StatusCode.UNAVAILABLE and "KEYWORD" in details
    keyword = await stub.SearchCandidates(
        pb.SearchCandidatesRequest(text="pilot", options=opts(pb.SEARCH_MODE_KEYWORD)), timeout=T
    )
    assert [h.candidate.id for h in keyword.hits] == [cand.id]
    assert keyword.hits[0].candidate.embedding_stale  # visible, never silent

    embedding = start_process("embedding_svc", emb_port, {"HIREMESH_MODEL_DIR": str(embedding_models_dir())})
    try:
        from hiremesh_ops.probe import wait_serving

        await wait_serving(f"127.0.0.1:{emb_port}", EMBEDDING_HEALTH, timeout=120, alive=embedding.alive)
        # The catch-up loop walks candidates, then jobs: wait for both rows, not just the first one.
        deadline = asyncio.get_running_loop().time() + 60
        while (await stub.GetCandidate(pb.GetCandidateRequest(id=cand.id), timeout=T)).candidate.embedding_stale or (
            await stub.GetJob(pb.GetJobRequest(id=job.id), timeout=T)
        ).job.embedding_stale:
            assert asyncio.get_running_loop().time() < deadline, "catch-up never re-embedded the rows"
            await asyncio.sleep(0.25)
        hits = (
            await stub.SearchCandidates(
                pb.SearchCandidatesRequest(text="aviator flying aircraft", options=opts(pb.SEARCH_MODE_VECTOR)),
                timeout=T,
            )
        ).hits
        assert hits[0].candidate.id == cand.id and not hits[0].candidate.embedding_stale
    finally:
        await embedding.stop()


# --- profile extraction (issue 16) -------------------------------------------------------------------------


async def test_profile_fields_and_name_source_through_grpc(stub: search_pb2_grpc.SearchServiceAsyncStub) -> None:
    text = real_resumes.INDEED_JITENDRA + f"\nref {uuid.uuid4().hex}\n"
    cand = await make(stub, text)
    assert (cand.name, cand.name_source) == ("Jitendra Babu", pb.NAME_SOURCE_RESUME)
    assert cand.location == "Chennai, Tamil Nadu" and cand.headline == "FI/CO Consultant"

    nameless = real_resumes.CATEGORY_DATA_SCIENCE + uuid.uuid4().hex
    reply = await stub.CreateCandidate(
        pb.CreateCandidateRequest(
            resume=pb.ResumeFile(file_name="Resume_Subha Santosh_Peoplesoft FSCM.txt", content=nameless.encode())
        ),
        timeout=T,
    )
    assert (reply.candidate.name, reply.candidate.name_source) == ("Subha Santosh", pb.NAME_SOURCE_FILE_NAME)
    assert [(e.degree, e.institution, e.year) for e in reply.candidate.education] == [("B.E", "UIT-RGPV", 2017)]

    unnamed = await make(stub, real_resumes.CATEGORY_HR + uuid.uuid4().hex)
    assert (unnamed.name, unnamed.name_source) == ("", pb.NAME_SOURCE_UNNAMED)
    given = await make(
        stub,
        real_resumes.CATEGORY_HR + uuid.uuid4().hex,
        name="Asha Rao",
        education=[pb.Education(degree="MBA", institution="IIM Ahmedabad", year=2012)],
    )
    assert given.name_source == pb.NAME_SOURCE_GIVEN
    assert [(e.degree, e.year) for e in given.education] == [("MBA", 2012)]
    assert (await stub.GetCandidate(pb.GetCandidateRequest(id=given.id), timeout=T)).candidate == given

    renamed = (
        await stub.UpdateCandidate(
            pb.UpdateCandidateRequest(candidate=pb.Candidate(id=unnamed.id, name="Ravi K"), update_mask=mask("name")),
            timeout=T,
        )
    ).candidate
    assert renamed.name_source == pb.NAME_SOURCE_GIVEN
    code, details = await code_of(
        stub.UpdateCandidate(
            pb.UpdateCandidateRequest(candidate=pb.Candidate(id=unnamed.id), update_mask=mask("name_source")), timeout=T
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "name_source" in details
