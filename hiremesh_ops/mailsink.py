"""The local SMTP server `hiremesh up` runs: it accepts every message and keeps it as a Maildir file.

A new user sees real mail leave the system without configuring anything: screening_svc delivers to
127.0.0.1:$HIREMESH_SMTP_PORT over plain SMTP, and each message lands in `$HIREMESH_HOME/mail/new/` as one
file (any Maildir reader opens it; `messages()` reads them back). The envelope recipients are kept as
`Delivered-To:` headers, the envelope sender as `Return-Path:`, as a real delivery agent would.
"""

from __future__ import annotations

import asyncio
import email.policy
import mailbox
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

DEFAULT_PORT = 2525


class MaildirHandler:
    """aiosmtpd handler: every accepted message becomes one file in a Maildir."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._maildir = mailbox.Maildir(str(folder), create=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        trace = [f"Return-Path: <{envelope.mail_from or ''}>"] + [f"Delivered-To: {r}" for r in envelope.rcpt_tos]
        await asyncio.to_thread(self._maildir.add, ("\r\n".join(trace) + "\r\n").encode() + raw)
        return "250 Message accepted for delivery"


class MailSink:
    """An SMTP server on `host:port` (its own thread) writing to the Maildir `folder`."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        self.folder = folder
        self.host = host
        self.port = port
        self.handler = MaildirHandler(folder)
        self._controller: Controller | None = None

    def start(self) -> None:
        """Bind and serve; OSError when the port is taken."""
        controller = Controller(
            self.handler,
            hostname=self.host,
            port=self.port,
            ready_timeout=10,
            server_hostname="hiremesh-mailsink",
            enable_SMTPUTF8=True,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailSink:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def messages(folder: Path) -> list[EmailMessage]:
    """Every message in the Maildir `folder` (new and read), oldest first."""
    files = [p for sub in ("new", "cur") if (folder / sub).is_dir() for p in (folder / sub).iterdir() if p.is_file()]
    parser = BytesParser(policy=email.policy.default)
    out: list[EmailMessage] = []
    for path in sorted(files, key=lambda p: (p.stat().st_mtime, p.name)):
        parsed = parser.parsebytes(path.read_bytes())
        assert isinstance(parsed, EmailMessage)  # policy.default parses into EmailMessage
        out.append(parsed)
    return out
