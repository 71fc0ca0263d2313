"""Each install flavour, resolved for every Python we claim: a pair that exists, or a stop.

`make matrix` runs the suite on real interpreters (3.9 and 3.13 from Debian, 3.11 on the host);
Python 3.10 and 3.12 have no Debian interpreter of their own, so this is where they are checked:
the built wheel with each extra is resolved against PyPI for that Python by uv (`uv pip
compile --python-version`, which evaluates the markers for that Python, as pip's
`--python-version` does not). In range, the extra must resolve to a TensorFlow of its
flavour's lines (with its tensorflow-estimator and numpy below 2 for the Estimator flavour);
out of range, the resolution must fail naming the extra, rather than install us without
TensorFlow or with one we do not test.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from estimator_metrics._core import environment
from support.dist import run, tool

PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
#: TensorFlow 2.21's wheels are tagged manylinux_2_27; glibc 2.28 is Debian buster's and up.
PLATFORM = "x86_64-manylinux_2_28"


def _line(first_last):
    return tuple(f"{major}.{minor}" for major, minor in first_last)


#: extra: (TensorFlow distribution, first and last line, first and last Python, Estimator?).
FLAVOURS = {
    "cpu": ("tensorflow-cpu", environment.ESTIMATOR_LINES, environment.ESTIMATOR_PYTHONS, True),
    "gpu": ("tensorflow", environment.ESTIMATOR_LINES, environment.ESTIMATOR_PYTHONS, True),
    "keras3-cpu": ("tensorflow-cpu", ((2, 16), (2, 21)), ((3, 10), (3, 13)), False),
    "keras3-gpu": ("tensorflow", ((2, 16), (2, 21)), ((3, 10), (3, 13)), False),
}
#: Lines a Python starts at, past the flavour's first (no earlier wheel for it).
FIRST_LINE_FOR = {"3.13": (2, 20)}


def _version(text):
    return tuple(int(p) for p in re.findall(r"\d+", text)[:2])


def _resolve(wheel, extra, python):
    """(uv's exit code, {name: version} or its error text) for `wheel[extra]` on `python`."""
    result = run(
        tool("uv"),
        "pip",
        "compile",
        "-",
        "--python-version",
        python,
        "--python-platform",
        PLATFORM,
        "--no-header",
        "--no-annotate",
        "--quiet",
        input=f"estimator-metrics[{extra}] @ {wheel.as_uri()}\n",
        timeout=300,
    )
    if result.returncode != 0:
        return result.returncode, result.stderr
    lines = result.stdout.splitlines()
    return 0, dict(line.split("==", 1) for line in lines if "==" in line and " @ " not in line)


@pytest.fixture(scope="module")
def resolved(dist):
    """{(extra, python): _resolve(...)}: twenty resolutions, five at a time (each waits on
    the index far more than it computes)."""
    cases = [(extra, python) for extra in FLAVOURS for python in PYTHONS]
    with ThreadPoolExecutor(max_workers=5) as pool:
        results = pool.map(lambda case: _resolve(dist.wheel, *case), cases)
        return dict(zip(cases, results))


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("extra", list(FLAVOURS))
def test_each_extra_resolves_to_a_pair_of_its_flavour_or_stops(resolved, extra, python):
    distribution, lines, pythons, estimator = FLAVOURS[extra]
    code, outcome = resolved[extra, python]
    in_range = pythons[0] <= _version(python) <= pythons[1]
    if not in_range:
        assert code != 0, (f"{extra} on Python {python} must not resolve", outcome)
        assert f"estimator-metrics[{extra}]" in outcome and distribution in outcome, outcome
        return
    assert code == 0, outcome
    line = _version(outcome[distribution])
    assert max(lines[0], FIRST_LINE_FOR.get(python, lines[0])) <= line <= lines[1], outcome
    other = "tensorflow" if distribution == "tensorflow-cpu" else "tensorflow-cpu"
    assert other not in outcome, outcome  # One TensorFlow wheel, the flavour's.
    if estimator:
        assert _version(outcome["tensorflow-estimator"]) == line, outcome
        assert _version(outcome["numpy"]) < (2, 0), outcome
    else:
        assert "tensorflow-estimator" not in outcome, outcome
        assert _version(outcome["keras"]) >= (3, 0), outcome
