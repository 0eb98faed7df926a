"""Pending: a servicer's late dependency answers UNAVAILABLE, naming what it waits for, until it is set."""

from __future__ import annotations

import pytest

from hiremesh.errors import Unavailable
from hiremesh.pending import Pending


def test_unavailable_until_set_then_the_value() -> None:
    models: Pending[dict[str, int]] = Pending("models are still loading")
    assert not models.ready
    with pytest.raises(Unavailable, match="models are still loading"):
        models.get()
    models.set({"dim": 384})
    assert models.ready and models.get() == {"dim": 384}
