"""REST handlers for the talent catalog: candidates, jobs, applications, search, imports, reindex."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

from gateway.backends import call
from gateway.errors import bad_request
from gateway.protojson import apply_query, json_response, parse, read_json
from gateway.state import Route, gateway_of, principal_of
from gateway.tokens import Role
from gateway.uploads import candidate_fields, read_form
from hiremesh.v1 import search_pb2 as pb

API = "/api/v1"
MAX_IMPORT_FILES = 50

PAGE = {"page_size": "page_size", "page_token": "page_token"}
CANDIDATE_FILTERS = {**PAGE, "location": "location", "skill": "skill", "min_years_experience": "min_years_experience"}
JOB_FILTERS = {**PAGE, "status": "status", "location": "location", "skill": "skill"}
APPLICATION_FILTERS = {**PAGE, "job_id": "job_id", "candidate_id": "candidate_id", "status": "status"}
SEARCH_OPTIONS = {
    "mode": "options.mode", "top_k": "options.top_k", "min_similarity": "options.min_similarity",
    "ef_search": "options.ef_search", "location": "options.filters.location",
    "min_years_experience": "options.filters.min_years_experience", "skills": "options.filters.required_skills",
}
CANDIDATE_SEARCH = {"q": "text", "job_id": "job_id", **SEARCH_OPTIONS}
JOB_SEARCH = {"q": "text", "candidate_id": "candidate_id", **SEARCH_OPTIONS, "job_status": "options.filters.job_status"}


def _mask_paths(data: dict[str, Any], descriptor: Descriptor) -> list[str]:
    """Update-mask paths for the top-level keys a PATCH body names (JSON or proto spelling)."""
    paths = []
    for key in data:
        field = descriptor.fields_by_name.get(key) or next(
            (f for f in descriptor.fields if f.json_name == key), None)
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


# --- candidates -----------------------------------------------------------------------------------
async def create_candidate(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    req = pb.CreateCandidateRequest()
    if request.content_type.startswith("multipart/"):
        form = await read_form(request, gw.config.max_upload_bytes)
        parse(candidate_fields(form), req.candidate, "candidate")
        if form.files:
            upload = form.files[0]
            req.resume.CopyFrom(pb.ResumeFile(file_name=upload.file_name, media_type=upload.media_type,
                                              content=upload.content))
    else:
        parse(await read_json(request), req.candidate)
    reply = await call(request, "search", gw.backends.search.CreateCandidate, req)
    status = 200 if reply.deduplicated else 201
    return json_response(reply, status, _location(f"/candidates/{reply.candidate.id}"))


async def list_candidates(request: web.Request) -> web.Response:
    req = pb.ListCandidatesRequest()
    _query(request, req, CANDIDATE_FILTERS)
    return json_response(await call(request, "search", gateway_of(request).backends.search.ListCandidates, req))


async def get_candidate(request: web.Request) -> web.Response:
    req = pb.GetCandidateRequest(id=request.match_info["id"])
    return json_response(await call(request, "search", gateway_of(request).backends.search.GetCandidate, req))


async def update_candidate(request: web.Request) -> web.Response:
    data = await read_json(request)
    req = pb.UpdateCandidateRequest()
    req.update_mask.paths.extend(_mask_paths(data, pb.Candidate.DESCRIPTOR))
    parse(data, req.candidate)
    req.candidate.id = request.match_info["id"]
    return json_response(await call(request, "search", gateway_of(request).backends.search.UpdateCandidate, req))


async def delete_candidate(request: web.Request) -> web.Response:
    req = pb.DeleteCandidateRequest(id=request.match_info["id"])
    await call(request, "search", gateway_of(request).backends.search.DeleteCandidate, req)
    return web.Response(status=204)


async def candidate_jobs(request: web.Request) -> web.Response:
    req = pb.SearchJobsRequest(candidate_id=request.match_info["id"])
    _query(request, req, SEARCH_OPTIONS)
    return json_response(await call(request, "search", gateway_of(request).backends.search.SearchJobs, req))


async def import_candidates(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    form = await read_form(request, gw.config.max_upload_bytes, max_files=MAX_IMPORT_FILES)
    if not form.files:
        raise bad_request("files", "attach at least one resume file")
    req = pb.ImportCandidatesRequest(files=[pb.ResumeFile(file_name=f.file_name, media_type=f.media_type,
                                                          content=f.content) for f in form.files])
    timeout = gw.config.operation_timeout
    op = gw.operations.start("import", principal_of(request).user,
                             lambda: gw.backends.search.ImportCandidates(req, timeout=timeout), "search")
    return json_response(op.resource(), 202, _location(f"/operations/{op.id}"))


async def reindex(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    req = parse(await read_json(request), pb.ReindexRequest())
    timeout = gw.config.operation_timeout
    op = gw.operations.start("reindex", principal_of(request).user,
                             lambda: gw.backends.search.Reindex(req, timeout=timeout), "search")
    return json_response(op.resource(), 202, _location(f"/operations/{op.id}"))


# --- jobs -----------------------------------------------------------------------------------------
async def create_job(request: web.Request) -> web.Response:
    req = pb.CreateJobRequest()
    parse(await read_json(request), req.job)
    reply = await call(request, "search", gateway_of(request).backends.search.CreateJob, req)
    return json_response(reply, 201, _location(f"/jobs/{reply.job.id}"))


async def list_jobs(request: web.Request) -> web.Response:
    req = pb.ListJobsRequest()
    _query(request, req, JOB_FILTERS)
    return json_response(await call(request, "search", gateway_of(request).backends.search.ListJobs, req))


async def get_job(request: web.Request) -> web.Response:
    req = pb.GetJobRequest(id=request.match_info["id"])
    return json_response(await call(request, "search", gateway_of(request).backends.search.GetJob, req))


async def update_job(request: web.Request) -> web.Response:
    data = await read_json(request)
    req = pb.UpdateJobRequest()
    req.update_mask.paths.extend(_mask_paths(data, pb.Job.DESCRIPTOR))
    parse(data, req.job)
    req.job.id = request.match_info["id"]
    return json_response(await call(request, "search", gateway_of(request).backends.search.UpdateJob, req))


async def delete_job(request: web.Request) -> web.Response:
    req = pb.DeleteJobRequest(id=request.match_info["id"])
    await call(request, "search", gateway_of(request).backends.search.DeleteJob, req)
    return web.Response(status=204)


async def job_candidates(request: web.Request) -> web.Response:
    req = pb.SearchCandidatesRequest(job_id=request.match_info["id"])
    _query(request, req, SEARCH_OPTIONS)
    return json_response(await call(request, "search", gateway_of(request).backends.search.SearchCandidates, req))


# --- applications ---------------------------------------------------------------------------------
async def create_application(request: web.Request) -> web.Response:
    req = pb.CreateApplicationRequest()
    parse(await read_json(request), req.application)
    reply = await call(request, "search", gateway_of(request).backends.search.CreateApplication, req)
    return json_response(reply, 201, _location(f"/applications/{reply.application.id}"))


async def list_applications(request: web.Request) -> web.Response:
    req = pb.ListApplicationsRequest()
    _query(request, req, APPLICATION_FILTERS)
    return json_response(await call(request, "search", gateway_of(request).backends.search.ListApplications, req))


async def get_application(request: web.Request) -> web.Response:
    req = pb.GetApplicationRequest(id=request.match_info["id"])
    return json_response(await call(request, "search", gateway_of(request).backends.search.GetApplication, req))


async def update_application(request: web.Request) -> web.Response:
    data = await read_json(request)
    req = pb.UpdateApplicationRequest()
    req.update_mask.paths.extend(_mask_paths(data, pb.Application.DESCRIPTOR))
    parse(data, req.application)
    req.application.id = request.match_info["id"]
    return json_response(await call(request, "search", gateway_of(request).backends.search.UpdateApplication, req))


async def delete_application(request: web.Request) -> web.Response:
    req = pb.DeleteApplicationRequest(id=request.match_info["id"])
    await call(request, "search", gateway_of(request).backends.search.DeleteApplication, req)
    return web.Response(status=204)


# --- search ---------------------------------------------------------------------------------------
async def search_candidates(request: web.Request) -> web.Response:
    req = pb.SearchCandidatesRequest()
    if request.method == "POST":
        parse(await read_json(request), req)
    else:
        _query(request, req, CANDIDATE_SEARCH)
    if req.WhichOneof("query") is None:
        raise bad_request("q", "give free text (q / text) or a job_id")
    return json_response(await call(request, "search", gateway_of(request).backends.search.SearchCandidates, req))


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
    Route("POST", "/candidates", create_candidate, "Create a candidate (JSON, or multipart with a resume file)",
          "candidates", body=pb.Candidate, multipart=True, response=pb.CreateCandidateResponse, status=201),
    Route("GET", "/candidates", list_candidates, "List candidates, filtered and paged", "candidates",
          query=CANDIDATE_FILTERS, query_message=pb.ListCandidatesRequest, response=pb.ListCandidatesResponse),
    Route("GET", "/candidates/{id}", get_candidate, "Get a candidate", "candidates",
          response=pb.GetCandidateResponse),
    Route("PATCH", "/candidates/{id}", update_candidate, "Update the fields the body names", "candidates",
          body=pb.Candidate, response=pb.UpdateCandidateResponse),
    Route("DELETE", "/candidates/{id}", delete_candidate, "Delete a candidate", "candidates", status=204),
    Route("GET", "/candidates/{id}/jobs", candidate_jobs, "Best matching jobs for a candidate", "search",
          query=SEARCH_OPTIONS, query_message=pb.SearchJobsRequest, response=pb.SearchJobsResponse),
    Route("POST", "/imports", import_candidates, "Import many resume files (runs as an operation)", "candidates",
          multipart=True, response="Operation", status=202),
    Route("POST", "/jobs", create_job, "Create a job", "jobs", body=pb.Job, response=pb.CreateJobResponse,
          status=201),
    Route("GET", "/jobs", list_jobs, "List jobs, filtered and paged", "jobs", query=JOB_FILTERS,
          query_message=pb.ListJobsRequest, response=pb.ListJobsResponse),
    Route("GET", "/jobs/{id}", get_job, "Get a job", "jobs", response=pb.GetJobResponse),
    Route("PATCH", "/jobs/{id}", update_job, "Update the fields the body names", "jobs", body=pb.Job,
          response=pb.UpdateJobResponse),
    Route("DELETE", "/jobs/{id}", delete_job, "Delete a job", "jobs", status=204),
    Route("GET", "/jobs/{id}/candidates", job_candidates, "Best matching candidates for a job", "search",
          query=SEARCH_OPTIONS, query_message=pb.SearchCandidatesRequest, response=pb.SearchCandidatesResponse),
    Route("POST", "/applications", create_application, "Create an application", "applications",
          body=pb.Application, response=pb.CreateApplicationResponse, status=201),
    Route("GET", "/applications", list_applications, "List applications", "applications",
          query=APPLICATION_FILTERS, query_message=pb.ListApplicationsRequest, response=pb.ListApplicationsResponse),
    Route("GET", "/applications/{id}", get_application, "Get an application", "applications",
          response=pb.GetApplicationResponse),
    Route("PATCH", "/applications/{id}", update_application, "Change an application's status or notes",
          "applications", body=pb.Application, response=pb.UpdateApplicationResponse),
    Route("DELETE", "/applications/{id}", delete_application, "Delete an application", "applications", status=204),
    Route("GET", "/search/candidates", search_candidates, "Search candidates by text or job", "search",
          query=CANDIDATE_SEARCH, query_message=pb.SearchCandidatesRequest, response=pb.SearchCandidatesResponse),
    Route("POST", "/search/candidates", search_candidates, "Search candidates (request as JSON)", "search",
          role=Role.VIEWER, body=pb.SearchCandidatesRequest, response=pb.SearchCandidatesResponse),
    Route("GET", "/search/jobs", search_jobs, "Search jobs by text or candidate", "search",
          query=JOB_SEARCH, query_message=pb.SearchJobsRequest, response=pb.SearchJobsResponse),
    Route("POST", "/search/jobs", search_jobs, "Search jobs (request as JSON)", "search",
          role=Role.VIEWER, body=pb.SearchJobsRequest, response=pb.SearchJobsResponse),
    Route("POST", "/search/reindex", reindex, "Re-embed rows (runs as an operation)", "admin",
          role=Role.ADMIN, body=pb.ReindexRequest, response="Operation", status=202),
]
