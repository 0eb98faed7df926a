"""Proto <-> domain conversion for the search service (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf import field_mask_pb2, timestamp_pb2

from hiremesh.errors import InvalidArgument
from hiremesh.v1 import common_pb2, search_pb2
from search_svc import ranking_policy
from search_svc.candidates import ResumeUpload
from search_svc.education import Education
from search_svc.outbox import Notification
from search_svc.records import (
    APPLICATION_FIELDS,
    CANDIDATE_FIELDS,
    JOB_FIELDS,
    Application,
    Candidate,
    Job,
)

_JOB_STATUS: dict[int, str] = {common_pb2.JOB_STATUS_OPEN: "open", common_pb2.JOB_STATUS_CLOSED: "closed"}
_JOB_STATUS_PB = {v: k for k, v in _JOB_STATUS.items()}
_APP_STATUS: dict[int, str] = {
    common_pb2.APPLICATION_STATUS_PENDING: "pending",
    common_pb2.APPLICATION_STATUS_REVIEWING: "reviewing",
    common_pb2.APPLICATION_STATUS_ACCEPTED: "accepted",
    common_pb2.APPLICATION_STATUS_REJECTED: "rejected",
    common_pb2.APPLICATION_STATUS_HIRED: "hired",
}
_APP_STATUS_PB = {v: k for k, v in _APP_STATUS.items()}
_NOTIFICATION_STATE: dict[int, str] = {
    search_pb2.NOTIFICATION_STATE_QUEUED: "queued",
    search_pb2.NOTIFICATION_STATE_SENT: "sent",
    search_pb2.NOTIFICATION_STATE_FAILED: "failed",
    search_pb2.NOTIFICATION_STATE_SKIPPED: "skipped",
}
_NOTIFICATION_STATE_PB = {v: k for k, v in _NOTIFICATION_STATE.items()}
_MODES: dict[int, ranking_policy.Mode] = {
    search_pb2.SEARCH_MODE_UNSPECIFIED: "hybrid",
    search_pb2.SEARCH_MODE_HYBRID: "hybrid",
    search_pb2.SEARCH_MODE_VECTOR: "vector",
    search_pb2.SEARCH_MODE_KEYWORD: "keyword",
}
_MODES_PB = {
    "hybrid": search_pb2.SEARCH_MODE_HYBRID,
    "vector": search_pb2.SEARCH_MODE_VECTOR,
    "keyword": search_pb2.SEARCH_MODE_KEYWORD,
}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ts(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    """A new Timestamp for a constructor keyword (None leaves the field unset)."""
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    _set_ts(ts, value)
    return ts


def _set_ts(ts: timestamp_pb2.Timestamp, value: datetime | None) -> None:
    """Set a message's Timestamp field in place (a search reply fills 30 of them: Timestamp.FromDatetime and a
    copy into the parent cost ~3x this integer arithmetic). Naive datetimes are taken as UTC."""
    if value is None:
        return
    delta = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)) - _EPOCH
    ts.seconds = delta.days * 86_400 + delta.seconds  # floor division for dates before 1970 too
    ts.nanos = delta.microseconds * 1000


def job_status(value: int, field: str) -> str:
    """'' for UNSPECIFIED, else the stored status; InvalidArgument for numbers outside the enum."""
    if value == common_pb2.JOB_STATUS_UNSPECIFIED:
        return ""
    if value not in _JOB_STATUS:
        raise InvalidArgument(field, f"unknown job status {value}")
    return _JOB_STATUS[value]


def application_status(value: int, field: str) -> str:
    if value == common_pb2.APPLICATION_STATUS_UNSPECIFIED:
        return ""
    if value not in _APP_STATUS:
        raise InvalidArgument(field, f"unknown application status {value}")
    return _APP_STATUS[value]


def notification_state(value: int, field: str) -> str:
    if value == search_pb2.NOTIFICATION_STATE_UNSPECIFIED:
        return ""
    if value not in _NOTIFICATION_STATE:
        raise InvalidArgument(field, f"unknown notification state {value}")
    return _NOTIFICATION_STATE[value]


# --- candidates -------------------------------------------------------------------------------------------

_NAME_SOURCE_PB = {
    "given": search_pb2.NAME_SOURCE_GIVEN,
    "resume": search_pb2.NAME_SOURCE_RESUME,
    "file_name": search_pb2.NAME_SOURCE_FILE_NAME,
    "unnamed": search_pb2.NAME_SOURCE_UNNAMED,
}


def education_in(entries: Any) -> list[Education]:
    return [
        Education(e.degree.strip(), e.institution.strip(), int(e.year))
        for e in entries
        if e.degree.strip() or e.institution.strip() or e.year
    ]


def candidate_in(msg: search_pb2.Candidate) -> Candidate:
    return Candidate(
        name=msg.name.strip(),
        email=msg.email.strip(),
        phone=msg.phone.strip(),
        location=msg.location.strip(),
        headline=msg.headline.strip(),
        years_experience=msg.years_experience,
        skills=list(msg.skills),
        resume_file_name=msg.resume_file_name,
        resume_media_type=msg.resume_media_type,
        resume_text=msg.resume_text,
        email_opt_out=msg.email_opt_out,
        education=education_in(msg.education),
    )


def resume_in(msg: search_pb2.ResumeFile) -> ResumeUpload:
    return ResumeUpload(msg.file_name, msg.media_type, msg.content)


def candidate_out(c: Candidate) -> search_pb2.Candidate:
    msg = search_pb2.Candidate()
    _fill_candidate(msg, c)
    return msg


def _fill_candidate(msg: search_pb2.Candidate, c: Candidate) -> None:
    """Fill an empty message in place (a search reply's hits: no copy of the resume text into the parent)."""
    msg.id, msg.name, msg.email, msg.phone, msg.location = c.id, c.name, c.email, c.phone, c.location
    msg.years_experience = c.years_experience
    msg.skills.extend(c.skills)
    msg.resume_file_name, msg.resume_media_type = c.resume_file_name, c.resume_media_type
    msg.resume_sha256, msg.resume_text, msg.headline = c.resume_sha256 or "", c.resume_text, c.headline
    msg.embedding_stale, msg.email_opt_out = c.embedding_stale, c.email_opt_out
    msg.education.extend(
        search_pb2.Education(degree=e.degree, institution=e.institution, year=e.year) for e in c.education
    )
    msg.name_source = _NAME_SOURCE_PB.get(c.name_source, search_pb2.NAME_SOURCE_UNSPECIFIED)
    _set_ts(msg.embedded_at, c.embedded_at)
    _set_ts(msg.created_at, c.created_at)
    _set_ts(msg.updated_at, c.updated_at)


def mask_changes(mask: field_mask_pb2.FieldMask, msg: Any, writable: tuple[str, ...], prefix: str) -> dict[str, Any]:
    """field -> new value from `msg` for each path (all writable fields when the mask is empty)."""
    paths = list(mask.paths) or list(writable)
    changes: dict[str, Any] = {}
    for path in paths:
        name = path.removeprefix(prefix + ".")
        if name not in writable:
            raise InvalidArgument(
                "update_mask", f"{path!r} is not an updatable field (updatable: {', '.join(writable)})"
            )
        value = getattr(msg, name)
        if name == "education":
            value = education_in(value)
        changes[name] = list(value) if name in ("skills", "required_skills") else value
    return changes


def candidate_changes(req: search_pb2.UpdateCandidateRequest) -> dict[str, Any]:
    changes = mask_changes(req.update_mask, req.candidate, CANDIDATE_FIELDS, "candidate")
    for key in ("name", "email", "phone", "location", "headline"):
        if key in changes:
            changes[key] = changes[key].strip()
    return changes


# --- jobs -------------------------------------------------------------------------------------------------


def job_in(msg: search_pb2.Job) -> Job:
    return Job(
        title=msg.title,
        description=msg.description,
        company=msg.company.strip(),
        department=msg.department.strip(),
        location=msg.location.strip(),
        min_experience=msg.min_experience,
        max_experience=msg.max_experience,
        required_skills=list(msg.required_skills),
        status=job_status(msg.status, "job.status"),
    )


def job_out(j: Job) -> search_pb2.Job:
    msg = search_pb2.Job()
    _fill_job(msg, j)
    return msg


def _fill_job(msg: search_pb2.Job, j: Job) -> None:
    msg.id, msg.title, msg.description, msg.location = j.id, j.title, j.description, j.location
    msg.min_experience, msg.max_experience = j.min_experience, j.max_experience
    msg.required_skills.extend(j.required_skills)
    msg.status = common_pb2.JobStatus.ValueType(_JOB_STATUS_PB.get(j.status, 0))
    msg.company, msg.department, msg.embedding_stale = j.company, j.department, j.embedding_stale
    _set_ts(msg.embedded_at, j.embedded_at)
    _set_ts(msg.created_at, j.created_at)
    _set_ts(msg.updated_at, j.updated_at)


def job_changes(req: search_pb2.UpdateJobRequest) -> dict[str, Any]:
    changes = mask_changes(req.update_mask, req.job, JOB_FIELDS, "job")
    if "status" in changes:
        changes["status"] = job_status(changes["status"], "job.status") or "open"
    return changes


# --- applications -----------------------------------------------------------------------------------------


def application_out(a: Application) -> search_pb2.Application:
    msg = search_pb2.Application(
        id=a.id,
        candidate_id=a.candidate_id,
        job_id=a.job_id,
        status=common_pb2.ApplicationStatus.ValueType(_APP_STATUS_PB.get(a.status, 0)),
        notes=a.notes,
    )
    _set_ts(msg.applied_at, a.applied_at)
    _set_ts(msg.updated_at, a.updated_at)
    _set_ts(msg.decided_at, a.decided_at)
    return msg


def application_changes(req: search_pb2.UpdateApplicationRequest) -> dict[str, Any]:
    changes = mask_changes(req.update_mask, req.application, APPLICATION_FIELDS, "application")
    if "status" in changes:
        status = application_status(changes["status"], "application.status")
        if not status:
            raise InvalidArgument("application.status", "required when in the update mask")
        changes["status"] = status
    return changes


# --- candidate e-mails -------------------------------------------------------------------------------------


def notification_out(n: Notification) -> search_pb2.Notification:
    return search_pb2.Notification(
        id=n.id,
        application_id=n.application_id,
        candidate_id=n.candidate_id,
        job_id=n.job_id,
        application_status=common_pb2.ApplicationStatus.ValueType(_APP_STATUS_PB.get(n.application_status, 0)),
        recipient=n.recipient,
        subject=n.subject,
        body=n.body,
        state=search_pb2.NotificationState.ValueType(_NOTIFICATION_STATE_PB.get(n.state, 0)),
        attempts=n.attempts,
        error=n.error,
        created_at=_ts(n.created_at),
        updated_at=_ts(n.updated_at),
        sent_at=_ts(n.sent_at),
        last_attempt_at=_ts(n.last_attempt_at),
        queue_job_id=n.queue_job_id or 0,
    )


# --- search -----------------------------------------------------------------------------------------------


def search_options(msg: search_pb2.SearchOptions, for_jobs: bool) -> ranking_policy.Options:
    if msg.mode not in _MODES:
        raise InvalidArgument("options.mode", f"unknown search mode {msg.mode}")
    f = msg.filters
    status = job_status(f.job_status, "options.filters.job_status") if for_jobs else ""
    filters = ranking_policy.Filters(
        location=f.location,
        min_years=f.min_years_experience,
        required_skills=tuple(f.required_skills),
        job_status=status or "open",
    )
    weight = msg.lexical_weight if msg.HasField("lexical_weight") else None
    return ranking_policy.Options(
        mode=_MODES[msg.mode],
        top_k=msg.top_k,
        min_similarity=msg.min_similarity,
        ef_search=msg.ef_search,
        filters=filters,
        lexical_weight=weight,
    )


def match_out(hit: ranking_policy.Hit[Any]) -> search_pb2.MatchExplanation:
    return search_pb2.MatchExplanation(
        score=hit.score,
        cosine_similarity=hit.cosine_similarity,
        keyword_rank=hit.keyword_rank,
        matched_skills=hit.matched_skills,
        vector_position=hit.vector_position,
        keyword_position=hit.keyword_position,
        lexical_similarity=hit.keyword_rank,
        semantic_z=hit.semantic_z,
        lexical_z=hit.lexical_z,
        fusion=hit.fusion,
        lexical_weight=hit.lexical_weight,
    )


def candidate_hits_out(reply: search_pb2.SearchCandidatesResponse, hits: list[ranking_policy.Hit[Candidate]]) -> None:
    """Append `hits` to a reply, each candidate built in place."""
    for hit in hits:
        item = reply.hits.add()
        _fill_candidate(item.candidate, hit.record)
        item.match.CopyFrom(match_out(hit))


def job_hits_out(reply: search_pb2.SearchJobsResponse, hits: list[ranking_policy.Hit[Job]]) -> None:
    for hit in hits:
        item = reply.hits.add()
        _fill_job(item.job, hit.record)
        item.match.CopyFrom(match_out(hit))


def mode_out(mode: ranking_policy.Mode) -> search_pb2.SearchMode.ValueType:
    return _MODES_PB[mode]


def progress(stage: str, done: int, total: int, failed: int, message: str) -> common_pb2.Progress:
    ts = timestamp_pb2.Timestamp()
    ts.GetCurrentTime()
    percent = 100.0 if total == 0 else round(100.0 * done / total, 2)
    return common_pb2.Progress(
        stage=stage, done=done, total=total, percent=percent, message=message, failed=failed, time=ts
    )
