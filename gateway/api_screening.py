"""REST handlers for screening: submit tasks (202 + Location), read tasks and results, cancel."""

from __future__ import annotations

from aiohttp import web

from gateway.api_catalog import API, PAGE, idempotency_key
from gateway.backends import call
from gateway.errors import bad_request
from gateway.protojson import apply_query, json_response, parse, read_json
from gateway.state import Route, gateway_of
from hiremesh.v1 import screening_pb2 as pb

RESULT_FILTERS = {**PAGE, "job_id": "job_id", "candidate_id": "candidate_id", "application_id": "application_id"}


async def submit_screening(request: web.Request) -> web.Response:
    req = parse(await read_json(request), pb.SubmitScreeningRequest())
    if not req.application_id and not (req.candidate_id and req.job_id):
        raise bad_request("application_id", "give an application_id, or a candidate_id and a job_id")
    idempotency_key(request, req)
    reply = await call(request, "screening", gateway_of(request).backends.screening.SubmitScreening, req)
    return json_response(reply, 202, {"Location": f"{API}/screenings/{reply.task.id}"})


async def submit_job_screenings(request: web.Request) -> web.Response:
    req = parse(await read_json(request), pb.SubmitBatchScreeningRequest())
    req.job_id = request.match_info["id"]
    reply = await call(request, "screening", gateway_of(request).backends.screening.SubmitBatchScreening, req)
    return json_response(reply, 202)


async def get_screening(request: web.Request) -> web.Response:
    req = pb.GetScreeningTaskRequest(id=request.match_info["id"])
    return json_response(await call(request, "screening", gateway_of(request).backends.screening.GetScreeningTask, req))


async def cancel_screening(request: web.Request) -> web.Response:
    req = pb.CancelScreeningTaskRequest(id=request.match_info["id"])
    return json_response(
        await call(request, "screening", gateway_of(request).backends.screening.CancelScreeningTask, req)
    )


async def list_results(request: web.Request) -> web.Response:
    req = pb.ListScreeningResultsRequest()
    apply_query(request.query, req, RESULT_FILTERS)
    return json_response(
        await call(request, "screening", gateway_of(request).backends.screening.ListScreeningResults, req)
    )


async def get_result(request: web.Request) -> web.Response:
    req = pb.GetScreeningResultRequest(id=request.match_info["id"])
    return json_response(
        await call(request, "screening", gateway_of(request).backends.screening.GetScreeningResult, req)
    )


ROUTES = [
    Route(
        "POST",
        "/screenings",
        submit_screening,
        "Queue a screening task; watch it on /ws/tasks/{id}",
        "screening",
        body=pb.SubmitScreeningRequest,
        response=pb.SubmitScreeningResponse,
        status=202,
    ),
    Route(
        "POST",
        "/jobs/{id}/screenings",
        submit_job_screenings,
        "Queue one screening task per application",
        "screening",
        body=pb.SubmitBatchScreeningRequest,
        response=pb.SubmitBatchScreeningResponse,
        status=202,
    ),
    Route(
        "GET",
        "/screenings/{id}",
        get_screening,
        "A screening task and, once done, its result",
        "screening",
        response=pb.GetScreeningTaskResponse,
    ),
    Route(
        "POST",
        "/screenings/{id}/cancel",
        cancel_screening,
        "Cancel a queued or running task",
        "screening",
        response=pb.CancelScreeningTaskResponse,
    ),
    Route(
        "GET",
        "/screening-results",
        list_results,
        "List screening results",
        "screening",
        query=RESULT_FILTERS,
        query_message=pb.ListScreeningResultsRequest,
        response=pb.ListScreeningResultsResponse,
    ),
    Route(
        "GET",
        "/screening-results/{id}",
        get_result,
        "Get a screening result",
        "screening",
        response=pb.GetScreeningResultResponse,
    ),
]
