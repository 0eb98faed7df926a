"""What each role may see of a candidate.

Viewers (reporting, hiring-manager read access) see who a candidate is professionally: name, headline,
location, skills, experience, and how they match. Contact details and the resume itself are personal data
they do not need: `email`, `phone`, `resume_text` and `resume_file_name` (which often carries the name and
more) are cleared from every Candidate in a reply before it leaves the gateway. Recruiters and admins see
everything. docs/SECURITY.md records the decision.
"""

from __future__ import annotations

from typing import TypeVar

from aiohttp import web
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from gateway.state import principal_of
from gateway.tokens import Role

M = TypeVar("M", bound=Message)

CANDIDATE = "hiremesh.v1.Candidate"
HIDDEN_FROM_VIEWERS = ("email", "phone", "resume_text", "resume_file_name")


def redact_candidates(message: Message) -> None:
    """Clear the viewer-hidden fields of every Candidate inside `message`, in place."""
    if message.DESCRIPTOR.full_name == CANDIDATE:
        for name in HIDDEN_FROM_VIEWERS:
            message.ClearField(name)
        return
    for field, value in message.ListFields():
        kind = field.message_type
        if field.type != FieldDescriptor.TYPE_MESSAGE or kind is None or not kind.full_name.startswith("hiremesh."):
            continue
        if kind.GetOptions().map_entry:
            continue
        for item in value if field.is_repeated else [value]:
            redact_candidates(item)


def for_caller(request: web.Request, reply: M) -> M:
    """`reply` as the caller's role may see it."""
    if principal_of(request).role < Role.RECRUITER:
        redact_candidates(reply)
    return reply
