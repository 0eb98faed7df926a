"""Upload names from the client are data, never a path: nothing is written where the client says."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import aiohttp
import pytest

from tests.fixtures.mesh import Mesh

pytestmark = pytest.mark.asyncio(loop_scope="session")

HOSTILE_NAMES = [
    "../../etc/passwd",
    "../../../../tmp/hiremesh-pwned.txt",
    "/etc/shadow",
    "..\\..\\windows\\win.ini",
    "../" * 20 + "root/.bashrc",
]


def _multipart(field: str, file_name: str, content: bytes) -> tuple[bytes, str]:
    """A form with the file name sent verbatim, as a browser or curl would (aiohttp's FormData %-quotes it)."""
    boundary = "hiremesh" + secrets.token_hex(8)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{file_name}"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _snapshot(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")} if folder.exists() else set()


async def test_hostile_file_names_are_not_paths(mesh: Mesh) -> None:
    before = _snapshot(mesh.home)
    pwned = Path("/tmp/hiremesh-pwned.txt")
    existed = await asyncio.to_thread(pwned.exists)
    async with aiohttp.ClientSession() as http:
        for name in HOSTILE_NAMES:
            text = f"Ada Pathwalker {secrets.token_hex(4)}\nPython and Go developer, 5 years.\n"
            body_bytes, content_type = _multipart("resume", name, text.encode())
            async with http.post(
                f"{mesh.url}/api/v1/candidates",
                data=body_bytes,
                headers={**mesh.headers("recruiter"), "Content-Type": content_type},
            ) as resp:
                body = await resp.json()
            if resp.status == 400:
                continue  # refusing a hostile name outright is fine too
            assert resp.status == 201, body
            stored = body["candidate"]["resume_file_name"]
            assert "/" not in stored and "\\" not in stored and ".." not in stored and "\x00" not in stored, (
                f"client path kept as the stored file name: {name!r} -> {stored!r}"
            )
    assert await asyncio.to_thread(pwned.exists) == existed, "an upload name escaped into /tmp"
    created = _snapshot(mesh.home) - before
    assert not [p for p in created if p.name in {"passwd", "shadow", "win.ini", ".bashrc"}], created


async def test_imports_keep_hostile_names_as_labels_only(mesh: Mesh) -> None:
    text = f"Bo Traversal {secrets.token_hex(4)}\nRust and Python engineer.\n"
    body, content_type = _multipart("files", "../../../etc/cron.d/evil", text.encode())
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{mesh.url}/api/v1/imports", data=body, headers={**mesh.headers("recruiter"), "Content-Type": content_type}
        ) as resp,
    ):
        assert resp.status in (202, 400), await resp.text()
    assert not await asyncio.to_thread(Path("/etc/cron.d/evil").exists)


async def test_oversized_upload_is_413_not_a_crash(mesh: Mesh) -> None:
    form = aiohttp.FormData()
    form.add_field("resume", b"a" * (11 * 1024 * 1024), filename="big.txt", content_type="text/plain")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{mesh.url}/api/v1/candidates", data=form, headers=mesh.headers("recruiter")) as resp:
            assert resp.status == 413, await resp.text()
        async with http.get(f"{mesh.url}/healthz") as resp:
            assert resp.status == 200
