"""`HIREMESH_EMBEDDING_VARIANT=auto`: the decision as pure functions over captured CPU flags and given timings.

The cpuinfo files are this machine's (AMD EPYC, AVX512-VNNI) and representative captures of CPUs we cannot run
here: the Intel Xeon @ 2.00GHz without VNNI where int8 measured slower than PyTorch, a Sapphire Rapids (AMX),
an Alder Lake client (AVX-VNNI only) and an Arm Neoverse N1 (dot product).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from embedding_svc.variant import (
    DEFAULT_MIN_SPEEDUP,
    Calibration,
    calibrate,
    calibration_batch,
    choose,
    cpu_flags,
    int8_features,
    needs_calibration,
)

CPUINFO = Path(__file__).parent / "cpuinfo"


def flags(name: str) -> frozenset[str]:
    return cpu_flags((CPUINFO / f"{name}.txt").read_text())


@pytest.mark.parametrize(
    ("name", "features"),
    [
        ("amd-epyc-zen5-this-machine", ("avx512_vnni", "avx_vnni")),
        ("intel-xeon-skylake-2ghz", ()),
        ("intel-sapphire-rapids", ("avx512_vnni", "avx_vnni", "amx_int8")),
        ("intel-alder-lake-client", ("avx_vnni",)),
        ("arm-neoverse-n1", ("asimddp",)),
    ],
)
def test_int8_dot_product_instructions_are_read_from_cpuinfo(name: str, features: tuple[str, ...]) -> None:
    assert int8_features(flags(name)) == features


def test_cpuinfo_without_a_flags_line_has_no_features() -> None:
    assert cpu_flags("processor\t: 0\nmodel name\t: mystery\n") == frozenset()
    assert int8_features(cpu_flags("")) == ()


def test_a_cpu_without_vnni_runs_fp32_without_calibrating() -> None:
    skylake = flags("intel-xeon-skylake-2ghz")
    assert "avx512f" in skylake  # AVX-512 alone is not enough: int8 ran 0.84x PyTorch there
    assert not needs_calibration("auto", skylake, int8_built=True)
    choice = choose("auto", skylake, int8_built=True)
    assert (choice.variant, choice.requested, choice.basis, choice.speedup) == ("fp32", "auto", "cpu_features", 0.0)
    assert "no int8 dot-product instructions" in choice.reason


@pytest.mark.parametrize("speedup", [1.31, DEFAULT_MIN_SPEEDUP])
def test_int8_runs_where_the_calibration_shows_it_faster(speedup: float) -> None:
    here = flags("amd-epyc-zen5-this-machine")
    assert needs_calibration("auto", here, int8_built=True)
    choice = choose("auto", here, True, Calibration((speedup,) * 5, (1.0,) * 5))
    assert (choice.variant, choice.basis) == ("int8", "calibration")
    assert choice.speedup == pytest.approx(speedup)
    assert choice.cpu_features == ("avx512_vnni", "avx_vnni")
    assert f"{speedup:.2f}x" in choice.reason


def test_int8_that_is_not_faster_enough_loses_to_fp32_even_with_vnni() -> None:
    choice = choose("auto", flags("intel-sapphire-rapids"), True, Calibration((1.02,) * 5, (1.0,) * 5))
    assert (choice.variant, choice.basis) == ("fp32", "calibration")
    assert "only 1.02x" in choice.reason
    assert choose("auto", flags("arm-neoverse-n1"), True, Calibration((0.8,), (1.0,))).variant == "fp32"


def test_the_threshold_is_configurable() -> None:
    timings = Calibration((1.2,) * 3, (1.0,) * 3)
    here = flags("amd-epyc-zen5-this-machine")
    assert choose("auto", here, True, timings, min_speedup=1.1).variant == "int8"
    assert choose("auto", here, True, timings, min_speedup=1.5).variant == "fp32"


def test_one_stalled_run_does_not_decide() -> None:
    # Pair 3's int8 run met a neighbour's burst; the median pair still says int8 is 1.3x faster.
    timings = Calibration((0.13, 0.13, 0.13, 0.13, 0.13), (0.1, 0.1, 0.9, 0.1, 0.1))
    assert timings.speedup == pytest.approx(1.3)
    assert choose("auto", flags("amd-epyc-zen5-this-machine"), True, timings).variant == "int8"


def test_auto_without_an_int8_build_runs_fp32() -> None:
    here = flags("amd-epyc-zen5-this-machine")
    assert not needs_calibration("auto", here, int8_built=False)
    choice = choose("auto", here, int8_built=False)
    assert (choice.variant, choice.basis) == ("fp32", "build")


@pytest.mark.parametrize("variant", ["fp32", "int8"])
def test_a_configured_variant_is_taken_as_given(variant: str) -> None:
    skylake = flags("intel-xeon-skylake-2ghz")
    assert not needs_calibration(variant, skylake, True)
    choice = choose(variant, skylake, True)
    assert (choice.variant, choice.requested, choice.basis) == (variant, variant, "configuration")


def test_an_unknown_request_is_refused() -> None:
    with pytest.raises(ValueError, match="fp16"):
        choose("fp16", frozenset(), True)


def test_calibration_times_both_runs_alternately_after_a_warm_up() -> None:
    now = [0.0]
    order: list[str] = []

    def run(name: str, cost: float) -> None:
        order.append(name)
        now[0] += cost

    timings = calibrate(lambda: run("fp32", 0.2), lambda: run("int8", 0.1), pairs=4, clock=lambda: now[0])
    assert timings.fp32 == pytest.approx((0.2,) * 4) and timings.int8 == pytest.approx((0.1,) * 4)
    assert timings.speedup == pytest.approx(2.0)
    # One untimed run of each, then pairs whose first run alternates, so neither always runs on a warmer core.
    assert order == ["fp32", "int8", "fp32", "int8", "int8", "fp32", "fp32", "int8", "int8", "fp32"]


def test_the_calibration_batch_is_fixed() -> None:
    assert calibration_batch() == calibration_batch()
    assert len(calibration_batch()) == 4
