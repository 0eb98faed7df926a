"""The candidate e-mail outbox (`catalog.notifications`): written with the change that causes a message.

`record` runs inside the caller's transaction (an application created or its status changed), so a change
cannot commit without its message nor a message without its change. One message per (application, status)
(a UNIQUE key): a retried update or a status the candidate was already told about adds nothing. A queued
message is announced with NOTIFY on `CHANNEL` at commit; screening_svc's mail relay turns it into a delivery
job and writes the outcome back here. Nothing in this module logs an address, a name or a body.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from hiremesh import page_tokens
from hiremesh.errors import FailedPrecondition, InvalidArgument, NotFound
from hiremesh.mailaddr import is_email
from search_svc import paging
from search_svc.mail_templates import SAMPLE, Template, TemplateError, Templates, values_for
from search_svc.records import APPLICATION_STATUSES, Page

CHANNEL = "hiremesh_mail_outbox"
STATES = ("queued", "sent", "failed", "skipped")
NO_ADDRESS = "skipped: the candidate has no e-mail address"
BAD_ADDRESS = "skipped: the candidate's e-mail address is not one mail can be sent to"
OPTED_OUT = "skipped: the candidate opted out of e-mails"
OPENED_FOR_CANDIDATE = "skipped: the application was opened for the candidate (by a screening), not by applying"

_COLUMNS = (
    "id",
    "application_id",
    "candidate_id",
    "job_id",
    "application_status",
    "recipient",
    "subject",
    "body",
    "state",
    "attempts",
    "error",
    "queue_job_id",
    "created_at",
    "updated_at",
    "last_attempt_at",
    "sent_at",
)
_SELECT = sql.SQL("SELECT {cols} FROM catalog.notifications").format(
    cols=sql.SQL(", ").join(sql.Identifier(c) for c in _COLUMNS)
)

_CONTEXT: LiteralString = """
    SELECT a.id AS application_id, a.candidate_id, a.job_id, c.name, c.email, c.email_opt_out, j.title, j.company
      FROM catalog.applications a
      JOIN catalog.candidates c ON c.id = a.candidate_id
      JOIN catalog.jobs j ON j.id = a.job_id
     WHERE a.id = %(id)s
"""

_INSERT: LiteralString = """
    INSERT INTO catalog.notifications (application_id, candidate_id, job_id, application_status, recipient, subject,
                                       body, state, error)
    VALUES (%(application_id)s, %(candidate_id)s, %(job_id)s, %(status)s, %(recipient)s, %(subject)s, %(body)s,
            %(state)s, %(error)s)
    ON CONFLICT (application_id, application_status) DO NOTHING
    RETURNING id, state
"""


@dataclass(frozen=True)
class Notification:
    id: str
    application_id: str
    candidate_id: str
    job_id: str
    application_status: str
    recipient: str
    subject: str
    body: str
    state: str
    attempts: int
    error: str
    queue_job_id: int | None
    created_at: datetime
    updated_at: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Notification:
        return cls(
            **{
                **row,
                "id": str(row["id"]),
                "application_id": str(row["application_id"]),
                "candidate_id": str(row["candidate_id"]),
                "job_id": str(row["job_id"]),
            }
        )


@dataclass(frozen=True)
class Preview:
    subject: str
    body: str
    recipient: str


def skip_reason(email: str, opted_out: bool, opened_for_candidate: bool) -> str:
    """Why a message must not be sent ('' when it should be)."""
    if opened_for_candidate:
        return OPENED_FOR_CANDIDATE
    if opted_out:
        return OPTED_OUT
    if not email:
        return NO_ADDRESS
    if not is_email(email):
        return BAD_ADDRESS
    return ""


class Outbox:
    """Writes, lists and re-queues candidate e-mails; rendering uses the configured templates."""

    def __init__(self, pool: AsyncConnectionPool[Any], templates: Templates) -> None:
        self.pool = pool
        self.templates = templates

    async def record(
        self, conn: AsyncConnection[Any], application_id: str, status: str, *, opened_for_candidate: bool = False
    ) -> str | None:
        """Write the message of `application_id` entering `status` in `conn`'s open transaction.

        Returns the new message's id, or None when this (application, status) already has one."""
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(_CONTEXT, {"id": application_id})
            ctx = await cur.fetchone()
            if ctx is None:  # the caller just wrote the application in this transaction
                raise NotFound(f"application {application_id} not found")
            values = values_for(status, ctx["name"], ctx["title"], ctx["company"], application_id)
            subject, body = self.templates.render(status, values)
            reason = skip_reason(ctx["email"], ctx["email_opt_out"], opened_for_candidate)
            await cur.execute(
                _INSERT,
                {
                    "application_id": application_id,
                    "candidate_id": ctx["candidate_id"],
                    "job_id": ctx["job_id"],
                    "status": status,
                    "recipient": ctx["email"],
                    "subject": subject,
                    "body": body,
                    "state": "skipped" if reason else "queued",
                    "error": reason,
                },
            )
            row = await cur.fetchone()
            if row is None:
                return None
            if row["state"] == "queued":
                # Delivered to listeners at commit, and not at all if the transaction rolls back.
                await cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(row["id"])))
            return str(row["id"])

    async def get(self, notification_id: str) -> Notification:
        notification_id = paging.parse_id(notification_id)
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(sql.SQL("{select} WHERE id = %s").format(select=_SELECT), (notification_id,))
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"notification {notification_id} not found")
        return Notification.from_row(row)

    async def list(
        self,
        size: int,
        token: str,
        *,
        application_id: str = "",
        candidate_id: str = "",
        job_id: str = "",
        state: str = "",
        application_status: str = "",
    ) -> Page[Notification]:
        """Newest first, keyset-paged; every filter is optional."""
        size = paging.page_size(size)
        where: list[sql.Composable] = []
        params: list[Any] = []
        for column, value in (("application_id", application_id), ("candidate_id", candidate_id), ("job_id", job_id)):
            if value:
                where.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
                params.append(paging.parse_id(value, column))
        if state:
            if state not in STATES:
                raise InvalidArgument("state", f"must be one of {', '.join(STATES)}")
            where.append(sql.SQL("state = %s"))
            params.append(state)
        if application_status:
            if application_status not in APPLICATION_STATUSES:
                raise InvalidArgument("application_status", f"must be one of {', '.join(APPLICATION_STATUSES)}")
            where.append(sql.SQL("application_status = %s"))
            params.append(application_status)
        key = page_tokens.filter_key("notifications", application_id, candidate_id, job_id, state, application_status)
        after = page_tokens.decode(token, key)
        page_where = list(where)
        page_params = list(params)
        if after is not None:
            page_where.append(sql.SQL("(created_at, id) < (%s, %s)"))
            page_params += list(after)

        def clause(parts: list[sql.Composable]) -> sql.Composable:
            return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(parts) if parts else sql.SQL("")

        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                sql.SQL("{select}{where} ORDER BY created_at DESC, id DESC LIMIT %s").format(
                    select=_SELECT, where=clause(page_where)
                ),
                [*page_params, size + 1],
            )
            rows = await cur.fetchall()
            await cur.execute(
                sql.SQL("SELECT count(*) AS n FROM catalog.notifications{w}").format(w=clause(where)), params
            )
            total = await cur.fetchone()
        next_token = ""
        if len(rows) > size:
            rows = rows[:size]
            next_token = page_tokens.encode(rows[-1]["created_at"], str(rows[-1]["id"]), key)
        return Page([Notification.from_row(r) for r in rows], next_token, int(total["n"]) if total else 0)

    async def resend(self, notification_id: str) -> Notification:
        """Queue a failed message again with its attempts reset; FAILED_PRECONDITION for any other state."""
        notification_id = paging.parse_id(notification_id)
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT state FROM catalog.notifications WHERE id = %s FOR UPDATE", (notification_id,)
            )
            row = await cur.fetchone()
            if row is None:
                raise NotFound(f"notification {notification_id} not found")
            if row[0] != "failed":
                raise FailedPrecondition(f"notification {notification_id} is {row[0]}; only failed ones are resent")
            await conn.execute(
                "UPDATE catalog.notifications SET state = 'queued', attempts = 0, queue_job_id = NULL, "
                "error = 'resend requested; last error: ' || left(error, 900), updated_at = now() WHERE id = %s",
                (notification_id,),
            )
            await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, notification_id))
        return await self.get(notification_id)

    async def preview(self, status: str, subject: str, body: str, application_id: str) -> Preview:
        """Render `status`'s e-mail (or the templates given) for an application, or with sample values."""
        if status not in APPLICATION_STATUSES:
            raise InvalidArgument("application_status", f"must be one of {', '.join(APPLICATION_STATUSES)}")
        configured = self.templates.by_status[status]
        try:
            template = Template.checked(subject or configured.subject, body or configured.body)
        except TemplateError as exc:
            raise InvalidArgument(f"{exc.field}_template", exc.message) from None
        recipient = ""
        if application_id:
            application_id = paging.parse_id(application_id, "application_id")
            async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(_CONTEXT, {"id": application_id})
                ctx = await cur.fetchone()
            if ctx is None:
                raise NotFound(f"application {application_id} not found")
            values = values_for(status, ctx["name"], ctx["title"], ctx["company"], application_id)
            recipient = ctx["email"]
        else:
            values = values_for(status, **SAMPLE)
        subject_out, body_out = template.render(values)
        return Preview(subject_out, body_out, recipient)
