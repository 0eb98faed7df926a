import grpc
import pytest

from gateway.errors import HTTP_STATUS, ApiError, bad_request


@pytest.mark.parametrize(("code", "status"), [
    (grpc.StatusCode.INVALID_ARGUMENT, 400), (grpc.StatusCode.NOT_FOUND, 404),
    (grpc.StatusCode.ALREADY_EXISTS, 409), (grpc.StatusCode.FAILED_PRECONDITION, 412),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, 429), (grpc.StatusCode.UNAVAILABLE, 503),
    (grpc.StatusCode.DEADLINE_EXCEEDED, 504), (grpc.StatusCode.PERMISSION_DENIED, 403),
    (grpc.StatusCode.UNAUTHENTICATED, 401), (grpc.StatusCode.UNIMPLEMENTED, 501),
    (grpc.StatusCode.INTERNAL, 500), (grpc.StatusCode.CANCELLED, 499),
])
def test_grpc_codes_map_like_grpc_gateway(code: grpc.StatusCode, status: int) -> None:
    assert HTTP_STATUS[code] == status


def test_every_status_code_has_a_mapping() -> None:
    assert set(HTTP_STATUS) == set(grpc.StatusCode)


def test_error_body_has_code_message_details() -> None:
    body = bad_request("job.title", "must not be empty").body()
    assert body["code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert body["status"] == "INVALID_ARGUMENT"
    assert body["message"] == "job.title: must not be empty"
    assert body["details"][0]["field_violations"][0]["field"] == "job.title"


def test_http_only_errors_get_a_matching_grpc_code() -> None:
    assert ApiError(413, "too big").code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert ApiError(401, "who?").code == grpc.StatusCode.UNAUTHENTICATED
