"""The gateway's import feed adds every batch's outcome into the one summary the operation ends with."""

from __future__ import annotations

from collections.abc import AsyncIterator

from gateway.imports import _END, ImportFeed
from hiremesh.v1 import search_pb2 as pb


def _batch_reply(request: pb.ImportCandidatesRequest) -> AsyncIterator[pb.ImportCandidatesResponse]:
    """What search_svc answers for a batch: files named bad* fail with a reason, the others are created."""

    async def replies() -> AsyncIterator[pb.ImportCandidatesResponse]:
        bad = [f.file_name for f in request.files if f.file_name.startswith("bad")]
        good = [f.file_name for f in request.files if not f.file_name.startswith("bad")]
        errors = [pb.ImportRecordError(source=name, reason=f"{name} is corrupt") for name in bad]
        yield pb.ImportCandidatesResponse(errors=errors)
        yield pb.ImportCandidatesResponse(
            summary=pb.ImportSummary(
                total=len(request.files),
                created=len(good),
                failed=len(bad),
                candidate_ids=[f"id-{n}" for n in good],
                errors=errors,
            )
        )

    return replies()


async def test_the_final_summary_names_the_failed_files_of_every_batch() -> None:
    feed = ImportFeed(_batch_reply, depth=4)  # room for the three batches and the end
    for names in (["a.txt", "bad1.doc"], ["b.txt"], ["bad2.pdf", "c.txt"]):
        assert await feed.put([pb.ResumeFile(file_name=n, content=b"x") for n in names])
    assert await feed.put(_END)
    replies = [reply async for reply in feed.replies()]
    summary = replies[-1].summary
    assert (summary.total, summary.created, summary.failed) == (5, 3, 2)
    assert [(e.source, e.reason) for e in summary.errors] == [
        ("bad1.doc", "bad1.doc is corrupt"),
        ("bad2.pdf", "bad2.pdf is corrupt"),
    ]
    assert list(summary.candidate_ids) == ["id-a.txt", "id-b.txt", "id-c.txt"]
