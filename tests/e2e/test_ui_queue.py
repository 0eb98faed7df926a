"""The E-mails and Task queue pages in a real Chromium against the real mesh (and its real SMTP server).

Run on their own: `.venv/bin/pytest -m browser tests/e2e/test_ui_queue.py`. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from tests.e2e.test_ui import browser, shot, sign_in  # noqa: F401 (the browser fixture)
from tests.fixtures.mail import REFUSED_DOMAIN
from tests.fixtures.mesh import Mesh

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]


async def post(http: aiohttp.ClientSession, path: str, body: dict[str, Any], status: int) -> dict[str, Any]:
    async with http.post(f"/api/v1{path}", json=body) as resp:
        assert resp.status == status, await resp.text()
        return dict(await resp.json())


async def applied(http: aiohttp.ClientSession, email: str, tag: str) -> dict[str, Any]:
    job = (
        await post(
            http,
            "/jobs",
            {"title": f"Rigger {tag}", "company": "Mailroom Ltd", "description": "Rigging and lifting plans."},
            201,
        )
    )["job"]
    cand = await post(
        http,
        "/candidates",
        {
            "name": f"Sam {tag} {email[:3]}",
            "email": email,
            "resume_text": f"Sam {tag}: rigger, lifting plans, {email}.",
        },
        201,
    )
    await post(http, "/applications", {"candidate_id": cand["candidate"]["id"], "job_id": job["id"]}, 201)
    return {"job": job, "candidate": cand["candidate"]}


async def test_outbox_and_task_queue_pages(browser: Browser, mesh: Mesh) -> None:  # noqa: F811
    tag = uuid.uuid4().hex[:5]
    bounced = f"bounce.{tag}@{REFUSED_DOMAIN}"
    fine = f"fine.{tag}@example.com"
    async with aiohttp.ClientSession(mesh.url, headers=mesh.headers("admin")) as http:
        await applied(http, bounced, tag)
        made = await applied(http, fine, tag)

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    await sign_in(page, mesh, mesh.admin_token)

    # The outbox: the refused message failed with the server's answer and can be resent; the other was sent.
    await page.click("[data-nav=mail]")
    failed_row = page.locator(".mail-row", has_text=bounced)
    sent_row = page.locator(".mail-row", has_text=fine)
    await expect(failed_row).to_have_attribute("data-state", "failed", timeout=60_000)
    await expect(sent_row).to_have_attribute("data-state", "sent", timeout=60_000)
    await expect(failed_row.locator(".error-text")).to_contain_text("550")
    await expect(sent_row.locator("button.resend")).to_have_count(0)
    await page.select_option("#mail-state", "failed")
    await expect(page.locator(".mail-row", has_text=fine)).to_have_count(0)
    await expect(failed_row).to_be_visible()
    await shot(page, "10-mail-outbox")
    await failed_row.locator("button.resend").click()
    await page.select_option("#mail-state", "")
    # Queued again, tried once more by the task queue, refused again: the page follows it by itself.
    await expect(failed_row).to_have_attribute("data-state", "failed", timeout=60_000)
    await expect(failed_row.locator(".error-text")).to_contain_text("550")

    # The task queue, live over /ws/queue: both workers, and a new screening appears and finishes unprompted.
    await page.click("[data-nav=tasks]")
    body = page.locator("body")
    await expect(body).to_have_attribute("data-queue-feed", "on", timeout=30_000)
    workers = page.locator("#queue-workers")
    await expect(workers).to_contain_text(":screening")
    await expect(workers).to_contain_text(":mail")
    await expect(page.locator("#queue-throughput svg")).to_be_visible()
    async with aiohttp.ClientSession(mesh.url, headers=mesh.headers("recruiter")) as http:
        task = (
            await post(
                http,
                "/screenings",
                {"candidate_id": made["candidate"]["id"], "job_id": made["job"]["id"], "engine": "evidence"},
                202,
            )
        )["task"]
    row = page.locator(".job-row[data-task='screening.run']", has=page.locator(f"a[href='#/screenings/{task['id']}']"))
    await expect(row).to_have_attribute("data-state", "succeeded", timeout=120_000)
    await expect(row).to_contain_text(re.compile(r"\d+\.\d\d s"))
    mail_jobs = page.locator(".job-row[data-task='mail.deliver'][data-state='failed']")
    await expect(mail_jobs.first.locator("button.retry")).to_be_visible()
    await shot(page, "11-task-queue")
    assert await page.evaluate("document.body.dataset.queueFeed") == "on"

    # The analytics page says how fresh the warehouse is.
    await page.click("[data-nav=analytics]")
    await expect(page.locator("#synced-at")).to_contain_text(re.compile(r"last synced|not been synced"))

    # A phone: both pages fit the screen.
    await page.set_viewport_size({"width": 390, "height": 844})
    for nav in ("mail", "tasks"):
        await page.click(f"[data-nav={nav}]")
        await expect(page.locator("#mail-table, #queue-jobs").first).to_be_visible(timeout=30_000)
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), nav
    await shot(page, "12-phone-task-queue")
    assert not [e for e in errors if "401" not in e], errors
    await context.close()


async def test_only_admins_get_resend_cancel_and_retry(browser: Browser, mesh: Mesh) -> None:  # noqa: F811
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await sign_in(page, mesh, mesh.recruiter_token)
    await page.click("[data-nav=mail]")
    await expect(page.locator(".mail-row").first).to_be_visible(timeout=60_000)
    await expect(page.locator("button.resend")).to_have_count(0)
    await page.click("[data-nav=tasks]")
    await expect(page.locator(".job-row").first).to_be_visible(timeout=60_000)
    await expect(page.locator("#queue-jobs button")).to_have_count(0)
    await context.close()
