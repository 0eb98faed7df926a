"""The task vocabulary of hiremesh.task_vocabulary as an ES module for the web UI (`/static/task_vocabulary.js`).

Rendered from the Python module when the gateway starts, so the browser's statuses cannot drift from the ones
gateway.ws sends.
"""

from __future__ import annotations

import json

from aiohttp import web

from hiremesh import task_vocabulary as tv

PATH = "/static/task_vocabulary.js"


def module_source() -> str:
    """The JavaScript module: the statuses, the terminal ones, and a task state's status."""
    statuses = {status.upper(): status for status in tv.UPDATE_STATUSES}
    return "\n".join(
        [
            "// Rendered by gateway/ui_vocabulary.py from hiremesh/task_vocabulary.py (served, not a file on disk).",
            f"export const TASK_STATES = Object.freeze({json.dumps(list(tv.TASK_STATES))});",
            f"export const STATUS = Object.freeze({json.dumps(statuses, sort_keys=True)});",
            f"export const TERMINAL_STATUSES = new Set({json.dumps(sorted(tv.TERMINAL_STATUSES))});",
            f"const STATUS_OF_STATE = Object.freeze({json.dumps(dict(tv.STATUS_OF_STATE), sort_keys=True)});",
            f"export const statusOfState = (state) => STATUS_OF_STATE[state] ?? {json.dumps(tv.PROGRESS)};",
            "",
        ]
    )


_SOURCE = module_source()


async def serve(request: web.Request) -> web.Response:
    return web.Response(text=_SOURCE, content_type="text/javascript", headers={"Cache-Control": "no-cache"})
