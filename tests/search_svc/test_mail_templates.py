"""The per-status e-mail templates: the shipped file, rendering, and every way a template is rejected."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search_svc.mail_templates import DEFAULT_PATH, PLACEHOLDERS, Template, TemplateError, Templates, check, values_for
from search_svc.records import APPLICATION_STATUSES
from tests.fixtures.procs import REPO

GOOD = {
    s: {"subject": "Application update: {job_title}", "body": "Dear {candidate_name}, {status}."}
    for s in APPLICATION_STATUSES
}


def write(tmp_path: Path, data: Mapping[str, object] | str) -> Path:
    import yaml

    path = tmp_path / "templates.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def test_the_shipped_templates_cover_every_status_and_read_well() -> None:
    templates = Templates.load(DEFAULT_PATH)
    assert set(templates.by_status) == set(APPLICATION_STATUSES)
    for status in APPLICATION_STATUSES:
        subject, body = templates.render(status, values_for(status, "Ada Lovelace", "Data Engineer", "Acme", "x"))
        assert subject == "Application update: Data Engineer"
        assert body.startswith("Dear Ada Lovelace,") and "Acme" in body and "{" not in body
    _, rejected = templates.render("rejected", values_for("rejected", "", "", "", "x"))
    assert "Dear candidate," in rejected and "not selected" in rejected and "our company" in rejected


@pytest.mark.parametrize(
    ("change", "field", "needle"),
    [
        (lambda d: d["rejected"].update(body="Hi {salary}"), "rejected.body", "unknown placeholder {salary}"),
        (lambda d: d["hired"].update(subject="{job_title.__class__}"), "hired.subject", "unknown placeholder"),
        (lambda d: d["pending"].update(body="{0}"), "pending.body", "unknown placeholder {0}"),
        (lambda d: d["accepted"].update(body="{job_title!r}"), "accepted.body", "no format spec"),
        (lambda d: d["accepted"].update(body="{job_title:>40}"), "accepted.body", "no format spec"),
        (lambda d: d["reviewing"].update(body="a } b"), "reviewing.body", "literal braces"),
        (lambda d: d["reviewing"].update(body="   "), "reviewing.body", "is empty"),
        (lambda d: d.pop("hired"), "hired", "missing"),
        (lambda d: d.update(promoted=d["hired"]), "promoted", "not an application status"),
        (lambda d: d["pending"].update(footer="x"), "pending.footer", "unknown field"),
        (lambda d: d["pending"].update(subject=3), "pending.subject", "not text"),
    ],
)
def test_a_bad_template_is_named(
    tmp_path: Path, change: Callable[[dict[str, dict[str, str]]], object], field: str, needle: str
) -> None:
    data = {k: dict(v) for k, v in GOOD.items()}
    change(data)
    with pytest.raises(TemplateError) as info:
        Templates.load(write(tmp_path, data))
    assert info.value.field == field and needle in info.value.message, str(info.value)


def test_unreadable_or_malformed_files_are_named(tmp_path: Path) -> None:
    for text in ("pending: [unclosed", "- a list\n- not a map\n"):
        with pytest.raises(TemplateError) as info:
            Templates.load(write(tmp_path, text))
        assert info.value.field == "file"
    with pytest.raises(TemplateError, match="cannot read"):
        Templates.load(tmp_path / "missing.yaml")


@given(st.text(max_size=200))
def test_check_either_accepts_or_names_the_field(text: str) -> None:
    try:
        check(text, "body_template", 1000)
    except TemplateError as exc:
        assert exc.field == "body_template"
        return
    # Whatever passed renders with the known values and nothing else.
    Template(text, text).render(dict.fromkeys(PLACEHOLDERS, "v"))


def test_a_rendered_subject_stays_one_header_line() -> None:
    subject, _ = Template("{job_title}", "x").render({"job_title": "Data\r\nBcc: eve@example.com"})
    assert subject == "Data Bcc: eve@example.com"


def test_search_svc_refuses_to_start_with_a_bad_template_file(tmp_path: Path) -> None:
    data = {k: dict(v) for k, v in GOOD.items()}
    data["rejected"]["body"] = "Sorry {candidate_name}, no {salary}."
    env = {
        **os.environ,
        "HIREMESH_MAIL_TEMPLATES": str(write(tmp_path, data)),
        "HIREMESH_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "HIREMESH_SEARCH_PORT": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "search_svc"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert "HIREMESH_MAIL_TEMPLATES" in done.stderr and "rejected.body: unknown placeholder {salary}" in done.stderr
