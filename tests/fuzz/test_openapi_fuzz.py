"""schemathesis against the running gateway: generated requests for every operation of its OpenAPI document.

Every response must be non-5xx, carry a documented status code and content type, and match the documented
schema. At least 1,000 cases run in total, each with the admin bearer token (so the calls reach the
services instead of stopping at 401).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fixtures.mesh import Mesh

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 45
# Operations that start real background work (re-embedding, training, export): a few cases are enough.
HEAVY = {
    "/api/v1/search/reindex",
    "/api/v1/analytics/train",
    "/api/v1/analytics/export",
    "/api/v1/analytics/sync",
    "/api/v1/imports",
}
MIN_CASES = 1000

CASES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def api(mesh: Mesh) -> tuple[Any, Mesh]:
    doc = requests.get(f"{mesh.url}/api/v1/openapi.json", headers=mesh.headers("admin"), timeout=30).json()
    return schemathesis.openapi.from_dict(doc), mesh


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _fuzz(operation: Any, mesh: Mesh, session: requests.Session) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=3 if operation.path in HEAVY else EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        CASES[label] += 1
        response = case.call(base_url=mesh.url, session=session, headers=mesh.headers("admin"), timeout=60)
        case.validate_response(response, checks=CHECKS)

    run()


def test_fuzz_every_operation(api: tuple[Any, Mesh]) -> None:
    schema, mesh = api
    operations = _operations(schema)
    assert len(operations) >= 30
    failures: list[str] = []
    with requests.Session() as session:
        for operation in operations:
            try:
                _fuzz(operation, mesh, session)
            except (Exception, BaseExceptionGroup) as exc:  # collect every operation's first failure, then fail once
                failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    total = sum(CASES.values())
    assert not failures, f"{len(failures)} operation(s) failed ({total} cases):\n\n" + "\n\n".join(failures)
    assert total >= MIN_CASES, f"only {total} generated cases: {dict(CASES)}"
