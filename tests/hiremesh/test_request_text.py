"""nul_field finds a NUL in any string of a request, at any depth, and names its path; other text passes."""

from __future__ import annotations

import grpc
import pytest

from hiremesh.clients import channel
from hiremesh.request_text import nul_field
from hiremesh.v1 import analytics_pb2, search_pb2, search_pb2_grpc


def test_clean_requests_pass_whatever_their_shape() -> None:
    request = search_pb2.CreateCandidateRequest(
        candidate=search_pb2.Candidate(name="Ada Lövelace", skills=["Python", "Go"], resume_text="x" * 10_000),
        resume=search_pb2.ResumeFile(file_name="ada.txt", content=b"\x00 bytes are not text"),
    )
    assert nul_field(request) is None
    assert nul_field(analytics_pb2.GetReportRequest(name="funnel", params={"days": "30"})) is None
    assert nul_field(search_pb2.ListCandidatesRequest()) is None


@pytest.mark.parametrize(
    ("request_message", "path"),
    [
        (search_pb2.ListCandidatesRequest(location="Ber\x00lin"), "location"),
        (search_pb2.CreateCandidateRequest(candidate=search_pb2.Candidate(name="A\x00")), "candidate.name"),
        (
            search_pb2.CreateCandidateRequest(candidate=search_pb2.Candidate(skills=["Go", "Py\x00thon"])),
            "candidate.skills[1]",
        ),
        (
            search_pb2.CreateCandidateRequest(resume=search_pb2.ResumeFile(file_name="\x00.txt")),
            "resume.file_name",
        ),
        (analytics_pb2.GetReportRequest(params={"title": "Data\x00"}), "params['title']"),
        (analytics_pb2.GetReportRequest(params={"ti\x00tle": "Data"}), "params['ti\\x00tle']"),
    ],
)
def test_a_nul_anywhere_is_found_and_named(request_message: object, path: str) -> None:
    assert nul_field(request_message) == path  # type: ignore[arg-type]  # every case is a protobuf message


async def test_a_server_answers_invalid_argument_naming_the_field(search_addr: str) -> None:
    # Through a real search_svc: the check runs in every MeshServer before the handler (and the database).
    async with channel(search_addr) as ch:
        stub = search_pb2_grpc.SearchServiceStub(ch)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.ListCandidates(search_pb2.ListCandidatesRequest(location="Ber\x00lin"), timeout=30)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details() == "location: must not contain NUL characters (U+0000)"
