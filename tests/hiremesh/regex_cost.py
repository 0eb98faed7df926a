"""Timing one pattern over one text, importable by a child process without importing the services."""

from __future__ import annotations

import gc
import re
import time

REPEATS = 3


def cost(pattern: re.Pattern[str], text: str, repeats: int = REPEATS, times: int = 1) -> float:
    """Best of `repeats` wall-clock seconds to run `finditer` over the whole text `times` times in a row. The best
    run is the one the scheduler interrupted least; the garbage collector is off while timing."""
    best = float("inf")
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            for _ in range(times):
                for _match in pattern.finditer(text):
                    pass
            best = min(best, time.perf_counter() - started)
    finally:
        if enabled:
            gc.enable()
    return best


def cost_of_source(args: tuple[str, int, str, int, int]) -> float:
    """`cost` for a pattern given by source and flags (what a worker process receives)."""
    source, flags, text, repeats, times = args
    return cost(re.compile(source, flags), text, repeats=repeats, times=times)
