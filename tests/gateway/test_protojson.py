import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import ApiError
from gateway.protojson import apply_query, parse, to_dict
from hiremesh.v1 import common_pb2, search_pb2


def test_short_enum_names_are_accepted_in_any_case() -> None:
    job = parse({"title": "SRE", "status": "open"}, search_pb2.Job())
    assert job.status == common_pb2.JOB_STATUS_OPEN
    app = parse({"status": "Reviewing"}, search_pb2.Application())
    assert app.status == common_pb2.APPLICATION_STATUS_REVIEWING
    req = parse(
        {"text": "go", "options": {"mode": "keyword", "filters": {"job_status": "closed"}}},
        search_pb2.SearchJobsRequest(),
    )
    assert req.options.mode == search_pb2.SEARCH_MODE_KEYWORD
    assert req.options.filters.job_status == common_pb2.JOB_STATUS_CLOSED


def test_full_enum_names_and_camel_case_keys_work() -> None:
    job = parse({"status": "JOB_STATUS_CLOSED", "requiredSkills": ["go"]}, search_pb2.Job())
    assert job.status == common_pb2.JOB_STATUS_CLOSED and list(job.required_skills) == ["go"]


def test_bad_values_name_the_field() -> None:
    with pytest.raises(ApiError) as err:
        parse({"years_experience": "lots"}, search_pb2.Candidate())
    assert err.value.http_status == 400 and "years_experience" in err.value.message
    with pytest.raises(ApiError) as err:
        parse({"nope": 1}, search_pb2.Candidate())
    assert "nope" in err.value.message


def test_query_parameters_fill_nested_and_repeated_fields() -> None:
    req = search_pb2.SearchCandidatesRequest()
    apply_query(
        {"mode": "vector", "top_k": "5", "skills": "python, go"},
        req,
        {"mode": "options.mode", "top_k": "options.top_k", "skills": "options.filters.required_skills"},
    )
    assert req.options.mode == search_pb2.SEARCH_MODE_VECTOR and req.options.top_k == 5
    assert list(req.options.filters.required_skills) == ["python", "go"]


@pytest.mark.parametrize(
    ("param", "value", "needle"),
    [
        ("top_k", "ten", "integer"),
        ("mode", "fuzzy", "vector, keyword, hybrid"),
        ("min_similarity", "nan", "finite"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_parameter(param: str, value: str, needle: str) -> None:
    with pytest.raises(ApiError) as err:
        apply_query(
            {param: value},
            search_pb2.SearchCandidatesRequest(),
            {"top_k": "options.top_k", "mode": "options.mode", "min_similarity": "options.min_similarity"},
        )
    assert err.value.http_status == 400
    assert err.value.message.startswith(param) and needle in err.value.message


def test_output_keeps_zero_values_and_snake_case() -> None:
    body = to_dict(search_pb2.Candidate(name="Ada"))
    assert body["years_experience"] == 0 and body["skills"] == [] and "yearsExperience" not in body


@given(
    st.dictionaries(
        st.sampled_from(["name", "email", "years_experience", "skills", "bogus", "status"]),
        st.one_of(st.text(), st.integers(), st.floats(), st.lists(st.text()), st.none()),
    )
)
def test_parse_never_raises_anything_but_a_400(data: dict[str, object]) -> None:
    try:
        parse(data, search_pb2.Candidate())
    except ApiError as exc:
        assert exc.http_status == 400
