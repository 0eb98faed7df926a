"""Fixture plugins: one module per owner under tests/fixtures/.

The session's service credential is set here, before any fixture starts a server: every process a test
starts inherits it and every client from hiremesh.clients sends it (hiremesh.service_auth).
"""

from __future__ import annotations

import importlib.util
import os
import secrets

os.environ.setdefault("HIREMESH_SERVICE_TOKEN", secrets.token_urlsafe(32))

_PLUGINS = ["pg", "embedding", "guardrail", "search", "screening", "llm", "analytics", "mail", "mesh"]

pytest_plugins = [
    f"tests.fixtures.{name}" for name in _PLUGINS if importlib.util.find_spec(f"tests.fixtures.{name}") is not None
]
