"""Sending one candidate e-mail over SMTP with aiosmtplib, and telling lasting failures from passing ones.

Every e-mail carries `Message-ID: <notification id@hiremesh>`: delivery is at-least-once (a worker can die
between the server's 250 and recording it), and the stable id lets a receiving system drop a repeat.
`DeliveryError.kind` is safe to log (an exception class or SMTP code); its `detail` may quote the
recipient, so it goes to the outbox row only.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from screening_svc.mail.config import MailConfig

# Codes that mean the server (or its login) is not ready, not that this message is unwanted.
_RETRYABLE_5XX = {530, 534, 535, 538}


class DeliveryError(Exception):
    """An attempt failed; `permanent` when another attempt would fail the same way (recipient refused)."""

    def __init__(self, kind: str, detail: str, permanent: bool) -> None:
        super().__init__(kind)
        self.kind = kind
        self.detail = detail
        self.permanent = permanent


def build(cfg: MailConfig, message_id: str, recipient: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = cfg.sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{message_id}@hiremesh>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a robot
    message.set_content(body)
    return message


def _classify(exc: Exception) -> DeliveryError:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = sorted({r.code for r in exc.recipients})
        detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        return DeliveryError(
            f"recipient refused ({', '.join(map(str, codes))})", detail, permanent=all(500 <= c < 600 for c in codes)
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        permanent = 500 <= exc.code < 600 and exc.code not in _RETRYABLE_5XX
        return DeliveryError(f"{type(exc).__name__} {exc.code}", f"{exc.code} {exc.message}", permanent)
    return DeliveryError(type(exc).__name__, f"{type(exc).__name__}: {exc}", permanent=False)


async def send(cfg: MailConfig, message_id: str, recipient: str, subject: str, body: str) -> None:
    """Hand one e-mail to the configured server; DeliveryError when it did not take it."""
    message = build(cfg, message_id, recipient, subject, body)
    try:
        await aiosmtplib.send(
            message,
            sender=cfg.sender_address,
            recipients=[recipient],
            hostname=cfg.host,
            port=cfg.port,
            username=cfg.user or None,
            password=cfg.password or None,
            use_tls=cfg.security == "tls",
            start_tls=True if cfg.security == "starttls" else False,
            timeout=cfg.timeout_s,
        )
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise _classify(exc) from None
