"""The task vocabulary, in one place: a screening task's states and stages, and a live update's status.

screening_svc stores the state and stage names (`screening.tasks`), the proto enums `TaskState` and
`ScreeningStage` spell them `TASK_STATE_<NAME>` / `SCREENING_STAGE_<NAME>` (tests/hiremesh/test_task_vocabulary.py
holds the two together), and the gateway turns a state into the `status` of the `task_update` messages it sends
(the same statuses as its operations), which the web UI reads from the module the gateway renders from this one
(`/static/task_vocabulary.js`).
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = [
    "ACTIVE_STATES",
    "CANCELLED",
    "COMPLETED",
    "FAILED",
    "PROGRESS",
    "QUEUED",
    "RUNNING",
    "STAGES",
    "STARTED",
    "STATUS_OF_STATE",
    "SUCCEEDED",
    "TASK_STATES",
    "TERMINAL_STATES",
    "TERMINAL_STATUSES",
    "UPDATE_STATUSES",
    "update_status",
]

# --- a screening task -------------------------------------------------------------------------------------
QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
TASK_STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
ACTIVE_STATES = (QUEUED, RUNNING)
TERMINAL_STATES = frozenset({SUCCEEDED, FAILED, CANCELLED})
STAGES = ("queued", "retrieving", "analyzing", "interviewing", "guarding", "done")

# --- a live update (WebSocket `task_update`, gateway operations) ------------------------------------------
STARTED, PROGRESS, COMPLETED = "started", "progress", "completed"
UPDATE_STATUSES = (STARTED, PROGRESS, COMPLETED, FAILED)
TERMINAL_STATUSES = frozenset({COMPLETED, FAILED})
# "" and "unspecified": a state the sender did not set (TASK_STATE_UNSPECIFIED).
STATUS_OF_STATE = MappingProxyType(
    {
        "": STARTED,
        "unspecified": STARTED,
        QUEUED: STARTED,
        RUNNING: PROGRESS,
        SUCCEEDED: COMPLETED,
        FAILED: FAILED,
        CANCELLED: FAILED,
    }
)


def update_status(state: str) -> str:
    """The status of an update about a task in `state` (a name of TASK_STATES, lower case)."""
    return STATUS_OF_STATE.get(state, PROGRESS)
