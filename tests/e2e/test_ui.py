"""The web UI in a real Chromium (Debian's, driven by Playwright) against the real mesh.

Run on their own: `.venv/bin/pytest -m browser tests/e2e/test_ui.py`. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect

from tests import real_resumes
from tests.fixtures.mesh import Mesh
from tests.fixtures.procs import REPO, free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RESUMES = {
    "ada-lovelace.txt": "Ada Lovelace\nada@example.com | London\nSenior data engineer, 8 years of experience.\n"
    "Skills: Python, SQL, Apache Airflow, Spark, PostgreSQL, AWS, Docker\n"
    "Built Airflow pipelines and Spark jobs feeding a PostgreSQL warehouse.\n",
    "alan-turing.txt": "Alan Turing\nalan@example.com | Manchester\nData engineer, 4 years of experience.\n"
    "Skills: Python, SQL, Kafka, Docker, statistics\n"
    "Streaming pipelines in Python with Kafka; SQL reporting.\n",
}


@pytest_asyncio.fixture(loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


async def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # A sticky header lands mid-image unless the page is at the top, and bars animate for 0.3 s.
    await page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
    await page.wait_for_timeout(500)
    await page.screenshot(path=str(path), full_page=True)
    return path


async def sign_in(page: Page, mesh: Mesh, token: str) -> None:
    await page.goto(mesh.url + "/")
    await page.fill("#token", token)
    await page.click("#signin-form button[type=submit]")
    await expect(page.locator("#who-name")).to_be_visible()


async def train_models(mesh: Mesh) -> None:
    """Sync the warehouse and train the models over REST, so the prediction form has a model."""
    async with aiohttp.ClientSession(mesh.url, headers=mesh.headers("admin")) as http:
        for path, body in (("/api/v1/analytics/sync", {"mode": "full"}), ("/api/v1/analytics/train", {})):
            async with http.post(path, json=body) as resp:
                assert resp.status == 202, await resp.text()
                op = await resp.json()
            async with http.ws_connect(f"/ws/tasks/{op['id']}") as ws:
                while True:
                    msg = await ws.receive_json(timeout=300)
                    if msg.get("status") in ("completed", "failed"):
                        assert msg["status"] == "completed", msg
                        break


async def test_recruiter_journey(browser: Browser, mesh: Mesh) -> None:
    await train_models(mesh)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    await page.goto(mesh.url + "/")
    await expect(page.locator("#signin-form")).to_be_visible()
    await shot(page, "01-signin")
    await page.fill("#token", "hmk_wrong_token")
    await page.click("#signin-form button[type=submit]")
    await expect(page.locator("#signin-form .error-box")).to_contain_text("not accepted")
    await sign_in(page, mesh, mesh.recruiter_token)
    await expect(page.locator("#who-role")).to_have_text("recruiter")

    # Create a job.
    title = f"Data Engineer {uuid.uuid4().hex[:5]}"
    await page.fill("#job-form input[name=title]", title)
    await page.fill("#job-form input[name=company]", "Playwright Inc")
    await page.fill("#job-form input[name=location]", "London")
    await page.fill("#job-form input[name=min_experience]", "3")
    await page.fill("#job-form input[name=required_skills]", "python, sql, airflow")
    await page.fill(
        "#job-form textarea[name=description]",
        "Build Airflow pipelines in Python and SQL; Spark on AWS; PostgreSQL warehouse.",
    )
    await page.click("#job-form button[type=submit]")
    await expect(page.locator("h1", has_text=title)).to_be_visible()
    job_url = page.url
    assert re.search(r"#/jobs/[\w-]+$", job_url)

    # Upload two resumes by dropping them on the drop zone.
    await page.click("[data-nav=candidates]")
    await expect(page.locator("#dropzone")).to_be_visible()
    transfer = await page.evaluate_handle(
        """(files) => { const dt = new DataTransfer();
             for (const [name, text] of files) dt.items.add(new File([text], name, {type: 'text/plain'}));
             return dt; }""",
        list(RESUMES.items()),
    )
    await page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    await expect(page.locator(".upload-row")).to_have_count(2)
    await expect(page.locator(".upload-row[data-state=done]")).to_have_count(2, timeout=120_000)
    await expect(page.locator("#candidates-list")).to_contain_text("Ada Lovelace")
    await shot(page, "02-candidates")

    # The job's best matches, badged with the score they are ordered by, and matched skills.
    await page.goto(job_url)
    ada = page.locator(".match-card", has_text="Ada Lovelace")
    await expect(ada).to_be_visible(timeout=60_000)
    await expect(page.locator(".match-card", has_text="Alan Turing")).to_be_visible()
    await expect(ada.locator(".relevance")).to_have_text(re.compile(r"^-?\d+(\.\d)?σ$"))  # hybrid: fused z-score
    badges = [float((await b.text_content() or "").rstrip("σ")) for b in await page.locator(".relevance").all()]
    assert badges == sorted(badges, reverse=True)
    await expect(ada.locator(".chip.match", has_text=re.compile("python", re.I))).to_be_visible()

    # Screen one candidate: live progress to 100 %, then the result with its safety report.
    await ada.locator("button.screen").click()
    await expect(ada.locator(".progress")).to_have_attribute("data-progress", "100", timeout=180_000)
    await expect(ada.locator(".progress")).to_have_class(re.compile("done"))
    result = page.locator("#screening-result")
    await expect(result).to_be_visible()
    await expect(result.locator("#match-score")).to_have_text(re.compile(r"^\d+$"))
    await expect(result).to_contain_text("Score breakdown")
    await expect(result.locator("ol.questions li").first).to_be_visible()
    await expect(result).to_contain_text("Agent timings")
    await expect(result.locator("#safety-report")).to_contain_text("Toxicity")
    await shot(page, "03-job-screened")

    # Screen all shown candidates.
    await page.click("#screen-all")
    cards = page.locator(".match-card")
    for i in range(await cards.count()):
        await expect(cards.nth(i).locator(".progress")).to_have_attribute("data-progress", "100", timeout=180_000)
    assert await page.evaluate("document.body.dataset.feed") == "on"  # updates came over the WebSocket

    # Analytics: charts and a hire prediction.
    await page.click("[data-nav=analytics]")
    await expect(page.locator("#kpis .kpi").first).to_be_visible()
    for chart in ("#chart-funnel", "#chart-scores", "#chart-safety"):
        await expect(page.locator(f"{chart} svg")).to_be_visible(timeout=30_000)
    await expect(page.locator("#chart-funnel svg rect").first).to_be_visible()
    await page.click("#predict-form button[type=submit]")
    await expect(page.locator("#hire-probability")).to_have_text(re.compile(r"^\d+%$"), timeout=30_000)
    await shot(page, "04-analytics")

    # A phone-sized screen: nothing wider than the viewport.
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(job_url)
    await expect(page.locator(".match-card").first).to_be_visible(timeout=60_000)
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    await shot(page, "05-phone-job")
    await page.click("[data-nav=analytics]")
    await expect(page.locator("#chart-funnel svg")).to_be_visible(timeout=30_000)
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    await shot(page, "06-phone-analytics")

    assert not [e for e in errors if "401" not in e], errors
    await context.close()


async def test_viewer_sees_read_only_ui(browser: Browser, mesh: Mesh) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await sign_in(page, mesh, mesh.viewer_token)
    await expect(page.locator("#who-role")).to_have_text("viewer")
    await expect(page.locator("#job-form")).to_have_count(0)
    await page.click("[data-nav=candidates]")
    await expect(page.locator("#dropzone")).to_have_count(0)
    await page.click("#signout")
    await expect(page.locator("#signin-form")).to_be_visible()
    await context.close()


async def test_candidate_view_shows_education_and_unnamed(browser: Browser, mesh: Mesh) -> None:
    headers = mesh.headers("recruiter")
    async with aiohttp.ClientSession(mesh.url) as http:
        made = {}
        for key, text in (("named", real_resumes.INDEED_ABHISHEK), ("unnamed", real_resumes.CATEGORY_HR)):
            form = aiohttp.FormData()
            form.add_field(
                "resume", f"{text}\nref {uuid.uuid4().hex}".encode(), filename="scan.txt", content_type="text/plain"
            )
            async with http.post("/api/v1/candidates", data=form, headers=headers) as resp:
                assert resp.status in (200, 201), await resp.text()
                made[key] = (await resp.json())["candidate"]["id"]
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await sign_in(page, mesh, mesh.viewer_token)
    await page.goto(f"{mesh.url}/#/candidates/{made['named']}")
    view = page.locator("#candidate-view")
    await expect(view.locator("h1")).to_contain_text("Abhishek Jha")
    await expect(view).to_contain_text("Bengaluru, Karnataka")
    await expect(view.locator(".education-entry").first).to_contain_text(
        "B.E in Information science and engineering — B.v.b college of engineering and technology (2017)"
    )
    await page.goto(f"{mesh.url}/#/candidates/{made['unnamed']}")
    await expect(page.locator("#candidate-view h1 .unnamed")).to_have_text("Unnamed")
    await context.close()


# Routes every WebSocket the page opens through a gate the test controls: while `blocked`, new sockets go to
# a port nothing listens on (connection refused, as when the gateway is unreachable), and `drop()` closes the
# open ones, as a network blip would.
WEBSOCKET_GATE = """
(() => {
  const Native = window.WebSocket;
  const gate = { blocked: false, deadUrl: "DEAD_URL", sockets: [], updates: 0 };
  gate.drop = () => gate.sockets.forEach((s) => s.close());
  gate.open = () => gate.sockets.filter((s) => s.readyState === Native.OPEN).length;
  class GatedWebSocket extends Native {
    constructor(url, protocols) {
      super(gate.blocked ? gate.deadUrl : url, protocols);
      gate.sockets.push(this);
      this.addEventListener("message", (event) => {
        if (JSON.parse(event.data).type === "task_update") gate.updates += 1;
      });
    }
  }
  window.WebSocket = GatedWebSocket;
  window.__wsGate = gate;
})();
"""


async def test_live_updates_fall_back_to_polling_and_reconnect(browser: Browser, mesh: Mesh) -> None:
    tag = uuid.uuid4().hex[:5]
    names = [f"Grace Weld {tag}", f"Hugo Weld {tag}"]
    async with aiohttp.ClientSession(mesh.url, headers=mesh.headers("recruiter")) as http:
        async with http.post(
            "/api/v1/jobs",
            json={
                "title": f"Pipeline Welder {tag}",
                "company": "Gate Works",
                "location": "Leeds",
                "min_experience": 2,
                "required_skills": ["welding", "blueprint reading"],
                "description": "TIG and MIG welding of steel pipelines; read blueprints; site safety.",
            },
        ) as resp:
            assert resp.status == 201, await resp.text()
            job_id = (await resp.json())["job"]["id"]
        for name in names:
            async with http.post(
                "/api/v1/candidates",
                json={
                    "name": name,
                    "years_experience": 6,
                    "skills": ["welding", "blueprint reading"],
                    "resume_text": f"{name}. Pipeline welder, 6 years of TIG and MIG welding on steel pipelines; "
                    "reads blueprints; site safety lead.",
                },
            ) as resp:
                assert resp.status == 201, await resp.text()

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.add_init_script(WEBSOCKET_GATE.replace("DEAD_URL", f"ws://127.0.0.1:{free_port()}/ws/tasks"))
    page = await context.new_page()
    polls: list[str] = []
    page.on("request", lambda req: polls.append(req.url) if "/api/v1/screenings/" in req.url else None)
    await sign_in(page, mesh, mesh.recruiter_token)
    await page.goto(f"{mesh.url}/#/jobs/{job_id}")
    body = page.locator("body")
    await expect(body).to_have_attribute("data-feed", "on", timeout=30_000)
    cards = [page.locator(".match-card", has_text=name) for name in names]
    for card in cards:
        await expect(card).to_be_visible(timeout=60_000)

    # The live connection drops and cannot come back: the screening still reaches 100 %, by polling.
    await page.evaluate("window.__wsGate.blocked = true; window.__wsGate.drop()")
    await expect(body).to_have_attribute("data-feed", "polling")
    updates_before = await page.evaluate("window.__wsGate.updates")
    await cards[0].locator("button.screen").click()
    await expect(cards[0].locator(".progress")).to_have_attribute("data-progress", "100", timeout=180_000)
    await expect(page.locator("#screening-result #match-score")).to_have_text(re.compile(r"^\d+$"))
    assert await page.evaluate("document.body.dataset.feed") == "polling"
    assert await page.evaluate("window.__wsGate.open()") == 0
    assert polls, "no screening was polled while the WebSocket was down"
    assert await page.evaluate("window.__wsGate.updates") == updates_before
    assert await page.evaluate("window.__wsGate.sockets.length") > 2, "the page stopped trying to reconnect"

    # The gateway is reachable again: the page reconnects by itself and the next screening streams live.
    await page.evaluate("window.__wsGate.blocked = false")
    await expect(body).to_have_attribute("data-feed", "on", timeout=90_000)
    await cards[1].locator("button.screen").click()
    await expect(cards[1].locator(".progress")).to_have_attribute("data-progress", "100", timeout=180_000)
    assert await page.evaluate("document.body.dataset.feed") == "on"
    assert await page.evaluate("window.__wsGate.updates") > updates_before, "no update came over the WebSocket"
    await context.close()
