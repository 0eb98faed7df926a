"""Which model variant `auto` runs: int8 only on a CPU where it is faster than fp32, fp32 everywhere else.

onnxruntime's int8 MatMul (MatMulNBits, int8 compute) is fast only with int8 dot-product instructions: on an
AMD EPYC with AVX512-VNNI it ran 1.93x sentence-transformers against fp32's 1.34x, on an Intel Xeon with
AVX-512F but no VNNI it ran *slower* than sentence-transformers (0.84x; docs/BENCHMARKS.md, Embedding). So the
choice is made in two steps, both pure functions here so they test without a model:

1. CPU features (`/proc/cpuinfo` flags): without any int8 dot-product instruction int8 is not tried at all;
2. with one, a short timed calibration at start-up (both sessions on the same fixed batch, interleaved, timed
   in process CPU seconds): int8 runs only when it beat fp32 by `min_speedup` in the median pair.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# x86: AVX512-VNNI (Cascade Lake+, Zen 4+), AVX-VNNI (Alder Lake+, Zen 5 also lists it), AMX (Sapphire Rapids+);
# Arm: the SDOT/UDOT dot product and the int8 matrix multiply extensions.
INT8_DOT_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8", "asimddp", "i8mm")
DEFAULT_MIN_SPEEDUP = 1.05  # int8 costs a little ranking agreement, so a tie is not worth it
CALIBRATION_PAIRS = 7


@dataclass(frozen=True)
class Calibration:
    """Seconds per run of the same batch, fp32 and int8 alternately (pair i ran back to back)."""

    fp32: tuple[float, ...]
    int8: tuple[float, ...]

    @property
    def speedup(self) -> float:
        """Median over pairs of fp32 time / int8 time (a pair shares the machine's load of its moment)."""
        return statistics.median(f / q for f, q in zip(self.fp32, self.int8, strict=True) if q > 0)


@dataclass(frozen=True)
class Choice:
    variant: str  # "fp32" or "int8": what runs
    requested: str  # "fp32", "int8" or "auto": what was configured
    reason: str
    basis: str  # what decided: "configuration", "build", "cpu_features" or "calibration"
    cpu_features: tuple[str, ...] = ()  # the int8 dot-product flags found
    speedup: float = 0.0  # int8 over fp32 in the calibration; 0 when none ran


def cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The feature flags of /proc/cpuinfo text (x86 `flags`, Arm `Features`; the first processor's line)."""
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in ("flags", "features"):
            return frozenset(value.split())
    return frozenset()


def int8_features(flags: Iterable[str]) -> tuple[str, ...]:
    present = set(flags)
    return tuple(f for f in INT8_DOT_FLAGS if f in present)


def needs_calibration(requested: str, flags: Iterable[str], int8_built: bool) -> bool:
    """Whether `auto` should time both variants (only when int8 could win here)."""
    return requested == "auto" and int8_built and bool(int8_features(flags))


def choose(
    requested: str,
    flags: Iterable[str],
    int8_built: bool,
    calibration: Calibration | None = None,
    min_speedup: float = DEFAULT_MIN_SPEEDUP,
) -> Choice:
    """The variant to run, and why. `fp32` and `int8` are taken as configured; `auto` follows the module doc."""
    features = int8_features(flags)
    if requested in ("fp32", "int8"):
        return Choice(
            requested, requested, f"configured (HIREMESH_EMBEDDING_VARIANT={requested})", "configuration", features
        )
    if requested != "auto":
        raise ValueError(f"unknown variant request {requested!r}")
    if not int8_built:
        return Choice("fp32", "auto", "the int8 model is not in this build", "build", features)
    if not features:
        return Choice(
            "fp32",
            "auto",
            "no int8 dot-product instructions on this CPU (none of "
            f"{', '.join(INT8_DOT_FLAGS)}): int8 runs slower than fp32 without them",
            "cpu_features",
            features,
        )
    if calibration is None:
        return Choice("fp32", "auto", f"{', '.join(features)} present but no calibration ran", "cpu_features", features)
    speedup = calibration.speedup
    runs = f"median of {len(calibration.fp32)} interleaved pairs"
    if speedup >= min_speedup:
        return Choice(
            "int8",
            "auto",
            f"{', '.join(features)} present and int8 ran {speedup:.2f}x fp32 on the "
            f"calibration batch ({runs}; needs >= {min_speedup:.2f}x)",
            "calibration",
            features,
            speedup,
        )
    return Choice(
        "fp32",
        "auto",
        f"{', '.join(features)} present but int8 ran only {speedup:.2f}x fp32 on the "
        f"calibration batch ({runs}; needs >= {min_speedup:.2f}x)",
        "calibration",
        features,
        speedup,
    )


def calibrate(
    run_fp32: Callable[[], object],
    run_int8: Callable[[], object],
    pairs: int = CALIBRATION_PAIRS,
    clock: Callable[[], float] = time.process_time,
) -> Calibration:
    """Time both runs `pairs` times, alternating which goes first, after one untimed run of each.

    The clock is the process's CPU time, not the wall clock: on a shared host the wall clock measures the
    neighbours too (wall-clock ratios on this 2-core machine ranged 1.13x-1.88x between four start-ups under
    load), while the CPU either variant burns for the batch is what it costs whatever else runs.
    """
    run_fp32()
    run_int8()
    fp32: list[float] = []
    int8: list[float] = []
    for i in range(pairs):
        order = ((run_fp32, fp32), (run_int8, int8)) if i % 2 == 0 else ((run_int8, int8), (run_fp32, fp32))
        for run, times in order:
            start = clock()
            run()
            times.append(clock() - start)
    return Calibration(tuple(fp32), tuple(int8))


def calibration_batch() -> list[str]:
    """A fixed batch of 4 resume-like texts of ~130 word pieces: the shape of a small bulk call, long enough
    that the MatMuls dominate as they do in real batches, short enough that calibrating costs ~1 s."""
    base = (
        "Senior backend engineer with eight years of Python, Go and PostgreSQL. Built event pipelines on "
        "Kafka and gRPC services for payments, led a team of five, ran on-call rotations, reviewed code and "
        "mentored juniors. Migrated a monolith to Kubernetes on AWS, cut p99 latency by 40 percent, wrote "
        "the incident runbooks and the capacity plan. Degree in computer science; English and Spanish."
    )
    return [f"{base} Candidate {i}." for i in range(4)]
