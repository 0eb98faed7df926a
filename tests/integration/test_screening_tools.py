"""The retriever's analytics tools against a real analytics_svc, and a screening that survives analytics down."""

from __future__ import annotations

from google.protobuf import json_format

from hiremesh.clients import screening_stub
from hiremesh.v1 import screening_pb2 as pb
from tests.fixtures.procs import free_port, spawn_service
from tests.fixtures.screening import SCREENING_HEALTH, new_database, screening_env
from tests.integration.test_screening_grpc import T, _make_pairs


async def _retriever_trace(addr: str, candidate_id: str, job_id: str) -> pb.AgentTrace:
    events = [
        reply.event
        async for reply in screening_stub(addr).Screen(
            pb.ScreenRequest(candidate_id=candidate_id, job_id=job_id, engine=pb.ENGINE_EVIDENCE), timeout=T
        )
    ]
    result = events[-1].result
    assert result.id and result.analysis.summary
    [retriever] = [t for t in result.traces if t.agent == "retriever"]
    return retriever


async def test_retriever_asks_analytics_and_keeps_the_answer(
    pg_url: str, search_addr: str, guardrail_addr: str, embedding_addr: str, analytics_addr: str
) -> None:
    [pair] = await _make_pairs(search_addr, 1)
    base = {
        "HIREMESH_SCREENING_ANALYTICS_TOOLS": "on",
        "HIREMESH_EMBEDDING_ADDR": embedding_addr,
        "HIREMESH_SCREENING_WORKERS": "0",
    }
    up = await spawn_service(
        "screening_svc",
        free_port(),
        screening_env(
            await new_database(pg_url, "screening_tools"),
            search_addr,
            guardrail_addr,
            HIREMESH_ANALYTICS_ADDR=analytics_addr,
            **base,
        ),
        SCREENING_HEALTH,
    )
    try:
        trace = await _retriever_trace(up.addr, pair.candidate_id, pair.job_id)
    finally:
        await up.stop()
    assert "analytics.job_title_success" in trace.tool_calls
    context = json_format.MessageToDict(trace.context)
    assert isinstance(context["analytics.job_title_success"], list)  # rows (none for a title with no history)

    # analytics_svc down: the tool's failure is noted, the screening still completes.
    down = await spawn_service(
        "screening_svc",
        free_port(),
        screening_env(
            await new_database(pg_url, "screening_tools"),
            search_addr,
            guardrail_addr,
            HIREMESH_ANALYTICS_ADDR=f"127.0.0.1:{free_port()}",
            HIREMESH_SCREENING_TOOL_TIMEOUT_S="1",
            **base,
        ),
        SCREENING_HEALTH,
    )
    try:
        trace = await _retriever_trace(down.addr, pair.candidate_id, pair.job_id)
    finally:
        await down.stop()
    assert any(c.startswith("analytics.job_title_success (failed") for c in trace.tool_calls), trace.tool_calls
    assert "analytics.job_title_success" not in json_format.MessageToDict(trace.context)
