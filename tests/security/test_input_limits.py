"""Issue 17 items 4 and 5: malformed and oversized input is a 4xx, and a request's memory is bounded.

Deeply nested JSON on every JSON route, in a multipart field and on the WebSocket, undecodable protobuf on
gRPC; one byte budget over every part of a multipart request (chunked bodies included), a cap on form
fields, and bulk imports fed to search_svc in batches as they arrive.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
import grpc
import pytest

from hiremesh.clients import channel
from tests.fixtures.mesh import Mesh
from tests.fixtures.procs import process_at
from tests.security.gateways import own_gateway

_PARAM = re.compile(r"\{(\w+)\}")
DEEP = 100_000


def nested_array(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_object(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


async def _json_routes(http: aiohttp.ClientSession, mesh: Mesh) -> list[tuple[str, str]]:
    async with http.get(f"{mesh.url}/api/v1/openapi.json", headers=mesh.headers()) as resp:
        doc = await resp.json()
    out = []
    for template, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("post", "patch", "put") and "application/json" in (op.get("requestBody") or {}).get(
                "content", {}
            ):
                out.append((method.upper(), _PARAM.sub(lambda _m: str(uuid.uuid4()), template)))
    return out


async def test_deeply_nested_json_is_400_on_every_json_route(mesh: Mesh) -> None:
    wrong = []
    async with aiohttp.ClientSession() as http:
        routes = await _json_routes(http, mesh)
        assert len(routes) >= 15, routes
        for method, path in routes:
            for label, body in (
                ("array", nested_array(DEEP)),
                ("object", nested_object(DEEP)),
                ("object-40", nested_object(40)),
            ):
                async with http.request(
                    method, mesh.url + path, data=body, headers={**mesh.headers(), "Content-Type": "application/json"}
                ) as resp:
                    if resp.status != 400:
                        wrong.append(f"{method} {path} [{label}] -> {resp.status} {(await resp.text())[:100]}")
        async with http.get(f"{mesh.url}/healthz") as resp:
            assert resp.status == 200
    assert not wrong, "\n".join(wrong)


async def test_nested_json_in_a_form_field_is_400(mesh: Mesh) -> None:
    form = aiohttp.FormData()
    form.add_field("candidate", nested_object(20_000).decode(), content_type="application/json")
    form.add_field("resume", b"Nes Ted\nPython developer\n", filename="n.txt", content_type="text/plain")
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{mesh.url}/api/v1/candidates", data=form, headers=mesh.headers("recruiter")) as resp,
    ):
        assert resp.status == 400, await resp.text()
        assert (await resp.json())["message"].startswith("candidate")


async def test_nested_json_on_the_websocket_is_an_error_message_not_a_dead_socket(mesh: Mesh) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{mesh.url}/ws/tasks", headers=mesh.headers("viewer")) as ws,
    ):
        assert (await ws.receive_json(timeout=10))["type"] == "connection"
        await ws.send_str(nested_array(30_000).decode())
        assert (await ws.receive_json(timeout=10))["code"] == 400
        await ws.send_json({"action": "ping"})
        assert (await ws.receive_json(timeout=10))["type"] == "pong"


async def test_undecodable_protobuf_is_invalid_argument(search_addr: str, guardrail_addr: str) -> None:
    # A length-delimited field claiming 2 GB, and a nesting bomb of a message field inside itself.
    bombs = [b"\x0a\xff\xff\xff\xff\x07", b"\xff" * 64, b"\x0a\x02" * 200 + b"\x00"]
    for addr, method in (
        (search_addr, "/hiremesh.v1.SearchService/GetCandidate"),
        (guardrail_addr, "/hiremesh.v1.GuardrailService/Scan"),
    ):
        async with channel(addr) as chan:
            rpc = chan.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
            for payload in bombs:
                with pytest.raises(grpc.aio.AioRpcError) as bad:
                    await rpc(payload, timeout=30)
                assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (method, payload[:8], bad.value)


# --- multipart ------------------------------------------------------------------------------------------


def _resume(i: int, size: int) -> bytes:
    head = f"Person {secrets.token_hex(4)} Batchwise\nPython and SQL developer, {i + 1} years.\n".encode()
    words = " ".join(secrets.token_hex(3) for _ in range(size // 7))
    return head + words.encode()[: max(size - len(head), 0)]


def _multipart(files: list[tuple[str, bytes]], fields: Sequence[tuple[str, str]] = ()) -> tuple[bytes, str]:
    boundary = "hm" + secrets.token_hex(8)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n'.encode() for n, v in fields]
    parts += [
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{n}"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + body
        + b"\r\n"
        for n, body in files
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


async def _chunked(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i : i + size]


def _imports_calls(search_addr: str) -> float:
    import urllib.request

    text = (
        urllib.request.urlopen(f"http://127.0.0.1:{process_at(search_addr).metrics_port}/metrics", timeout=10)
        .read()
        .decode()
    )
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("hiremesh_grpc_requests_total{")
        and 'method="/hiremesh.v1.SearchService/ImportCandidates"' in line
    )


async def _post(http: aiohttp.ClientSession, url: str, body: Any, content_type: str, token: str) -> tuple[int, Any]:
    async with http.post(
        url, data=body, headers={"Authorization": f"Bearer {token}", "Content-Type": content_type}
    ) as resp:
        text = await resp.text()
        return resp.status, text


async def test_one_byte_budget_for_every_part_chunked_or_not(mesh: Mesh) -> None:
    async with (
        own_gateway(
            mesh,
            HIREMESH_GATEWAY_MAX_UPLOAD_MB="1",
            HIREMESH_GATEWAY_MAX_IMPORT_MB="2",
            HIREMESH_GATEWAY_IMPORT_BATCH_MB="1",
        ) as (url, _proc),
        aiohttp.ClientSession() as http,
    ):
        token = mesh.recruiter_token
        # Three files of 0.9 MB: each under the per-file limit, together over the 2 MB request budget.
        body, kind = _multipart([(f"b{i}.txt", _resume(i, 900_000)) for i in range(3)])
        for data in (body, _chunked(body)):  # with Content-Length, and chunked (no length announced)
            status, text = await _post(http, f"{url}/api/v1/imports", data, kind, token)
            assert status == 413, text
        # A single upload: the file plus its text fields count together.
        fields = [(f"f{i}", "x" * 60_000) for i in range(20)]
        body, kind = _multipart([("one.txt", _resume(0, 1000))], fields)
        status, text = await _post(http, f"{url}/api/v1/candidates", _chunked(body), kind, token)
        assert status == 413, text
        # More form fields than allowed is a 400 naming the limit, not an unbounded dict.
        body, kind = _multipart([("one.txt", _resume(0, 1000))], [(f"k{i}", "v") for i in range(40)])
        status, text = await _post(http, f"{url}/api/v1/imports", body, kind, token)
        assert status == 400 and "form fields" in text, text
        # A chunked JSON body over the JSON limit (the upload limit + 1 MB here) is 413 as it arrives.
        big = b'{"title": "' + b"a" * (3 * 1024 * 1024) + b'"}'
        status, text = await _post(http, f"{url}/api/v1/jobs", _chunked(big), "application/json", token)
        assert status == 413, text


async def test_imports_reach_search_in_batches_as_they_arrive(mesh: Mesh, search_addr: str) -> None:
    async with (
        own_gateway(
            mesh,
            HIREMESH_GATEWAY_MAX_UPLOAD_MB="1",
            HIREMESH_GATEWAY_MAX_IMPORT_MB="8",
            HIREMESH_GATEWAY_IMPORT_BATCH_MB="1",
        ) as (url, _proc),
        aiohttp.ClientSession() as http,
    ):
        before = _imports_calls(search_addr)
        # Each under the embedder's 100 KB text limit; 24 x 90 KB make three 1 MB batches.
        body, kind = _multipart([(f"s{i}.txt", _resume(i, 90_000)) for i in range(24)])
        status, text = await _post(http, f"{url}/api/v1/imports", _chunked(body), kind, mesh.recruiter_token)
        assert status == 202, text
        op_id = json.loads(text)["id"]
        async with http.ws_connect(f"{url}/ws/tasks/{op_id}", headers=mesh.headers("recruiter")) as ws:
            while True:
                msg = await ws.receive_json(timeout=300)
                if msg.get("status") in ("completed", "failed"):
                    break
        assert msg["status"] == "completed", msg.get("error")
        summary = msg["result"]["summary"]
        assert int(summary["created"]) + int(summary["duplicates"]) == 24 and int(summary.get("failed", 0)) == 0
        # 1 MB batches: several ImportCandidates calls, never the whole request in one message.
        assert _imports_calls(search_addr) - before >= 2
