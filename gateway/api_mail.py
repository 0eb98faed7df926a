"""REST handlers for candidate e-mails (search_svc's outbox) and the task queue (screening_svc's monitor)."""

from __future__ import annotations

from aiohttp import web

from gateway.api_catalog import PAGE
from gateway.backends import call
from gateway.errors import bad_request
from gateway.protojson import apply_query, json_response, parse, read_json
from gateway.state import Route, gateway_of
from gateway.tokens import Role
from hiremesh.v1 import screening_pb2 as spb
from hiremesh.v1 import search_pb2 as pb

NOTIFICATION_FILTERS = {
    **PAGE,
    "application_id": "application_id",
    "candidate_id": "candidate_id",
    "job_id": "job_id",
    "status": "state",
    "application_status": "application_status",
}
QUEUE_FILTERS = {
    "queue": "queue",
    "state": "state",
    "task_name": "task_name",
    "limit": "limit",
    "throughput_minutes": "throughput_minutes",
}
_INT64_MAX = 2**63 - 1


def job_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or not 0 < int(raw) <= _INT64_MAX:
        raise bad_request("id", f"expected a queue job id (a positive integer), got {raw[:40]!r}")
    return int(raw)


# --- candidate e-mails ----------------------------------------------------------------------------
async def list_notifications(request: web.Request) -> web.Response:
    req = pb.ListNotificationsRequest()
    apply_query(request.query, req, NOTIFICATION_FILTERS)
    return json_response(await call(request, "search", gateway_of(request).backends.search.ListNotifications, req))


async def get_notification(request: web.Request) -> web.Response:
    req = pb.GetNotificationRequest(id=request.match_info["id"])
    return json_response(await call(request, "search", gateway_of(request).backends.search.GetNotification, req))


async def resend_notification(request: web.Request) -> web.Response:
    req = pb.ResendNotificationRequest(id=request.match_info["id"])
    return json_response(await call(request, "search", gateway_of(request).backends.search.ResendNotification, req))


async def preview_notification(request: web.Request) -> web.Response:
    req = parse(await read_json(request), pb.PreviewNotificationRequest())
    return json_response(await call(request, "search", gateway_of(request).backends.search.PreviewNotification, req))


# --- the task queue -------------------------------------------------------------------------------
async def get_task_queue(request: web.Request) -> web.Response:
    req = spb.GetTaskQueueRequest()
    apply_query(request.query, req, QUEUE_FILTERS)
    return json_response(await call(request, "screening", gateway_of(request).backends.screening.GetTaskQueue, req))


async def cancel_queue_job(request: web.Request) -> web.Response:
    req = spb.CancelQueueJobRequest(id=job_id(request))
    return json_response(await call(request, "screening", gateway_of(request).backends.screening.CancelQueueJob, req))


async def retry_queue_job(request: web.Request) -> web.Response:
    req = spb.RetryQueueJobRequest(id=job_id(request))
    return json_response(await call(request, "screening", gateway_of(request).backends.screening.RetryQueueJob, req))


ROUTES = [
    Route(
        "GET",
        "/notifications",
        list_notifications,
        "Candidate e-mails, newest first (status: queued, sent, failed, skipped)",
        "notifications",
        query=NOTIFICATION_FILTERS,
        query_message=pb.ListNotificationsRequest,
        response=pb.ListNotificationsResponse,
    ),
    Route(
        "GET",
        "/notifications/{id}",
        get_notification,
        "One candidate e-mail",
        "notifications",
        response=pb.GetNotificationResponse,
    ),
    Route(
        "POST",
        "/notifications/{id}/resend",
        resend_notification,
        "Queue a failed e-mail again",
        "notifications",
        role=Role.ADMIN,
        response=pb.ResendNotificationResponse,
    ),
    Route(
        "POST",
        "/notifications/preview",
        preview_notification,
        "Render a status's e-mail (or a template to check) for an application or sample values",
        "notifications",
        body=pb.PreviewNotificationRequest,
        response=pb.PreviewNotificationResponse,
    ),
    Route(
        "GET",
        "/task-queue",
        get_task_queue,
        "The task queue: depth, workers, recent jobs, throughput (live on /ws/queue)",
        "tasks",
        query=QUEUE_FILTERS,
        query_message=spb.GetTaskQueueRequest,
        response=spb.GetTaskQueueResponse,
    ),
    Route(
        "POST",
        "/task-queue/jobs/{id}/cancel",
        cancel_queue_job,
        "Cancel a waiting or running queue job",
        "tasks",
        role=Role.ADMIN,
        response=spb.CancelQueueJobResponse,
    ),
    Route(
        "POST",
        "/task-queue/jobs/{id}/retry",
        retry_queue_job,
        "Run a failed or cancelled queue job again",
        "tasks",
        role=Role.ADMIN,
        response=spb.RetryQueueJobResponse,
    ),
]
