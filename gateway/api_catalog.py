"""REST handlers for the talent catalog: candidates, jobs, applications, search, imports, reindex."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from aiohttp import web
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

from gateway.backends import call
from gateway.errors import bad_request
from gateway.imports import import_candidates
from gateway.protojson import apply_query, json_response, parse, read_json
from gateway.state import Route, gateway_of, principal_of
from gateway.tokens import Role
from gateway.uploads import candidate_fields, read_form
from gateway.visibility import for_caller
from hiremesh.v1 import search_pb2 as pb

API = "/api/v1"

PAGE = {"page_size": "page_size", "page_token": "page_token"}
CANDIDATE_FILTERS = {**PAGE, "location": "location", "skill": "skill", "min_years_experience": "min_years_experience"}
JOB_FILTERS = {**PAGE, "status": "status", "location": "location", "skill": "skill"}
APPLICATION_FILTERS = {**PAGE, "job_id": "job_id", "candidate_id": "candidate_id", "status": "status"}
SEARCH_OPTIONS = {
    "mode": "options.mode",
    "top_k": "options.top_k",
    "min_similarity": "options.min_similarity",
    "ef_search": "options.ef_search",
    "location": "options.filters.location",
    "min_years_experience": "options.filters.min_years_experience",
    "skills": "options.filters.required_skills",
    "lexical_weight": "options.lexical_weight",
}
CANDIDATE_SEARCH = {"q": "text", "job_id": "job_id", **SEARCH_OPTIONS}
JOB_SEARCH = {"q": "text", "candidate_id": "candidate_id", **SEARCH_OPTIONS, "job_status": "options.filters.job_status"}


def _mask_paths(data: dict[str, Any], descriptor: Descriptor) -> list[str]:
    """Update-mask paths for the top-level keys a PATCH body names (JSON or proto spelling)."""
    paths = []
    for key in data:
        field = descriptor.fields_by_name.get(key) or next((f for f in descriptor.fields if f.json_name == key), None)
        if field is None:
            raise bad_request(key, f"unknown field of {descriptor.name}")
        if field.name != "id":
            paths.append(field.name)
    return paths


def _query(request: web.Request, message: Message, params: dict[str, str]) -> None:
    multi = {name: request.query.getall(name) for name in params if name in request.query}
    apply_query(request.query, message, params, multi)


def _location(path: str) -> dict[str, str]:
    return {"Location": f"{API}{path}"}


# --- handlers that differ only in their resource: built once per resource -------------------------
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _named(name: str, handler: Handler) -> Handler:
    # OpenAPI operationIds come from handler names: keep them what they were when written out by hand.
    handler.__name__ = handler.__qualname__ = name
    return handler


def _rpc(request: web.Request, name: str) -> Any:
    return getattr(gateway_of(request).backends.search, name)


def idempotency_key(request: web.Request, req: Any) -> None:
    """An `Idempotency-Key` header becomes the create's AIP-155 request id (a retried POST creates nothing new)."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return
    if len(key) > 64 or not all(c.isalnum() or c in "-_." for c in key):
        raise bad_request("Idempotency-Key", "1-64 letters, digits, '-', '_' or '.'")
    req.request_id = key


def create_handler(name: str, rpc: str, request_type: type[Message], field: str, path: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        req = request_type()
        parse(await read_json(request), getattr(req, field))
        idempotency_key(request, req)
        reply = await call(request, "search", _rpc(request, rpc), req)
        return json_response(reply, 201, _location(f"{path}/{getattr(reply, field).id}"))

    return _named(name, handler)


def list_handler(name: str, rpc: str, request_type: type[Message], params: dict[str, str]) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        req = request_type()
        _query(request, req, params)
        return json_response(for_caller(request, await call(request, "search", _rpc(request, rpc), req)))

    return _named(name, handler)


def get_handler(name: str, rpc: str, request_type: type[Message]) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        req = request_type(id=request.match_info["id"])
        return json_response(for_caller(request, await call(request, "search", _rpc(request, rpc), req)))

    return _named(name, handler)


def update_handler(name: str, rpc: str, request_type: type[Message], field: str, message: type[Message]) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        data = await read_json(request)
        req: Any = request_type()
        req.update_mask.paths.extend(_mask_paths(data, cast(Descriptor, message.DESCRIPTOR)))
        target = getattr(req, field)
        parse(data, target)
        target.id = request.match_info["id"]
        return json_response(await call(request, "search", _rpc(request, rpc), req))

    return _named(name, handler)


def delete_handler(name: str, rpc: str, request_type: type[Message]) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        await call(request, "search", _rpc(request, rpc), request_type(id=request.match_info["id"]))
        return web.Response(status=204)

    return _named(name, handler)


def matches_handler(name: str, rpc: str, request_type: type[Message], id_field: str) -> Handler:
    """Best matches for one stored row (a job's candidates, a candidate's jobs)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        req = request_type(**{id_field: request.match_info["id"]})
        _query(request, req, SEARCH_OPTIONS)
        return json_response(for_caller(request, await call(request, "search", _rpc(request, rpc), req)))

    return _named(name, handler)


# --- candidates -----------------------------------------------------------------------------------
async def create_candidate(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    req = pb.CreateCandidateRequest()
    if request.content_type.startswith("multipart/"):
        form = await read_form(request, gw.config.max_upload_bytes, max_fields=gw.config.max_form_fields)
        parse(candidate_fields(form), req.candidate, "candidate")
        if form.files:
            upload = form.files[0]
            req.resume.CopyFrom(
                pb.ResumeFile(file_name=upload.file_name, media_type=upload.media_type, content=upload.content)
            )
    else:
        parse(await read_json(request), req.candidate)
    idempotency_key(request, req)
    reply = await call(request, "search", gw.backends.search.CreateCandidate, req)
    status = 200 if reply.deduplicated else 201
    return json_response(reply, status, _location(f"/candidates/{reply.candidate.id}"))


list_candidates = list_handler("list_candidates", "ListCandidates", pb.ListCandidatesRequest, CANDIDATE_FILTERS)
get_candidate = get_handler("get_candidate", "GetCandidate", pb.GetCandidateRequest)
update_candidate = update_handler(
    "update_candidate", "UpdateCandidate", pb.UpdateCandidateRequest, "candidate", pb.Candidate
)
delete_candidate = delete_handler("delete_candidate", "DeleteCandidate", pb.DeleteCandidateRequest)
candidate_jobs = matches_handler("candidate_jobs", "SearchJobs", pb.SearchJobsRequest, "candidate_id")


async def reindex(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    req = parse(await read_json(request), pb.ReindexRequest())
    timeout = gw.config.operation_timeout
    op = gw.operations.start(
        "reindex", principal_of(request).user, lambda: gw.backends.search.Reindex(req, timeout=timeout), "search"
    )
    return json_response(op.resource(), 202, _location(f"/operations/{op.id}"))


# --- jobs and applications --------------------------------------------------------------------------
create_job = create_handler("create_job", "CreateJob", pb.CreateJobRequest, "job", "/jobs")
list_jobs = list_handler("list_jobs", "ListJobs", pb.ListJobsRequest, JOB_FILTERS)
get_job = get_handler("get_job", "GetJob", pb.GetJobRequest)
update_job = update_handler("update_job", "UpdateJob", pb.UpdateJobRequest, "job", pb.Job)
delete_job = delete_handler("delete_job", "DeleteJob", pb.DeleteJobRequest)
job_candidates = matches_handler("job_candidates", "SearchCandidates", pb.SearchCandidatesRequest, "job_id")

create_application = create_handler(
    "create_application", "CreateApplication", pb.CreateApplicationRequest, "application", "/applications"
)
list_applications = list_handler(
    "list_applications", "ListApplications", pb.ListApplicationsRequest, APPLICATION_FILTERS
)
get_application = get_handler("get_application", "GetApplication", pb.GetApplicationRequest)
update_application = update_handler(
    "update_application", "UpdateApplication", pb.UpdateApplicationRequest, "application", pb.Application
)
delete_application = delete_handler("delete_application", "DeleteApplication", pb.DeleteApplicationRequest)


# --- search ---------------------------------------------------------------------------------------
async def search_candidates(request: web.Request) -> web.Response:
    req = pb.SearchCandidatesRequest()
    if request.method == "POST":
        parse(await read_json(request), req)
    else:
        _query(request, req, CANDIDATE_SEARCH)
    if req.WhichOneof("query") is None:
        raise bad_request("q", "give free text (q / text) or a job_id")
    reply = await call(request, "search", gateway_of(request).backends.search.SearchCandidates, req)
    return json_response(for_caller(request, reply))


async def search_jobs(request: web.Request) -> web.Response:
    req = pb.SearchJobsRequest()
    if request.method == "POST":
        parse(await read_json(request), req)
    else:
        _query(request, req, JOB_SEARCH)
    if req.WhichOneof("query") is None:
        raise bad_request("q", "give free text (q / text) or a candidate_id")
    return json_response(await call(request, "search", gateway_of(request).backends.search.SearchJobs, req))


ROUTES = [
    Route(
        "POST",
        "/candidates",
        create_candidate,
        "Create a candidate (JSON, or multipart with a resume file)",
        "candidates",
        body=pb.Candidate,
        multipart=True,
        response=pb.CreateCandidateResponse,
        status=201,
        also={200: "the existing candidate with the same resume (deduplicated: true); nothing was created"},
    ),
    Route(
        "GET",
        "/candidates",
        list_candidates,
        "List candidates, filtered and paged",
        "candidates",
        query=CANDIDATE_FILTERS,
        query_message=pb.ListCandidatesRequest,
        response=pb.ListCandidatesResponse,
    ),
    Route("GET", "/candidates/{id}", get_candidate, "Get a candidate", "candidates", response=pb.GetCandidateResponse),
    Route(
        "PATCH",
        "/candidates/{id}",
        update_candidate,
        "Update the fields the body names",
        "candidates",
        body=pb.Candidate,
        response=pb.UpdateCandidateResponse,
    ),
    Route("DELETE", "/candidates/{id}", delete_candidate, "Delete a candidate", "candidates", status=204),
    Route(
        "GET",
        "/candidates/{id}/jobs",
        candidate_jobs,
        "Best matching jobs for a candidate",
        "search",
        query=SEARCH_OPTIONS,
        query_message=pb.SearchJobsRequest,
        response=pb.SearchJobsResponse,
    ),
    Route(
        "POST",
        "/imports",
        import_candidates,
        "Import many resume files (runs as an operation)",
        "candidates",
        multipart=True,
        response="Operation",
        status=202,
    ),
    Route("POST", "/jobs", create_job, "Create a job", "jobs", body=pb.Job, response=pb.CreateJobResponse, status=201),
    Route(
        "GET",
        "/jobs",
        list_jobs,
        "List jobs, filtered and paged",
        "jobs",
        query=JOB_FILTERS,
        query_message=pb.ListJobsRequest,
        response=pb.ListJobsResponse,
    ),
    Route("GET", "/jobs/{id}", get_job, "Get a job", "jobs", response=pb.GetJobResponse),
    Route(
        "PATCH",
        "/jobs/{id}",
        update_job,
        "Update the fields the body names",
        "jobs",
        body=pb.Job,
        response=pb.UpdateJobResponse,
    ),
    Route("DELETE", "/jobs/{id}", delete_job, "Delete a job", "jobs", status=204),
    Route(
        "GET",
        "/jobs/{id}/candidates",
        job_candidates,
        "Best matching candidates for a job",
        "search",
        query=SEARCH_OPTIONS,
        query_message=pb.SearchCandidatesRequest,
        response=pb.SearchCandidatesResponse,
    ),
    Route(
        "POST",
        "/applications",
        create_application,
        "Create an application",
        "applications",
        body=pb.Application,
        response=pb.CreateApplicationResponse,
        status=201,
    ),
    Route(
        "GET",
        "/applications",
        list_applications,
        "List applications",
        "applications",
        query=APPLICATION_FILTERS,
        query_message=pb.ListApplicationsRequest,
        response=pb.ListApplicationsResponse,
    ),
    Route(
        "GET",
        "/applications/{id}",
        get_application,
        "Get an application",
        "applications",
        response=pb.GetApplicationResponse,
    ),
    Route(
        "PATCH",
        "/applications/{id}",
        update_application,
        "Change an application's status or notes",
        "applications",
        body=pb.Application,
        response=pb.UpdateApplicationResponse,
    ),
    Route("DELETE", "/applications/{id}", delete_application, "Delete an application", "applications", status=204),
    Route(
        "GET",
        "/search/candidates",
        search_candidates,
        "Search candidates by text or job",
        "search",
        query=CANDIDATE_SEARCH,
        query_message=pb.SearchCandidatesRequest,
        response=pb.SearchCandidatesResponse,
    ),
    Route(
        "POST",
        "/search/candidates",
        search_candidates,
        "Search candidates (request as JSON)",
        "search",
        role=Role.VIEWER,
        body=pb.SearchCandidatesRequest,
        response=pb.SearchCandidatesResponse,
        operation_id="search_candidates_post",
    ),
    Route(
        "GET",
        "/search/jobs",
        search_jobs,
        "Search jobs by text or candidate",
        "search",
        query=JOB_SEARCH,
        query_message=pb.SearchJobsRequest,
        response=pb.SearchJobsResponse,
    ),
    Route(
        "POST",
        "/search/jobs",
        search_jobs,
        "Search jobs (request as JSON)",
        "search",
        role=Role.VIEWER,
        body=pb.SearchJobsRequest,
        response=pb.SearchJobsResponse,
        operation_id="search_jobs_post",
    ),
    Route(
        "POST",
        "/search/reindex",
        reindex,
        "Re-embed rows (runs as an operation)",
        "admin",
        role=Role.ADMIN,
        body=pb.ReindexRequest,
        response="Operation",
        status=202,
    ),
]
