"""Applications (a candidate applying to a job): unique per pair, decided_at tracks the decision."""

from __future__ import annotations

from typing import Any

from psycopg import sql
from psycopg.errors import ForeignKeyViolation
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from hiremesh import page_tokens
from hiremesh.errors import AlreadyExists, InvalidArgument, NotFound
from search_svc import paging, request_ids
from search_svc.outbox import Outbox
from search_svc.records import APPLICATION_FIELDS, APPLICATION_STATUSES, DECIDED_STATUSES, Application, Page

_COLUMNS = ("id", "candidate_id", "job_id", "status", "notes", "applied_at", "updated_at", "decided_at")
_SELECT = sql.SQL("SELECT {cols} FROM catalog.applications").format(
    cols=sql.SQL(", ").join(sql.Identifier(c) for c in _COLUMNS)
)
_DECIDED = sorted(DECIDED_STATUSES)


def _check_status(status: str) -> None:
    if status not in APPLICATION_STATUSES:
        raise InvalidArgument("application.status", f"must be one of {', '.join(APPLICATION_STATUSES)}")


class Applications:
    """Applications and, in the same transactions, the candidate e-mails their changes cause."""

    def __init__(self, pool: AsyncConnectionPool[Any], outbox: Outbox) -> None:
        self.pool = pool
        self.outbox = outbox

    async def create(
        self,
        candidate_id: str,
        job_id: str,
        status: str = "",
        notes: str = "",
        *,
        reuse_existing: bool = False,
        opened_for_candidate: bool = False,
        request_id: str = "",
    ) -> tuple[Application, bool]:
        """The new application and True, or (with `reuse_existing`) the pair's existing one and False; with a
        `request_id` seen before, the one that request created (and True, as it answered then).

        The candidate's e-mail about the new status is written in the same transaction; an application
        `opened_for_candidate` (by a screening, not by applying) records that e-mail as skipped."""
        candidate_id = paging.parse_id(candidate_id, "application.candidate_id")
        job_id = paging.parse_id(job_id, "application.job_id")
        status = status or "pending"
        _check_status(status)
        query = (
            "INSERT INTO catalog.applications (candidate_id, job_id, status, notes, decided_at) "
            "VALUES (%s, %s, %s, %s, CASE WHEN %s::text = ANY(%s::text[]) THEN now() END) "
            "ON CONFLICT (candidate_id, job_id) DO NOTHING RETURNING id"
        )
        try:
            async with self.pool.connection() as conn, conn.transaction():
                if request_id and (done := await request_ids.claim(conn, "application", request_id)):
                    return await self.get(done[0]), True
                cur = await conn.execute(query, (candidate_id, job_id, status, notes, status, _DECIDED))
                row = await cur.fetchone()
                if row is not None:
                    await self.outbox.record(conn, str(row[0]), status, opened_for_candidate=opened_for_candidate)
                    if request_id:
                        await request_ids.remember(conn, "application", request_id, str(row[0]))
        except ForeignKeyViolation as exc:
            constraint = getattr(exc.diag, "constraint_name", "") or ""
            if "candidate" in constraint:
                raise NotFound(
                    f"application.candidate_id: candidate {candidate_id} not found",
                    metadata={"resource": "candidate", "field": "application.candidate_id"},
                ) from None
            raise NotFound(
                f"application.job_id: job {job_id} not found",
                metadata={"resource": "job", "field": "application.job_id"},
            ) from None
        if row is not None:
            return await self.get(str(row[0])), True
        if not reuse_existing:
            raise AlreadyExists(f"candidate {candidate_id} already applied to job {job_id}")
        existing = await self._of_pair(candidate_id, job_id)
        if existing is None:  # deleted between the conflict and this read: rare enough to let the caller retry
            raise AlreadyExists(f"the application of candidate {candidate_id} to job {job_id} changed; retry")
        return existing, False

    async def _of_pair(self, candidate_id: str, job_id: str) -> Application | None:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                sql.SQL("{select} WHERE candidate_id = %s AND job_id = %s").format(select=_SELECT),
                (candidate_id, job_id),
            )
            row = await cur.fetchone()
        return Application.from_row(row) if row else None

    async def get(self, application_id: str) -> Application:
        application_id = paging.parse_id(application_id)
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(sql.SQL("{select} WHERE id = %s").format(select=_SELECT), (application_id,))
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"application {application_id} not found")
        return Application.from_row(row)

    async def update(self, application_id: str, changes: dict[str, Any]) -> Application:
        """Change status and/or notes; moving to accepted/rejected/hired stamps decided_at, moving back clears it."""
        application_id = paging.parse_id(application_id, "application.id")
        unknown = set(changes) - set(APPLICATION_FIELDS)
        if unknown:
            raise InvalidArgument("update_mask", f"not updatable: {', '.join(sorted(unknown))}")
        sets = [sql.SQL("updated_at = now()")]
        params: list[Any] = []
        if "notes" in changes:
            sets.append(sql.SQL("notes = %s"))
            params.append(changes["notes"])
        if "status" in changes:
            status = changes["status"]
            _check_status(status)
            # A repeated decision keeps its original time; a new decision is stamped now.
            sets.append(
                sql.SQL(
                    "decided_at = CASE WHEN %s::text = ANY(%s::text[]) THEN "
                    "CASE WHEN status = %s::text AND decided_at IS NOT NULL THEN decided_at ELSE now() END END, "
                    "status = %s::text"
                )
            )
            params += [status, _DECIDED, status, status]
        query = sql.SQL("UPDATE catalog.applications SET {sets} WHERE id = %s").format(sets=sql.SQL(", ").join(sets))
        async with self.pool.connection() as conn, conn.transaction():
            # The row lock orders concurrent updates, so each sees the status the previous one left.
            cur = await conn.execute(
                "SELECT status FROM catalog.applications WHERE id = %s FOR UPDATE", (application_id,)
            )
            before = await cur.fetchone()
            if before is None:
                raise NotFound(f"application {application_id} not found")
            await conn.execute(query, [*params, application_id])
            if "status" in changes and changes["status"] != before[0]:
                await self.outbox.record(conn, application_id, changes["status"])
        return await self.get(application_id)

    async def delete(self, application_id: str) -> None:
        application_id = paging.parse_id(application_id)
        async with self.pool.connection() as conn:
            cur = await conn.execute("DELETE FROM catalog.applications WHERE id = %s", (application_id,))
            if cur.rowcount == 0:
                raise NotFound(f"application {application_id} not found")

    async def list(
        self, size: int, token: str, job_id: str = "", candidate_id: str = "", status: str = ""
    ) -> Page[Application]:
        size = paging.page_size(size)
        where: list[sql.Composable] = []
        params: list[Any] = []
        if job_id:
            where.append(sql.SQL("job_id = %s"))
            params.append(paging.parse_id(job_id, "job_id"))
        if candidate_id:
            where.append(sql.SQL("candidate_id = %s"))
            params.append(paging.parse_id(candidate_id, "candidate_id"))
        if status:
            _check_status(status)
            where.append(sql.SQL("status = %s"))
            params.append(status)
        key = page_tokens.filter_key("applications", job_id, candidate_id, status)
        after = page_tokens.decode(token, key)
        page_where = list(where)
        page_params = list(params)
        if after is not None:
            page_where.append(sql.SQL("(applied_at, id) > (%s, %s)"))
            page_params += list(after)
        clause = (sql.SQL(" WHERE ") + sql.SQL(" AND ").join(page_where)) if page_where else sql.SQL("")
        count_clause = (sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)) if where else sql.SQL("")
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                sql.SQL("{select}{where} ORDER BY applied_at, id LIMIT %s").format(select=_SELECT, where=clause),
                [*page_params, size + 1],
            )
            rows = await cur.fetchall()
            await cur.execute(
                sql.SQL("SELECT count(*) AS n FROM catalog.applications{w}").format(w=count_clause), params
            )
            total = await cur.fetchone()
        next_token = ""
        if len(rows) > size:
            rows = rows[:size]
            next_token = page_tokens.encode(rows[-1]["applied_at"], str(rows[-1]["id"]), key)
        return Page([Application.from_row(r) for r in rows], next_token, int(total["n"]) if total else 0)
