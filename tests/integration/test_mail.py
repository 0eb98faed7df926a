"""Candidate e-mails end to end: search_svc's outbox, screening_svc's relay and worker, a real SMTP server.

Every test drives the public gRPC API and reads what arrived in the Maildir of the local SMTP server
(aiosmtpd, the one `hiremesh up` runs); the outbox rows are read back through ListNotifications.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar

import grpc
import psycopg
import pytest
from google.protobuf import field_mask_pb2

from hiremesh.clients import screening_stub, search_stub
from hiremesh.v1 import common_pb2, screening_pb2, search_pb2, search_pb2_grpc
from hiremesh_ops.mailsink import messages
from tests.fixtures.mail import MailStack, start_mail_stack, start_sink
from tests.fixtures.procs import free_port

T = 30.0
pytestmark = pytest.mark.timeout(300)
_V = TypeVar("_V")


def state_name(value: search_pb2.NotificationState.ValueType) -> str:
    return search_pb2.NotificationState.Name(value).removeprefix("NOTIFICATION_STATE_").lower()


def to(folder: Path, address: str) -> list[EmailMessage]:
    return [m for m in messages(folder) if m["To"] == address]


async def arrived(folder: Path, address: str, count: int = 1) -> list[EmailMessage]:
    """The mails to `address` once `count` have arrived (more would show up in the caller's assertion)."""

    async def check() -> list[EmailMessage] | None:
        found = to(folder, address)
        return found if len(found) >= count else None

    return await wait_for(check, f"{count} mail(s) to {address}")


async def wait_for(check: Callable[[], Awaitable[_V | None]], what: str, timeout: float = 60.0) -> _V:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def make_job(search: search_pb2_grpc.SearchServiceAsyncStub, title: str = "") -> search_pb2.Job:
    title = title or f"Data Engineer {uuid.uuid4().hex[:5]}"
    return (
        await search.CreateJob(
            search_pb2.CreateJobRequest(
                job=search_pb2.Job(title=title, company="Analytical Engines", description="Python and SQL pipelines.")
            ),
            timeout=T,
        )
    ).job


async def make_candidate(
    search: search_pb2_grpc.SearchServiceAsyncStub, email: str, opt_out: bool = False, name: str = ""
) -> search_pb2.Candidate:
    name = name or f"Ada {uuid.uuid4().hex[:5]}"
    return (
        await search.CreateCandidate(
            search_pb2.CreateCandidateRequest(
                candidate=search_pb2.Candidate(
                    name=name,
                    email=email,
                    email_opt_out=opt_out,
                    resume_text=f"{name}. Data engineer, Python and SQL, {uuid.uuid4()}.",
                )
            ),
            timeout=T,
        )
    ).candidate


async def apply(
    search: search_pb2_grpc.SearchServiceAsyncStub, candidate_id: str, job_id: str
) -> search_pb2.Application:
    return (
        await search.CreateApplication(
            search_pb2.CreateApplicationRequest(
                application=search_pb2.Application(candidate_id=candidate_id, job_id=job_id)
            ),
            timeout=T,
        )
    ).application


async def set_status(
    search: search_pb2_grpc.SearchServiceAsyncStub, application_id: str, status: common_pb2.ApplicationStatus.ValueType
) -> search_pb2.Application:
    return (
        await search.UpdateApplication(
            search_pb2.UpdateApplicationRequest(
                application=search_pb2.Application(id=application_id, status=status),
                update_mask=field_mask_pb2.FieldMask(paths=["status"]),
            ),
            timeout=T,
        )
    ).application


async def notifications(
    search: search_pb2_grpc.SearchServiceAsyncStub, application_id: str
) -> list[search_pb2.Notification]:
    reply = await search.ListNotifications(
        search_pb2.ListNotificationsRequest(application_id=application_id), timeout=T
    )
    return list(reply.notifications)


async def settled(
    search: search_pb2_grpc.SearchServiceAsyncStub, application_id: str, count: int
) -> list[search_pb2.Notification]:
    """The application's `count` messages once none is queued any more."""

    async def check() -> list[search_pb2.Notification] | None:
        found = await notifications(search, application_id)
        done = len(found) == count and all(state_name(n.state) != "queued" for n in found)
        return found if done else None

    return await wait_for(check, f"{count} settled message(s) of application {application_id}")


async def test_each_status_change_mails_the_candidate_once(mail_stack: MailStack) -> None:
    search = search_stub(mail_stack.search_addr)
    job = await make_job(search)
    address = f"ada.{uuid.uuid4().hex[:6]}@example.com"
    cand = await make_candidate(search, address, name="Ada Lovelace")
    app = await apply(search, cand.id, job.id)
    await set_status(search, app.id, common_pb2.APPLICATION_STATUS_REVIEWING)
    # A retried update (same status again, also concurrently) adds no message.
    await asyncio.gather(*[set_status(search, app.id, common_pb2.APPLICATION_STATUS_REJECTED) for _ in range(4)])
    await set_status(search, app.id, common_pb2.APPLICATION_STATUS_REJECTED)

    rows = await settled(search, app.id, 3)
    assert sorted(common_pb2.ApplicationStatus.Name(n.application_status) for n in rows) == [
        "APPLICATION_STATUS_PENDING",
        "APPLICATION_STATUS_REJECTED",
        "APPLICATION_STATUS_REVIEWING",
    ]
    assert all(state_name(n.state) == "sent" and n.attempts == 1 and n.sent_at.seconds for n in rows), rows
    mails = await arrived(mail_stack.folder, address, 3)
    assert len(mails) == 3, [m["Subject"] for m in mails]
    for mail in mails:
        assert mail["Subject"] == f"Application update: {job.title}"
        assert mail["Delivered-To"] == address and mail["From"].addresses[0].addr_spec == "no-reply@hiremesh.local"
        assert mail["Message-ID"].removeprefix("<").removesuffix("@hiremesh>") in {n.id for n in rows}
    bodies = {m["Message-ID"]: m.get_content().replace("\r\n", "\n") for m in mails}
    rejected = next(n for n in rows if n.application_status == common_pb2.APPLICATION_STATUS_REJECTED)
    body = bodies[f"<{rejected.id}@hiremesh>"]
    assert "Dear Ada Lovelace," in body and "not selected" in body and job.title in body
    assert "Analytical Engines" in body and body == rejected.body.replace("\r\n", "\n")


async def test_opted_out_or_addressless_candidates_get_nothing_but_the_change_is_kept(mail_stack: MailStack) -> None:
    search = search_stub(mail_stack.search_addr)
    job = await make_job(search)
    quiet = f"quiet.{uuid.uuid4().hex[:6]}@example.com"
    opted = await make_candidate(search, quiet, opt_out=True)
    nobody = await make_candidate(search, "")
    loud = f"loud.{uuid.uuid4().hex[:6]}@example.com"
    barrier = await make_candidate(search, loud)
    app_opted = await apply(search, opted.id, job.id)
    app_nobody = await apply(search, nobody.id, job.id)
    moved = await set_status(search, app_opted.id, common_pb2.APPLICATION_STATUS_HIRED)
    assert moved.status == common_pb2.APPLICATION_STATUS_HIRED and moved.decided_at.seconds
    await apply(search, barrier.id, job.id)
    # The barrier's message was written last: once it arrived, the relay has seen the others too.
    await arrived(mail_stack.folder, loud)

    for app_id, count, reason in ((app_opted.id, 2, "opted out"), (app_nobody.id, 1, "no e-mail address")):
        rows = await settled(search, app_id, count)
        assert all(state_name(n.state) == "skipped" and reason in n.error and n.attempts == 0 for n in rows), rows
    assert to(mail_stack.folder, quiet) == []
    # Opting out later stops messages not yet sent; the candidate can opt in again.
    updated = (
        await search.UpdateCandidate(
            search_pb2.UpdateCandidateRequest(
                candidate=search_pb2.Candidate(id=opted.id, email_opt_out=False),
                update_mask=field_mask_pb2.FieldMask(paths=["email_opt_out"]),
            ),
            timeout=T,
        )
    ).candidate
    assert updated.email_opt_out is False
    await set_status(search, app_opted.id, common_pb2.APPLICATION_STATUS_REVIEWING)
    [mail] = await arrived(mail_stack.folder, quiet)
    assert "under review" in mail.get_content()


async def test_bad_addresses_and_statuses_are_named(mail_stack: MailStack) -> None:
    search = search_stub(mail_stack.search_addr)
    for bad in ("not-an-email", "ada@example", "ada@example.com\nBcc: eve@example.com", "a b@example.com"):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await make_candidate(search, bad)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "candidate.email" in (info.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        # 99 is no NotificationState, on purpose
        await search.ListNotifications(search_pb2.ListNotificationsRequest(state=99), timeout=T)  # type: ignore[arg-type]
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and (info.value.details() or "").startswith("state")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await search.PreviewNotification(
            search_pb2.PreviewNotificationRequest(
                application_status=common_pb2.APPLICATION_STATUS_HIRED, body_template="Hi {candidate_name}, {salary}"
            ),
            timeout=T,
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (info.value.details() or "").startswith("body_template: unknown placeholder {salary}")
    preview = await search.PreviewNotification(
        search_pb2.PreviewNotificationRequest(application_status=common_pb2.APPLICATION_STATUS_HIRED), timeout=T
    )
    assert preview.subject == "Application update: Data Engineer" and "Congratulations" in preview.body


async def test_smtp_down_retries_with_backoff_then_fails_and_a_resend_delivers(
    pg_url: str, embedding_addr: str, guardrail_addr: str
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="hiremesh-mail-down-")) / "mail"
    port = free_port()  # nothing listens here until the server is started below
    stack = await start_mail_stack(pg_url, embedding_addr, guardrail_addr, port, sink=None)
    sink = None
    try:
        search = search_stub(stack.search_addr)
        job = await make_job(search)
        address = f"grace.{uuid.uuid4().hex[:6]}@example.com"
        cand = await make_candidate(search, address)
        app = await apply(search, cand.id, job.id)
        moved = await set_status(search, app.id, common_pb2.APPLICATION_STATUS_ACCEPTED)
        [pending] = [
            n for n in await settled(search, app.id, 2) if n.application_status == common_pb2.APPLICATION_STATUS_PENDING
        ]
        rows = await settled(search, app.id, 2)
        for n in rows:
            assert state_name(n.state) == "failed" and n.attempts == 5, n
            assert "all 5 attempts failed" in n.error and "SMTPConnectError" in n.error
        # The status change itself was committed and stays.
        got = (await search.GetApplication(search_pb2.GetApplicationRequest(id=app.id), timeout=T)).application
        assert got.status == common_pb2.APPLICATION_STATUS_ACCEPTED == moved.status

        # Back-off: each retry was scheduled 0.2 s * 2^(n-1) after the attempt that failed.
        async with await psycopg.AsyncConnection.connect(stack.database_url) as conn:
            cur = await conn.execute(
                """
                SELECT e.type::text, e.at FROM procrastinate.procrastinate_events e
                  JOIN procrastinate.procrastinate_jobs j ON j.id = e.job_id
                 WHERE j.queueing_lock = %s ORDER BY e.id""",
                (f"mail:{pending.id}",),
            )
            events = await cur.fetchall()
        kinds = [k for k, _ in events]
        assert kinds.count("started") == 5 and kinds.count("deferred_for_retry") == 4 and kinds[-1] == "failed"
        retried = [at for k, at in events if k == "deferred_for_retry"]
        scheduled = [at for k, at in events if k == "scheduled"]
        waits = [(s - r).total_seconds() for r, s in zip(retried, scheduled, strict=True)]
        expected = [0.2, 0.4, 0.8, 1.6]
        assert all(want - 0.1 < got <= want + 0.05 for got, want in zip(waits, expected, strict=True)), waits

        # The task monitor shows the failed delivery jobs, with the e-mail's error.
        snap = (
            await screening_stub(stack.screening_addr).GetTaskQueue(
                screening_pb2.GetTaskQueueRequest(queue="mail"), timeout=T
            )
        ).snapshot
        failed = [j for j in snap.jobs if j.reference_id == pending.id]
        assert failed and failed[0].state == screening_pb2.QUEUE_JOB_STATE_FAILED and failed[0].attempts == 5
        assert failed[0].task_name == "mail.deliver" and "SMTPConnectError" in failed[0].error

        # The server comes back; a resend delivers the message that was kept.
        sink = start_sink(folder, port)
        resent = (
            await search.ResendNotification(search_pb2.ResendNotificationRequest(id=pending.id), timeout=T)
        ).notification
        assert state_name(resent.state) == "queued" and resent.attempts == 0
        mails = await arrived(folder, address)
        assert len(mails) == 1 and mails[0]["Message-ID"] == f"<{pending.id}@hiremesh>"
        final = await search.GetNotification(search_pb2.GetNotificationRequest(id=pending.id), timeout=T)
        assert state_name(final.notification.state) == "sent" and final.notification.attempts == 1
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await search.ResendNotification(search_pb2.ResendNotificationRequest(id=pending.id), timeout=T)
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    finally:
        await stack.screening.stop()
        await stack.search.stop()
        if sink is not None:
            sink.stop()
        shutil.rmtree(folder.parent, ignore_errors=True)
