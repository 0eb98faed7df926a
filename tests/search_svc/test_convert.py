"""Proto conversion of catalog rows: timestamps set in place must equal protobuf's own conversion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from google.protobuf import timestamp_pb2
from hypothesis import given
from hypothesis import strategies as st

from hiremesh.v1 import common_pb2, search_pb2
from search_svc import convert
from search_svc.ranking_policy import Hit
from search_svc.records import Application, Candidate, Job

_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)), None])


def _reference(value: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


# hypothesis's overloads take naive and aware zones mixed only without bounds, which it accepts at run time.
@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=_ZONES))  # type: ignore[arg-type]
def test_timestamps_match_protobufs_conversion(value: datetime) -> None:
    assert convert.candidate_out(Candidate(id="c", created_at=value)).created_at == _reference(value)
    assert convert.job_out(Job(id="j", updated_at=value)).updated_at == _reference(value)
    assert convert.application_out(Application(id="a", decided_at=value)).decided_at == _reference(value)


def test_missing_timestamps_stay_unset_and_the_epoch_is_set() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    msg = convert.candidate_out(Candidate(id="c", created_at=epoch))
    assert msg.HasField("created_at") and msg.created_at.seconds == 0
    assert not msg.HasField("embedded_at") and not msg.HasField("updated_at")
    assert not convert.application_out(Application(id="a")).HasField("decided_at")


def test_hits_are_built_in_place_with_every_field() -> None:
    now = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    row = {
        "id": "c1",
        "name": "Ada",
        "email": "ada@example.org",
        "phone": "+44 20 7946 0000",
        "location": "London",
        "headline": "Backend engineer",
        "years_experience": 7.5,
        "skills": ["Python", "Go"],
        "resume_file_name": "ada.pdf",
        "resume_media_type": "application/pdf",
        "resume_sha256": "ab" * 32,
        "resume_text": "Backend engineer ...",
        "embedded_at": now,
        "created_at": now,
        "updated_at": now,
        "embedding_stale": False,
    }
    hit = Hit(Candidate.from_row(row), 0.8, 0.8, 0.1, ["Python"], 1, 2)
    reply = search_pb2.SearchCandidatesResponse()
    convert.candidate_hits_out(reply, [hit])
    cand = reply.hits[0].candidate
    assert (cand.id, cand.name, cand.email, cand.phone, cand.location, cand.headline) == (
        "c1",
        "Ada",
        "ada@example.org",
        "+44 20 7946 0000",
        "London",
        "Backend engineer",
    )
    assert (cand.years_experience, list(cand.skills), cand.resume_file_name, cand.resume_media_type) == (
        7.5,
        ["Python", "Go"],
        "ada.pdf",
        "application/pdf",
    )
    assert (cand.resume_sha256, cand.resume_text, cand.embedding_stale) == ("ab" * 32, "Backend engineer ...", False)
    assert cand.created_at == cand.updated_at == cand.embedded_at == _reference(now)
    match = reply.hits[0].match
    assert (
        match.score,
        match.keyword_rank,
        list(match.matched_skills),
        match.vector_position,
        match.keyword_position,
    ) == (0.8, 0.1, ["Python"], 1, 2)

    job_row = {
        "id": "j1",
        "title": "Go developer",
        "description": "Build APIs",
        "company": "Acme",
        "department": "Platform",
        "location": "Remote",
        "min_experience": 2.0,
        "max_experience": 6.0,
        "required_skills": ["Go"],
        "status": "closed",
        "embedded_at": None,
        "created_at": now,
        "updated_at": now,
        "embedding_stale": True,
    }
    jobs = search_pb2.SearchJobsResponse()
    convert.job_hits_out(jobs, [Hit(Job.from_row(job_row), 0.5)])
    job = jobs.hits[0].job
    assert (job.id, job.title, job.description, job.company, job.department, job.location) == (
        "j1",
        "Go developer",
        "Build APIs",
        "Acme",
        "Platform",
        "Remote",
    )
    assert (job.min_experience, job.max_experience, list(job.required_skills)) == (2.0, 6.0, ["Go"])
    assert job.status == common_pb2.JOB_STATUS_CLOSED and job.embedding_stale
    assert not job.HasField("embedded_at") and job.created_at == _reference(now)
