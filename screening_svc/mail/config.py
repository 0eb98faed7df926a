"""SMTP and delivery settings from `HIREMESH_SMTP_*` / `HIREMESH_MAIL_*`, validated once at start-up.

The defaults point at the local SMTP sink `hiremesh up` runs (127.0.0.1:2525, no TLS, no login), so mail
works out of the box on one machine; a real relay needs HOST/PORT/SECURITY (and USER/PASSWORD).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from hiremesh.config import ConfigError, env_bool, env_choice, env_float, env_int, env_str
from hiremesh.mailaddr import parse_sender

SECURITY = ("none", "starttls", "tls")
DEFAULT_PORT = 2525
DEFAULT_SENDER = "hiremesh <no-reply@hiremesh.local>"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class MailConfig:
    """How candidate e-mails leave: the SMTP server, the sender, and the delivery retry policy."""

    enabled: bool  # HIREMESH_SMTP_ENABLED: off records every e-mail as skipped
    host: str
    port: int
    security: str  # none | starttls | tls (implicit TLS, usually port 465)
    user: str
    password: str
    sender: str  # the From header as given
    sender_address: str  # the envelope sender
    timeout_s: float
    max_attempts: int
    retry_wait_s: float  # back-off before attempt n+1 is retry_wait_s * 2**(n-1)
    sweep_s: float  # the relay looks for queued e-mails this often even when no NOTIFY arrived
    workers: int  # mail deliveries one process runs at a time; 0: no mail worker here

    def __repr__(self) -> str:  # never print the password
        return (
            f"MailConfig(enabled={self.enabled}, host={self.host!r}, port={self.port}, "
            f"security={self.security!r}, user={'set' if self.user else 'none'})"
        )

    @classmethod
    def from_env(cls) -> MailConfig:
        host = env_str("HIREMESH_SMTP_HOST", "127.0.0.1")
        security = env_choice("HIREMESH_SMTP_SECURITY", "none", SECURITY)
        user = env_str("HIREMESH_SMTP_USER", "")
        password = env_str("HIREMESH_SMTP_PASSWORD", "")
        if bool(user) != bool(password):
            missing = "HIREMESH_SMTP_PASSWORD" if user else "HIREMESH_SMTP_USER"
            raise ConfigError(missing, "set HIREMESH_SMTP_USER and HIREMESH_SMTP_PASSWORD together (or neither)")
        if password and security == "none" and not _loopback(host):
            raise ConfigError(
                "HIREMESH_SMTP_SECURITY",
                f"refusing to send the SMTP password to {host} in clear text; use starttls or tls",
            )
        sender = env_str("HIREMESH_SMTP_SENDER", DEFAULT_SENDER)
        try:
            _, address = parse_sender(sender)
        except ValueError as exc:
            raise ConfigError("HIREMESH_SMTP_SENDER", str(exc)) from None
        return cls(
            enabled=env_bool("HIREMESH_SMTP_ENABLED", True),
            host=host,
            port=env_int("HIREMESH_SMTP_PORT", DEFAULT_PORT, min=1, max=65535),
            security=security,
            user=user,
            password=password,
            sender=sender,
            sender_address=address,
            timeout_s=env_float("HIREMESH_SMTP_TIMEOUT_S", 15.0, min=0.5, max=600),
            max_attempts=env_int("HIREMESH_MAIL_MAX_ATTEMPTS", 5, min=1, max=50),
            retry_wait_s=env_float("HIREMESH_MAIL_RETRY_WAIT_S", 10.0, min=0, max=86_400),
            sweep_s=env_float("HIREMESH_MAIL_SWEEP_S", 10.0, min=0.1, max=3600),
            workers=env_int("HIREMESH_MAIL_WORKERS", 2, min=0, max=64),
        )
