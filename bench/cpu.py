"""The CPU a benchmark ran on, as BENCHMARKS names it next to every figure."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any


def cpu_info() -> dict[str, Any]:
    """lscpu's model name and the flags that decide which kernels run (BENCHMARKS names them with figures)."""
    model, flags = platform.processor(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    wanted = ["avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8", "amx_tile"]
    return {"model": model, "flags": [f for f in wanted if f in flags], "cpus": os.cpu_count()}
