"""A dependency a servicer receives after its server has started (models loaded, database reachable).

Servicers are registered before `MeshServer.start()` so health and reflection answer at once; until the
dependency arrives every call gets UNAVAILABLE with a reason, never UNIMPLEMENTED or a crash.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from hiremesh.errors import Unavailable

T = TypeVar("T")


class Pending(Generic[T]):
    def __init__(self, waiting_for: str) -> None:
        self._waiting_for = waiting_for
        self._value: T | None = None

    def set(self, value: T) -> None:
        self._value = value

    @property
    def ready(self) -> bool:
        return self._value is not None

    def get(self) -> T:
        """The dependency, or UNAVAILABLE saying what is still missing."""
        if self._value is None:
            raise Unavailable(self._waiting_for, reason="NOT_READY")
        return self._value


__all__ = ["Pending"]
