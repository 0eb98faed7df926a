"""Proto conversion of catalog rows: timestamps set in place must equal protobuf's own conversion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from google.protobuf import timestamp_pb2
from hypothesis import given
from hypothesis import strategies as st

from search_svc import convert
from search_svc.records import Application, Candidate, Job

_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)), None])


def _reference(value: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=_ZONES))
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
