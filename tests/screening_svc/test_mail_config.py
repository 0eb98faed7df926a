"""SMTP settings: defaults that reach the local sink, and every bad value named by its variable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hiremesh.config import ConfigError
from hiremesh.mailaddr import is_email, parse_sender
from screening_svc.mail.config import MailConfig
from screening_svc.mail.smtp import build


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("HIREMESH_SMTP_", "HIREMESH_MAIL_")):
            monkeypatch.delenv(name)


def test_defaults_point_at_the_local_sink() -> None:
    cfg = MailConfig.from_env()
    assert (cfg.enabled, cfg.host, cfg.port, cfg.security, cfg.user) == (True, "127.0.0.1", 2525, "none", "")
    assert cfg.sender_address == "no-reply@hiremesh.local" and cfg.max_attempts == 5


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"HIREMESH_SMTP_PORT": "70000"}, "HIREMESH_SMTP_PORT"),
        ({"HIREMESH_SMTP_SECURITY": "ssl3"}, "HIREMESH_SMTP_SECURITY"),
        ({"HIREMESH_SMTP_USER": "mailer"}, "HIREMESH_SMTP_PASSWORD"),
        ({"HIREMESH_SMTP_PASSWORD": "s3cret"}, "HIREMESH_SMTP_USER"),
        (
            {"HIREMESH_SMTP_HOST": "smtp.example.com", "HIREMESH_SMTP_USER": "u", "HIREMESH_SMTP_PASSWORD": "p"},
            "HIREMESH_SMTP_SECURITY",
        ),
        ({"HIREMESH_SMTP_SENDER": "hiremesh"}, "HIREMESH_SMTP_SENDER"),
        ({"HIREMESH_SMTP_ENABLED": "maybe"}, "HIREMESH_SMTP_ENABLED"),
        ({"HIREMESH_MAIL_MAX_ATTEMPTS": "0"}, "HIREMESH_MAIL_MAX_ATTEMPTS"),
    ],
)
def test_bad_settings_name_their_variable(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], variable: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        MailConfig.from_env()
    assert info.value.name == variable


def test_a_relay_with_tls_and_login_is_accepted_and_the_password_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "HIREMESH_SMTP_HOST": "smtp.example.com",
        "HIREMESH_SMTP_PORT": "587",
        "HIREMESH_SMTP_SECURITY": "starttls",
        "HIREMESH_SMTP_USER": "mailer",
        "HIREMESH_SMTP_PASSWORD": "hunter2-very-secret",
        "HIREMESH_SMTP_SENDER": "Talent Team <talent@example.com>",
    }.items():
        monkeypatch.setenv(key, value)
    cfg = MailConfig.from_env()
    assert cfg.security == "starttls" and cfg.sender_address == "talent@example.com"
    assert "hunter2" not in repr(cfg) and "hunter2" not in str(cfg)
    message = build(cfg, "0f0f", "ada@example.com", "Application update: X", "Body")
    assert message["From"] == "Talent Team <talent@example.com>" and message["Message-ID"] == "<0f0f@hiremesh>"


@given(st.text(max_size=80))
def test_no_accepted_address_can_carry_a_header_or_a_second_recipient(text: str) -> None:
    if is_email(text):
        assert not any(c in text for c in '\r\n\t ,;<>"')
        assert text.count("@") == 1
        assert parse_sender(text) == ("", text)
