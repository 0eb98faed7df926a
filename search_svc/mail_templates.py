"""Candidate e-mail templates: a subject and a body per application status, kept in one YAML file.

Placeholders are `{name}` fields from a fixed list (`PLACEHOLDERS`); anything else (an unknown name,
`{0}`, `{name.attr}`, `{name!r}`, `{name:>9}`, an unbalanced brace) is rejected when the file is loaded
(search_svc then refuses to start, naming the status and field) and when a template is previewed. Only
whole names are looked up, so a template cannot reach attributes of the values it is given.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from search_svc.records import APPLICATION_STATUSES

DEFAULT_PATH = Path(__file__).resolve().with_name("mail_templates.yaml")
PLACEHOLDERS = ("candidate_name", "job_title", "company", "status", "application_id")
# What {status} reads as in a sentence.
STATUS_TEXT = {
    "pending": "received",
    "reviewing": "under review",
    "accepted": "accepted",
    "rejected": "not selected",
    "hired": "hired",
}
SAMPLE = {
    "candidate_name": "Ada Lovelace",
    "job_title": "Data Engineer",
    "company": "Analytical Engines Ltd",
    "application_id": "00000000-0000-0000-0000-000000000000",
}
MAX_SUBJECT = 500
MAX_BODY = 20_000
_FIELDS = ("subject", "body")


class TemplateError(ValueError):
    """A template is unusable; `field` names it (`rejected.body`, or `body_template` in a preview)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check(text: str, field: str, limit: int) -> None:
    """Raise TemplateError naming `field` unless `text` is a template this module can render."""
    if not text.strip():
        raise TemplateError(field, "is empty")
    if len(text) > limit:
        raise TemplateError(field, f"longer than {limit} characters")
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:  # "Single '}' encountered", "unmatched '{'"
        raise TemplateError(field, f"{exc} (write {{{{ and }}}} for literal braces)") from None
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            shown = "{" + name + "}"
            raise TemplateError(
                field, f"unknown placeholder {shown} (known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})"
            )
        if spec or conversion:
            raise TemplateError(field, f"{{{name}}} takes no format spec or conversion")


@dataclass(frozen=True)
class Template:
    subject: str
    body: str

    @classmethod
    def checked(cls, subject: str, body: str, where: str = "") -> Template:
        check(subject, f"{where}subject", MAX_SUBJECT)
        check(body, f"{where}body", MAX_BODY)
        return cls(subject, body)

    def render(self, values: Mapping[str, str]) -> tuple[str, str]:
        """(subject, body); the subject on one line whatever the values hold (it becomes a header)."""
        subject = " ".join(self.subject.format_map(values).split())
        return subject, self.body.format_map(values)


def values_for(status: str, candidate_name: str, job_title: str, company: str, application_id: str) -> dict[str, str]:
    """Placeholder values, with wording that still reads well when a catalog field is empty."""
    return {
        "candidate_name": candidate_name.strip() or "candidate",
        "job_title": job_title.strip() or "the position",
        "company": company.strip() or "our company",
        "status": STATUS_TEXT.get(status, status),
        "application_id": application_id,
    }


@dataclass(frozen=True)
class Templates:
    """The template of every application status, and where they came from."""

    by_status: Mapping[str, Template]
    source: str

    @classmethod
    def load(cls, path: Path) -> Templates:
        """Read and check `path`; TemplateError naming `status.field` (or the file) when it is unusable."""
        try:
            data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise TemplateError("file", f"cannot read {path}: {exc.strerror or exc}") from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise TemplateError("file", f"{path} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise TemplateError("file", f"{path} must map each status to a subject and a body")
        unknown = sorted(str(k) for k in data if k not in APPLICATION_STATUSES)
        if unknown:
            raise TemplateError(unknown[0], f"not an application status (statuses: {', '.join(APPLICATION_STATUSES)})")
        templates: dict[str, Template] = {}
        for status in APPLICATION_STATUSES:
            entry = data.get(status)
            if not isinstance(entry, dict):
                raise TemplateError(status, "missing: every status needs a subject and a body")
            extra = sorted(str(k) for k in entry if k not in _FIELDS)
            if extra:
                raise TemplateError(f"{status}.{extra[0]}", "unknown field (fields: subject, body)")
            fields = {}
            for name in _FIELDS:
                value = entry.get(name)
                if not isinstance(value, str):
                    raise TemplateError(f"{status}.{name}", "missing or not text")
                fields[name] = value
            templates[status] = Template.checked(fields["subject"], fields["body"], f"{status}.")
        return cls(templates, str(path))

    def render(self, status: str, values: Mapping[str, str]) -> tuple[str, str]:
        return self.by_status[status].render(values)
