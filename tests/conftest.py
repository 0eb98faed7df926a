"""Fixture plugins: one module per owner under tests/fixtures/."""

from __future__ import annotations

import importlib.util

_PLUGINS = ["pg", "embedding", "guardrail", "search", "screening", "llm", "analytics", "mail", "mesh"]

pytest_plugins = [
    f"tests.fixtures.{name}"
    for name in _PLUGINS
    if importlib.util.find_spec(f"tests.fixtures.{name}") is not None
]
