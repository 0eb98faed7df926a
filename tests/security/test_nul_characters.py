"""A NUL character in any text a caller sends is the caller's mistake: 400 naming the field, never a 500.

PostgreSQL text cannot hold U+0000, so a NUL that reaches a query or a row fails in the driver (DataError) and
was a 500 (found by tests/fuzz/test_openapi_fuzz.py in `GET /candidates?location=`). Every string query parameter
of every GET route and every string property of every JSON body is tried, from the OpenAPI document.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import aiohttp
import pytest

from tests.fixtures.mesh import Mesh

pytestmark = pytest.mark.asyncio(loop_scope="session")

_PARAM = re.compile(r"\{(\w+)\}")
NUL_TEXT = "Ber\x00lin"


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


async def _openapi(http: aiohttp.ClientSession, mesh: Mesh) -> dict[str, Any]:
    async with http.get(f"{mesh.url}/api/v1/openapi.json", headers=mesh.headers()) as resp:
        doc: dict[str, Any] = await resp.json()
    return doc


async def _ids(http: aiohttp.ClientSession, mesh: Mesh) -> dict[str, str]:
    """Real ids for path parameters, so the request reaches the code that reads the text."""
    headers = mesh.headers("admin")
    async with http.post(
        f"{mesh.url}/api/v1/jobs", json={"title": "NUL probe", "description": "Python developer"}, headers=headers
    ) as resp:
        job = (await resp.json())["job"]
    form = aiohttp.FormData()
    form.add_field(
        "resume", b"Nul Probe\nPython developer, 3 years.\n", filename="probe.txt", content_type="text/plain"
    )
    async with http.post(f"{mesh.url}/api/v1/candidates", data=form, headers=headers) as resp:
        candidate = (await resp.json())["candidate"]
    return {"job_id": job["id"], "candidate_id": candidate["id"], "id": candidate["id"]}


async def test_a_nul_in_a_query_parameter_is_400_naming_it(mesh: Mesh) -> None:
    wrong = []
    async with aiohttp.ClientSession() as http:
        doc = await _openapi(http, mesh)
        ids = await _ids(http, mesh)
        tried = 0
        for template, item in doc["paths"].items():
            op = item.get("get")
            if op is None or "{" in template:
                continue
            for param in op.get("parameters", []):
                param = _resolve(doc, param)
                if param.get("in") != "query" or _resolve(doc, param.get("schema", {})).get("type") != "string":
                    continue
                if param["name"] in ids or "enum" in _resolve(doc, param.get("schema", {})):
                    continue
                tried += 1
                # A search needs its text: give it one, so the NUL is what the request is refused for.
                params = {"q": "python"} if "/search/" in template else {}
                params[param["name"]] = NUL_TEXT
                async with http.get(mesh.url + template, params=params, headers=mesh.headers("admin")) as resp:
                    body = await resp.text()
                    if resp.status >= 500 or (resp.status == 400 and param["name"] not in body):
                        wrong.append(f"GET {template}?{param['name']}= -> {resp.status} {body[:160]}")
        assert tried >= 5, tried
    assert not wrong, "\n".join(wrong)


async def test_a_nul_in_a_json_body_string_is_never_a_500(mesh: Mesh) -> None:
    wrong = []
    async with aiohttp.ClientSession() as http:
        doc = await _openapi(http, mesh)
        ids = await _ids(http, mesh)
        tried = 0
        for template, item in doc["paths"].items():
            for method, op in item.items():
                content = (op.get("requestBody") or {}).get("content", {})
                if method not in ("post", "patch", "put") or "application/json" not in content:
                    continue
                path = _PARAM.sub(lambda m: ids.get(m.group(1), str(uuid.uuid4())), template)
                schema = _resolve(doc, content["application/json"].get("schema", {}))
                for name, prop in (schema.get("properties") or {}).items():
                    if _resolve(doc, prop).get("type") != "string" or "enum" in _resolve(doc, prop):
                        continue
                    tried += 1
                    async with http.request(
                        method.upper(), mesh.url + path, json={name: NUL_TEXT}, headers=mesh.headers("admin")
                    ) as resp:
                        if resp.status >= 500:
                            wrong.append(
                                f"{method.upper()} {template} {{{name}}} -> {resp.status} {(await resp.text())[:160]}"
                            )
        assert tried >= 10, tried
    assert not wrong, "\n".join(wrong)
