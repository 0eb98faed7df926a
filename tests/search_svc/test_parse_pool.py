"""Parser worker processes: real workers, real limits; an overrun costs a worker (replaced), never the caller's pool."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from hiremesh.errors import InvalidArgument
from search_svc import ingest
from search_svc.formats.limits import MB, ParseLimits
from search_svc.parse_pool import ParseJob, ParserPool
from tests.search_svc.format_files import REAL_DOC, RESUME, png_bytes
from tests.search_svc.resumes import RESUME_LINES, docx_bytes

pytestmark = pytest.mark.timeout(600)

# A dense page: OCR takes many seconds on any machine, far past the 2 s limit below.
SLOW_PAGE = png_bytes([f"{line} {i}" for i in range(16) for line in RESUME], size=30, width=1654)


def job(content: bytes, name: str) -> ParseJob:
    return ParseJob(content, "", name, "resume")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child can linger as a zombie until reaped; only a running one counts.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[1][0] != "Z"


def xml_heavy_docx(paragraphs: int) -> bytes:
    """A valid DOCX with millions of tiny paragraphs: small on disk, hundreds of MB as an XML tree."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes(RESUME_LINES)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                package.writestr(info, source.read(info.filename))
                continue
            target = zipfile.ZipInfo(info.filename)
            target.compress_type = zipfile.ZIP_DEFLATED
            with package.open(target, "w", force_zip64=True) as part:
                part.write(
                    b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                    b'wordprocessingml/2006/main"><w:body>'
                )
                block = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 1000
                for _ in range(paragraphs // 1000):
                    part.write(block)
                part.write(b"</w:body></w:document>")
    return out.getvalue()


@pytest_asyncio.fixture(loop_scope="session")
async def pool() -> AsyncIterator[ParserPool]:
    parsers = ParserPool(ParseLimits(timeout_s=2.0), workers=1)
    await parsers.start()
    try:
        yield parsers
    finally:
        await parsers.close()


async def test_files_are_parsed_in_a_separate_limited_process(pool: ParserPool) -> None:
    out = await pool.extract(job(REAL_DOC.read_bytes(), REAL_DOC.name))
    assert out.media_type == ingest.DOC and out.text.startswith("Maryala Vinay Reddy")
    [pid] = pool.worker_pids()
    assert pid != os.getpid()
    limits = await asyncio.to_thread(Path(f"/proc/{pid}/limits").read_text)
    line = next(x for x in limits.splitlines() if x.startswith("Max address space"))
    assert str(3072 * MB) in line
    with pytest.raises(InvalidArgument) as err:  # an unreadable file is the caller's error, not the worker's
        await pool.extract(job(b"%PDF-1.7 broken", "broken.pdf"))
    assert "'broken.pdf': corrupt or unreadable PDF" in err.value.message and pool.worker_pids() == [pid]


async def test_a_file_over_the_time_limit_kills_and_replaces_the_worker(pool: ParserPool) -> None:
    [before] = pool.worker_pids()
    with pytest.raises(InvalidArgument) as err:
        await pool.extract(job(SLOW_PAGE, "dense-scan.png"))
    assert err.value.field == "resume.content"
    assert "'dense-scan.png' is over a limit: reading it took longer than the time limit of 2 s" in err.value.message
    assert not alive(before)
    out = await pool.extract(job(b"Ada Lovelace\nEngineer", "next.txt"))  # the pool still serves
    assert out.text == "Ada Lovelace\nEngineer"
    [after] = pool.worker_pids()
    assert after != before and pool.replaced >= 1


async def test_a_worker_killed_from_outside_is_replaced_before_the_next_file(pool: ParserPool) -> None:
    [before] = pool.worker_pids()
    os.kill(before, signal.SIGKILL)
    out = await pool.extract(job(REAL_DOC.read_bytes(), "again.doc"))
    assert out.media_type == ingest.DOC and pool.worker_pids() != [before]


async def test_a_caller_that_gives_up_does_not_lose_the_worker(pool: ParserPool) -> None:
    slow = asyncio.create_task(pool.extract(job(SLOW_PAGE, "abandoned.png")))
    await asyncio.sleep(0.1)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    out = await asyncio.wait_for(pool.extract(job(b"Grace Hopper", "after.txt")), 120)
    assert out.text == "Grace Hopper"


async def test_a_file_over_the_memory_limit_names_it_and_the_pool_serves_on() -> None:
    limits = ParseLimits(ocr=False, memory_bytes=700 * MB, max_ratio=1e6, max_inflated_bytes=2048 * MB)
    parsers = ParserPool(limits, workers=1)
    await parsers.start()
    try:
        with pytest.raises(InvalidArgument) as err:
            await parsers.extract(job(xml_heavy_docx(3_000_000), "heavy.docx"))
        assert (
            "'heavy.docx' is over a limit: reading it needs more than the memory limit of 700 MB" in err.value.message
        )
        out = await parsers.extract(job(docx_bytes(RESUME_LINES), "fine.docx"))
        assert out.text.startswith("Maria Gonzalez")
    finally:
        await parsers.close()


async def test_two_workers_read_two_files_at_once() -> None:
    parsers = ParserPool(ParseLimits(ocr=False), workers=2)
    await parsers.start()
    try:
        outs = await asyncio.gather(*(parsers.extract(job(REAL_DOC.read_bytes(), f"{i}.doc")) for i in range(4)))
        assert {o.sha256 for o in outs} == {ingest.extract(REAL_DOC.read_bytes()).sha256}
        assert len(set(parsers.worker_pids())) == 2
    finally:
        await parsers.close()
