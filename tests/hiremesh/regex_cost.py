"""Timing one pattern over one text, importable by a child process without importing the services."""

from __future__ import annotations

import gc
import re
import time

REPEATS = 5


def cost(pattern: re.Pattern[str], text: str, repeats: int = REPEATS, window: int = 0) -> float:
    """Best of `repeats` wall-clock seconds to run `finditer` over the whole text, or over it window by window
    (`window` characters at a time, the same memory touched: only the length each search sees differs). The best
    run is the one the scheduler did not interrupt; the garbage collector is off while timing."""
    best = float("inf")
    step = window or len(text) or 1
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            for pos in range(0, max(len(text), 1), step):
                for _match in pattern.finditer(text, pos, pos + step):
                    pass
            best = min(best, time.perf_counter() - started)
    finally:
        if enabled:
            gc.enable()
    return best


def cost_of_source(args: tuple[str, int, str]) -> float:
    source, flags, text = args
    return cost(re.compile(source, flags), text, repeats=1)
