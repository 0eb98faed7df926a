"""google.rpc error details across real services: a field or a reason raised by search reaches the caller.

gateway -> search: a bad query field is a 400 whose BadRequest names it, with search's ErrorInfo;
gateway -> screening -> search: search's NOT_FOUND keeps its ErrorInfo through two gRPC hops;
screening's own search adapter (Targets) against the real search_svc rebuilds search's InvalidArgument.
"""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import pytest

from hiremesh.clients import search_stub
from hiremesh.errors import InvalidArgument, NotFound
from hiremesh.v1 import search_pb2
from screening_svc.targets import Targets
from tests.fixtures.mesh import Mesh

pytestmark = pytest.mark.timeout(600)

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


async def _body(mesh: Mesh, method: str, path: str, status: int, **kwargs: Any) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession(base_url=mesh.url) as http,
        http.request(method, "/api/v1" + path, headers=mesh.headers("admin"), **kwargs) as resp,
    ):
        body: dict[str, Any] = await resp.json()
        assert resp.status == status, body
        return body


def _info(body: dict[str, Any]) -> dict[str, Any]:
    info: dict[str, Any]
    [info] = [d for d in body["details"] if d["@type"] == ERROR_INFO]
    return info


async def test_a_bad_field_at_search_is_a_400_naming_it(mesh: Mesh) -> None:
    body = await _body(mesh, "GET", "/notifications?application_id=nope", 400)
    violations = [v for d in body["details"] for v in d.get("field_violations", [])]
    assert [v["field"] for v in violations] == ["application_id"], body
    assert body["message"].startswith("application_id: ")  # the message reads as before
    assert _info(body) == {
        "@type": ERROR_INFO,
        "reason": "FIELD_INVALID",
        "domain": "hiremesh.dev",
        "metadata": {"service": "search"},
    }


async def test_search_not_found_keeps_its_details_through_screening(mesh: Mesh) -> None:
    missing = str(uuid.uuid4())
    body = await _body(mesh, "POST", "/screenings", 404, json={"application_id": missing})
    assert missing in body["message"]
    info = _info(body)
    assert (info["reason"], info["domain"], info["metadata"]["service"]) == ("NOT_FOUND", "hiremesh.dev", "search")


async def test_screening_search_adapter_keeps_search_field(search_addr: str) -> None:
    targets = Targets(search_stub(search_addr), timeout=10)
    with pytest.raises(InvalidArgument) as info:
        await targets.check_candidate("nope")
    err = info.value
    assert err.field and err.message.startswith(f"{err.field}: ") and "not a valid id" in err.message
    assert err.reason == "FIELD_INVALID" and err.metadata == {"service": "search"}


async def test_an_unknown_candidate_or_job_is_named_from_search_details_not_its_message(search_addr: str) -> None:
    # search reports which resource is missing in its ErrorInfo; screening names its own field from that.
    stub = search_stub(search_addr)
    job = (await stub.CreateJob(search_pb2.CreateJobRequest(job=search_pb2.Job(title="Details probe")), timeout=30)).job
    candidate = (
        await stub.CreateCandidate(
            search_pb2.CreateCandidateRequest(candidate=search_pb2.Candidate(name="Dee Tails")), timeout=30
        )
    ).candidate
    targets = Targets(stub, timeout=10)
    missing = str(uuid.uuid4())
    with pytest.raises(NotFound) as no_candidate:
        await targets.application_for(missing, job.id)
    assert no_candidate.value.message == f"candidate_id: candidate {missing} not found"
    assert no_candidate.value.metadata["resource"] == "candidate"
    with pytest.raises(NotFound) as no_job:
        await targets.application_for(candidate.id, missing)
    assert no_job.value.message == f"job_id: job {missing} not found"
    assert no_job.value.metadata["resource"] == "job"
