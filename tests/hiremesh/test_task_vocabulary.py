"""One task vocabulary: the proto enums, the stored states, the gateway's update statuses and the web UI's."""

from __future__ import annotations

import json
import re

import pytest

from gateway import openapi, ui_vocabulary
from gateway.ws import screening_update
from hiremesh import task_vocabulary as tv
from hiremesh.v1 import screening_pb2 as spb
from screening_svc import convert, tasks
from tests import import_graph as graph

STATIC = graph.REPO / "gateway" / "static"


def enum_names(enum: object, prefix: str) -> tuple[str, ...]:
    names = [n.removeprefix(prefix).lower() for n in enum.keys()]  # type: ignore[attr-defined]
    return tuple(n for n in names if n != "unspecified")


def test_the_states_and_stages_are_the_proto_enums() -> None:
    assert tv.TASK_STATES == enum_names(spb.TaskState, "TASK_STATE_")
    assert tv.STAGES == enum_names(spb.ScreeningStage, "SCREENING_STAGE_")
    assert set(convert.STATES) == set(tv.TASK_STATES) and set(convert.STAGES) == set(tv.STAGES)


def test_the_store_uses_the_vocabulary_and_its_schema_allows_exactly_it() -> None:
    assert tasks.TERMINAL is tv.TERMINAL_STATES
    assert set(tv.TASK_STATES) == tv.TERMINAL_STATES | set(tv.ACTIVE_STATES)
    schema = (graph.REPO / "screening_svc" / "migrations" / "0001_screening.sql").read_text()
    allowed = re.search(r"CHECK \(state IN \(([^)]*)\)\)", schema)
    assert allowed is not None
    assert tuple(re.findall(r"'(\w+)'", allowed.group(1))) == tv.TASK_STATES


@pytest.mark.parametrize("state", spb.TaskState.values())
def test_every_proto_state_has_an_update_status(state: int) -> None:
    update = screening_update(spb.ScreeningEvent(state=state))  # type: ignore[arg-type]
    name = spb.TaskState.Name(state).removeprefix("TASK_STATE_").lower()
    assert name in tv.STATUS_OF_STATE
    assert update["status"] == tv.update_status(name) and update["status"] in tv.UPDATE_STATUSES


def test_the_openapi_document_lists_the_update_statuses() -> None:
    assert openapi.OPERATION_SCHEMA["properties"]["status"]["enum"] == list(tv.UPDATE_STATUSES)  # type: ignore[index]


def _exported(source: str, name: str) -> object:
    match = re.search(rf"(?:export )?const {name} = (?:Object\.freeze\(|new Set\()(.*?)\);$", source, re.M)
    assert match is not None, name
    return json.loads(match.group(1))


def test_the_browser_reads_the_python_vocabulary() -> None:
    source = ui_vocabulary.module_source()
    assert _exported(source, "TASK_STATES") == list(tv.TASK_STATES)
    assert _exported(source, "STATUS") == {s.upper(): s for s in tv.UPDATE_STATUSES}
    assert set(_exported(source, "TERMINAL_STATUSES")) == tv.TERMINAL_STATUSES  # type: ignore[arg-type]
    assert _exported(source, "STATUS_OF_STATE") == dict(tv.STATUS_OF_STATE)
    app = (STATIC / "app.js").read_text()
    assert f'from "{ui_vocabulary.PATH}"' in app
    assert not (STATIC / "task_vocabulary.js").exists()  # served from Python, never a copy on disk
    # No vocabulary of its own: a task state or an update status spelt out in the UI would drift.
    spelt = re.findall(r'"(succeeded|cancelled|running|started|completed)"', app)
    assert spelt == []
