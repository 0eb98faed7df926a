"""Protobuf request limits and hostile search text against the real services.

Out-of-range sizes, malformed page tokens and unknown field-mask paths answer INVALID_ARGUMENT naming the
field; SQL metacharacters in any text that reaches a query are inert data.
"""

from __future__ import annotations

from typing import Any

import grpc
import psycopg
import pytest
from google.protobuf import field_mask_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hiremesh.clients import blocking_channel
from hiremesh.v1 import (
    embedding_pb2,
    embedding_pb2_grpc,
    screening_pb2,
    screening_pb2_grpc,
    search_pb2,
    search_pb2_grpc,
)
from tests.fixtures.procs import ServiceProcess

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
SQL_ATTACKS = [
    "'; DROP TABLE catalog.candidates; --",
    '"; DROP TABLE catalog.jobs; --',
    "' OR '1'='1",
    "1; DELETE FROM catalog.candidates WHERE true; --",
    "python') UNION SELECT id, email FROM catalog.candidates --",
    "%' AND pg_sleep(5) IS NULL AND '%'='",
    "\\'; TRUNCATE catalog.candidates CASCADE; --",
    "$$; DROP SCHEMA catalog CASCADE; $$",
    "robert'); DROP TABLE students;--",
    "& | ! <-> : * ( ) ' \"",  # tsquery operators
    "_%\\%",  # LIKE wildcards
]


def _invalid(exc: grpc.RpcError, field: str) -> None:
    assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT, (exc.code(), exc.details())
    assert field in (exc.details() or ""), f"{field!r} not named in {exc.details()!r}"


@pytest.fixture(scope="module")
def search(search_addr: str) -> search_pb2_grpc.SearchServiceStub:
    return search_pb2_grpc.SearchServiceStub(blocking_channel(search_addr))


@pytest.fixture(scope="module")
def embedding(embedding_addr: str) -> embedding_pb2_grpc.EmbeddingServiceStub:
    return embedding_pb2_grpc.EmbeddingServiceStub(blocking_channel(embedding_addr))


@pytest.fixture(scope="module")
def screening(screening_addr: str) -> screening_pb2_grpc.ScreeningServiceStub:
    return screening_pb2_grpc.ScreeningServiceStub(blocking_channel(screening_addr))


def test_too_many_texts_names_the_field(embedding: embedding_pb2_grpc.EmbeddingServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        embedding.Embed(embedding_pb2.EmbedRequest(texts=["python"] * 257), timeout=30)
    _invalid(refused.value, "texts")
    with pytest.raises(grpc.RpcError) as refused:
        embedding.Embed(embedding_pb2.EmbedRequest(texts=["ok", "   "]), timeout=30)
    _invalid(refused.value, "texts[1]")


@FUZZ
@given(size=st.integers(max_value=-1))
def test_negative_page_size(
    search: search_pb2_grpc.SearchServiceStub, screening: screening_pb2_grpc.ScreeningServiceStub, size: int
) -> None:
    size = max(size, -(2**31))
    calls: list[tuple[Any, Any]] = [
        (search.ListCandidates, search_pb2.ListCandidatesRequest(page_size=size)),
        (search.ListJobs, search_pb2.ListJobsRequest(page_size=size)),
        (search.ListApplications, search_pb2.ListApplicationsRequest(page_size=size)),
        (screening.ListScreeningResults, screening_pb2.ListScreeningResultsRequest(page_size=size)),
    ]
    for call, request in calls:
        with pytest.raises(grpc.RpcError) as refused:
            call(request, timeout=30)
        _invalid(refused.value, "page_size")


def test_huge_page_size_is_capped_not_an_error(search: search_pb2_grpc.SearchServiceStub) -> None:
    reply = search.ListCandidates(search_pb2.ListCandidatesRequest(page_size=2**31 - 1), timeout=30)
    assert len(reply.candidates) <= 500


@FUZZ
@given(token=st.text(min_size=1, max_size=200) | st.binary(min_size=1, max_size=100).map(lambda b: b.hex()))
def test_bad_page_tokens(
    search: search_pb2_grpc.SearchServiceStub, screening: screening_pb2_grpc.ScreeningServiceStub, token: str
) -> None:
    calls: list[tuple[Any, Any]] = [
        (search.ListCandidates, search_pb2.ListCandidatesRequest(page_token=token)),
        (search.ListJobs, search_pb2.ListJobsRequest(page_token=token)),
        (screening.ListScreeningResults, screening_pb2.ListScreeningResultsRequest(page_token=token)),
    ]
    for call, request in calls:
        with pytest.raises(grpc.RpcError) as refused:
            call(request, timeout=30)
        _invalid(refused.value, "page_token")


def test_page_token_from_another_filter_is_refused(search: search_pb2_grpc.SearchServiceStub) -> None:
    for i in range(3):
        search.CreateCandidate(
            search_pb2.CreateCandidateRequest(
                candidate=search_pb2.Candidate(name=f"Token Tester {i}", location="Oslo")
            ),
            timeout=30,
        )
    first = search.ListCandidates(search_pb2.ListCandidatesRequest(page_size=1), timeout=30)
    assert first.next_page_token
    with pytest.raises(grpc.RpcError) as refused:
        search.ListCandidates(
            search_pb2.ListCandidatesRequest(page_size=1, location="Oslo", page_token=first.next_page_token), timeout=30
        )
    _invalid(refused.value, "page_token")


@FUZZ
@given(
    path=st.text(min_size=1, max_size=40).filter(
        lambda p: (
            p
            not in {
                "name",
                "email",
                "phone",
                "location",
                "years_experience",
                "skills",
                "headline",
                "resume_text",
                "resume_file_name",
                "title",
                "description",
                "min_experience",
                "max_experience",
                "required_skills",
                "status",
                "company",
                "department",
            }
        )
    )
)
def test_bad_field_masks(search: search_pb2_grpc.SearchServiceStub, path: str) -> None:
    candidate = search.CreateCandidate(
        search_pb2.CreateCandidateRequest(candidate=search_pb2.Candidate(name="Mask Tester")), timeout=30
    ).candidate
    job = search.CreateJob(search_pb2.CreateJobRequest(job=search_pb2.Job(title="Mask job")), timeout=30).job
    mask = field_mask_pb2.FieldMask(paths=[path])
    calls: list[tuple[Any, Any]] = [
        (
            search.UpdateCandidate,
            search_pb2.UpdateCandidateRequest(
                candidate=search_pb2.Candidate(id=candidate.id, name="x"), update_mask=mask
            ),
        ),
        (search.UpdateJob, search_pb2.UpdateJobRequest(job=search_pb2.Job(id=job.id, title="x"), update_mask=mask)),
    ]
    for call, request in calls:
        with pytest.raises(grpc.RpcError) as refused:
            call(request, timeout=30)
        _invalid(refused.value, "update_mask")


@pytest.mark.parametrize(
    "field,options",
    [
        ("options.top_k", search_pb2.SearchOptions(top_k=100_000)),
        ("options.top_k", search_pb2.SearchOptions(top_k=-1)),
        ("options.ef_search", search_pb2.SearchOptions(ef_search=-5)),
        ("options.min_similarity", search_pb2.SearchOptions(min_similarity=7)),
        ("options.mode", search_pb2.SearchOptions(mode=99)),  # type: ignore[arg-type]  # no SearchMode, on purpose
    ],
)
def test_search_option_limits(
    search: search_pb2_grpc.SearchServiceStub, field: str, options: search_pb2.SearchOptions
) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        search.SearchCandidates(search_pb2.SearchCandidatesRequest(text="python", options=options), timeout=30)
    _invalid(refused.value, field)


def test_sql_metacharacters_are_inert(
    search: search_pb2_grpc.SearchServiceStub, search_service: ServiceProcess
) -> None:
    search.CreateCandidate(
        search_pb2.CreateCandidateRequest(
            candidate=search_pb2.Candidate(
                name="Inert O'Brien", location="O'Fallon", resume_text="Python and SQL; '; DROP TABLE x; -- inert"
            )
        ),
        timeout=30,
    )
    url = search_service.env["HIREMESH_DATABASE_URL"]
    with psycopg.connect(url) as conn:
        before = conn.execute("SELECT count(*) FROM catalog.candidates").fetchone()

    def inert(call: Any, request: Any, mode: int) -> None:
        """The search answers normally; in KEYWORD mode an attack made only of stop words and punctuation
        (`' OR '1'='1`) may instead be the documented INVALID_ARGUMENT naming `text` (issue 15)."""
        try:
            call(request, timeout=60)
        except grpc.RpcError as exc:
            if not (
                mode == search_pb2.SEARCH_MODE_KEYWORD
                and exc.code() == grpc.StatusCode.INVALID_ARGUMENT
                and "no searchable words" in (exc.details() or "")
            ):
                raise

    for text in SQL_ATTACKS:
        for mode in (search_pb2.SEARCH_MODE_KEYWORD, search_pb2.SEARCH_MODE_HYBRID, search_pb2.SEARCH_MODE_VECTOR):
            options = search_pb2.SearchOptions(
                mode=mode, filters=search_pb2.SearchFilters(location=text, required_skills=[text])
            )
            inert(search.SearchCandidates, search_pb2.SearchCandidatesRequest(text=text, options=options), mode)
            inert(
                search.SearchCandidates,
                search_pb2.SearchCandidatesRequest(text=text, options=search_pb2.SearchOptions(mode=mode)),
                mode,
            )
            inert(
                search.SearchJobs,
                search_pb2.SearchJobsRequest(text=text, options=search_pb2.SearchOptions(mode=mode)),
                mode,
            )
        search.ListCandidates(search_pb2.ListCandidatesRequest(location=text, skill=text), timeout=30)
        search.ListJobs(search_pb2.ListJobsRequest(location=text, skill=text), timeout=30)
    hit = search.SearchCandidates(
        search_pb2.SearchCandidatesRequest(
            text="O'Brien", options=search_pb2.SearchOptions(mode=search_pb2.SEARCH_MODE_KEYWORD)
        ),
        timeout=30,
    )
    assert any(h.candidate.name == "Inert O'Brien" for h in hit.hits)
    listed = search.ListCandidates(search_pb2.ListCandidatesRequest(location="O'Fallon"), timeout=30)
    assert [c.name for c in listed.candidates] == ["Inert O'Brien"]
    with psycopg.connect(url) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'catalog'"
            ).fetchall()
        }
        after = conn.execute("SELECT count(*) FROM catalog.candidates").fetchone()
    assert {"candidates", "jobs", "applications"} <= tables
    assert after == before
