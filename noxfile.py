"""`make matrix`: the suite once per TensorFlow line, one nox session and venv each, then a table.

    make matrix [MATRIX_ARGS="-s tf-2.12 tf-2.15 -- -k adapter"]
    .venv/bin/nox [-s tf-2.13] [-R | --reuse-venv=never | --install-only] [-- PYTEST_ARGS...]

`LINES` below is the matrix: per line, the pins of its venv and the tests that
apply there. Each line is a session `tf-<line>`; nox runs the selected ones one
after the other (the suite wants both cores), and each:

1. reuses (or creates) its venv `.matrix/tf-2-12` etc., made from MATRIX_PYTHON
   (default python3.11); `--reuse-venv=never` recreates it, picking up newer
   patch releases;
2. pip-installs the line's pins in one resolve (latest patch release of the
   line, numpy below 2 on top of TensorFlow's own range, pytest and
   scikit-learn releases that accept that numpy; a no-op when the venv already
   has them), then this tree (`-e . --no-deps --no-build-isolation`, every run:
   the distributed tests' task processes import the package from anywhere);
3. runs `pip check`: a broken third-party requirement stops the line ("setup
   failed"); a complaint about this package's own requirements (setup.cfg's
   ranges exclude the line) lets the tests run but fails the line, so setup.cfg
   and the table cannot disagree unnoticed;
4. runs `python -m pytest -q -rfEs [the line's tests] [PYTEST_ARGS]` from the
   repository root (setup.cfg's [tool:pytest] applies), MATRIX_TIMEOUT seconds
   at most (default 3600); the line's whole output, pip's too, goes to
   `.matrix/<line>.log`.

Each line session queues the `table` session, which runs last: it prints the
table of the lines run and writes it, with each line's pip check complaints,
failures and skips, to `.matrix/results.md`. nox exits 1 if any line failed,
2 on a bad option, 3 on an unknown session (make turns each into its exit 2).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nox
from nox.command import CommandFailed

# The package is installed (editable) in the venv nox runs from; this module imports no TensorFlow.
from estimator_metrics._tables import render

MATRIX_DIR = Path(__file__).resolve().parent / ".matrix"
PYTHON = os.environ.get("MATRIX_PYTHON", "python3.11")


@dataclass(frozen=True)
class Line:
    """One TensorFlow line: what its venv gets, and which tests apply there."""

    #: Everything one `pip install` gets (pip resolves them together).
    pins: tuple[str, ...]
    #: pytest's selection for this line (paths, `-m marker`); empty: the
    #: whole suite (setup.cfg's testpaths). PYTEST_ARGS come after it.
    tests: tuple[str, ...] = ()


#: The test runner, oracles and property tests (pip picks releases that accept the line's
#: numpy), libcst (setup.cfg requires it; the tree is installed with --no-deps) and the
#: build backend for `pip install --no-build-isolation -e .`.
TEST_TOOLS = ("pytest", "scikit-learn", "hypothesis", "libcst>=1.1,<2", "setuptools", "wheel")

#: The matrix. Adding a line is adding an entry (its session, venv, log and
#: table row follow), e.g. one that runs only the tests that apply there:
#:     "2.21": Line(pins=("tensorflow-cpu==2.21.*", *TEST_TOOLS), tests=("-m", "keras3")),
#: numpy<2: on top of TensorFlow's own range, which older lines narrow further.
LINES: dict[str, Line] = {
    "2.12": Line(
        pins=("tensorflow-cpu==2.12.*", "tensorflow-estimator==2.12.*", "numpy<2", *TEST_TOOLS)
    ),
    "2.13": Line(
        pins=("tensorflow-cpu==2.13.*", "tensorflow-estimator==2.13.*", "numpy<2", *TEST_TOOLS)
    ),
    "2.14": Line(
        pins=("tensorflow-cpu==2.14.*", "tensorflow-estimator==2.14.*", "numpy<2", *TEST_TOOLS)
    ),
    "2.15": Line(
        pins=("tensorflow-cpu==2.15.*", "tensorflow-estimator==2.15.*", "numpy<2", *TEST_TOOLS)
    ),
    # Where Estimator is gone (Keras 3, no tensorflow-estimator): the tests marked keras3
    # (twins, graph code, imports, install flavours, the clear errors), on the first Keras 3
    # line (numpy below 2, TensorFlow's own pin) and the newest (numpy 2), the ends of setup.cfg's
    # keras3 extras.
    "2.16": Line(pins=("tensorflow-cpu==2.16.*", *TEST_TOOLS), tests=("-m", "keras3")),
    "2.21": Line(pins=("tensorflow-cpu==2.21.*", *TEST_TOOLS), tests=("-m", "keras3")),
}

#: Distributions whose installed versions go in the table.
REPORTED = ("tensorflow-cpu", "tensorflow-estimator", "numpy", "keras")
#: Seconds one line's test run may take (coreutils `timeout` then kills its
#: whole process group: the suite starts cluster task processes); the suite's
#: own subprocess tests have their own, shorter, timeouts.
TEST_TIMEOUT_S = int(os.environ.get("MATRIX_TIMEOUT", "3600"))
#: Kept out of every command: they would leak another environment into a venv.
ENV = dict.fromkeys(("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "TF_CONFIG"))
ENV.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
#: In the log: what follows is pytest's output.
TEST_RUN_MARK = "[matrix] test run\n"
#: In the venv: the versions it had after the last run's install (created, reused or updated).
STAMP_NAME = "matrix-versions.json"

nox.options.envdir = str(MATRIX_DIR)
nox.options.sessions = [f"tf-{line}" for line in LINES]  # `table` is queued by them


@dataclass
class LineResult:
    line: str
    versions: dict[str, str] = field(default_factory=dict)
    python: str = "-"
    passed: int = 0
    failed: int = 0  # failed tests plus errors
    skipped: int = 0
    errors: int = 0
    test_s: float | None = None
    setup_s: float = 0.0
    verdict: str = "not run"
    venv_note: str = "-"
    failures: list[str] = field(default_factory=list)  # pytest's "FAILED ..."/"ERROR ..." lines
    skips: list[str] = field(default_factory=list)  # pytest's "SKIPPED ..." lines
    #: pip check's complaints about this package's own requirements on this line.
    metadata_problems: list[str] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return MATRIX_DIR / f"{self.line}.log"

    @property
    def ok(self) -> bool:
        return self.verdict == "pass"


#: The lines run by this nox invocation, in order (nox runs every session in this process).
RESULTS: list[LineResult] = []
STARTED = time.monotonic()


class SetupFailed(Exception):
    """A setup step (pip, pip check) failed; the message says which and why."""


# ------------------------------------------------------------------ one line


def _setup(session: nox.Session, line: str, result: LineResult, log) -> None:
    """Installs the line's pins and this tree into the session's venv, then `pip check`."""
    stamp = Path(session.virtualenv.location) / STAMP_NAME
    for what, args in (
        ("the line's pins", LINES[line].pins),
        ("this tree", ("--no-deps", "--no-build-isolation", "-e", ".")),
    ):
        try:
            session.install(*args, env=ENV, silent=False, stdout=log)
        except CommandFailed as e:
            raise SetupFailed(f"pip install of {what} failed ({e.reason})") from None
    result.versions, result.python = _installed(session)
    before = json.loads(stamp.read_text(encoding="utf-8")) if stamp.exists() else None
    result.venv_note = (
        "created" if before is None else "reused" if before == result.versions else "updated"
    )
    stamp.write_text(json.dumps(result.versions, indent=2) + "\n", encoding="utf-8")
    session.log(
        f"{line}: venv {result.venv_note}: "
        + ", ".join(f"{k} {v}" for k, v in result.versions.items())
    )
    result.metadata_problems = _pip_check(session, log)


def _query(session: nox.Session, *args: str, **kwargs) -> str:
    """The output of a read-only command in the venv, whatever nox's install options:
    run_install() does nothing under --no-install (-R), run() under --install-only."""
    return session.run_install(*args, env=ENV, silent=True, **kwargs) or session.run(
        *args, env=ENV, silent=True, **kwargs
    )


def _installed(session: nox.Session) -> tuple[dict[str, str], str]:
    """({distribution: version} of REPORTED, "-" if absent; Python's version) in the venv."""
    code = (
        "import json, platform, sys\n"
        "from importlib import metadata\n"
        "out = {}\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        out[name] = metadata.version(name)\n"
        "    except metadata.PackageNotFoundError:\n"
        "        out[name] = '-'\n"
        "print(json.dumps([out, platform.python_version()]))\n"
    )
    output = _query(session, "python", "-c", code, *REPORTED, log=False)
    versions, python = json.loads(output)
    return versions, python


def _pip_check(session: nox.Session, log) -> list[str]:
    """`pip check`: raises on a broken third-party requirement; returns the
    complaints about this package's own requirements (setup.cfg's ranges vs
    the line), which do not stop the test run but fail the line."""
    output = _query(session, "python", "-m", "pip", "check", success_codes=(0, 1))
    log.write(f"\n$ python -m pip check\n{output}")
    log.flush()
    problems = [
        p.strip()
        for p in output.splitlines()
        if p.strip() and not p.startswith("No broken requirements")
    ]
    own = [
        p for p in problems if p.lower().startswith(("estimator-metrics ", "estimator_metrics "))
    ]
    if len(own) != len(problems):
        raise SetupFailed(
            "pip check found broken requirements: "
            + "; ".join(p for p in problems if p not in own)[:500]
        )
    return own


def run_line(session: nox.Session, line: str) -> None:
    session.notify("table")
    result = LineResult(line)
    RESULTS.append(result)
    MATRIX_DIR.mkdir(exist_ok=True)
    started = time.monotonic()
    with open(result.log, "w", encoding="utf-8") as log:
        try:
            _setup(session, line, result, log)
        except (CommandFailed, SetupFailed) as e:
            result.verdict = "setup failed"
            result.failures = [
                str(e) if isinstance(e, SetupFailed) else f"query failed: {e.reason}"
            ]
        result.setup_s = time.monotonic() - started
        if result.verdict == "setup failed":
            session.error(f"{line}: setup failed: {result.failures[0]} (log: {_rel(result.log)})")

        command = ("python", "-m", "pytest", "-q", "-rfEs", *LINES[line].tests, *session.posargs)
        session.log(f"{line}: {shlex.join(command)} > {_rel(result.log)}")
        log.write(f"\n{TEST_RUN_MARK}$ {shlex.join(command)}\n")
        log.flush()
        try:
            ran = session.run(
                "timeout",
                "--kill-after=30",
                str(TEST_TIMEOUT_S),
                *command,
                env=ENV,
                external=True,
                log=False,
                stdout=log,
                terminate_timeout=40,
            )  # Ctrl-C: let `timeout` stop the group
            code = 0
        except CommandFailed as e:
            ran, code = True, e.return_code
        result.test_s = time.monotonic() - started - result.setup_s
        if ran is None:  # --install-only
            result.verdict, result.test_s = "installed only", None
            return
        if result.test_s >= TEST_TIMEOUT_S:
            log.write(f"\n[matrix] timed out after {TEST_TIMEOUT_S} s: killed\n")
    text = result.log.read_text(encoding="utf-8", errors="replace").rpartition(TEST_RUN_MARK)[2]
    _record(result, text, code)
    session.log(
        f"{line}: {result.verdict}: {result.passed} passed, {result.failed} failed "
        f"({result.errors} errors), {result.skipped} skipped in {_duration(result.test_s)}"
    )
    if not result.ok:
        session.error(f"{line}: {result.verdict} (log: {_rel(result.log)})")


def _line_session(line: str):
    def session(session: nox.Session) -> None:
        run_line(session, line)

    session.__doc__ = f"The tests on TensorFlow {line}: " + " ".join(LINES[line].pins[:3])
    return session


for _line in LINES:
    nox.session(name=f"tf-{_line}", python=PYTHON, reuse_venv=True)(_line_session(_line))


# ------------------------------------------------------------ pytest's output


_OUTCOMES = r"(passed|failed|skipped|errors?|xfailed|xpassed|deselected)\b"
_COUNT = re.compile(r"(\d+) " + _OUTCOMES)
#: pytest's closing line, e.g. "1 failed, 390 passed, 20 warnings in 234.5s (0:03:54)".
_SUMMARY = re.compile(r"^=*\s*(no tests ran|\d+ " + _OUTCOMES + r".*) in [\d.]+s")


def parse_summary(text: str) -> dict[str, int] | None:
    """pytest's closing counts ({"passed": N, ...}), or None if it printed none."""
    for raw in reversed(text.splitlines()):
        line = raw.strip()
        if _SUMMARY.match(line):
            counts: dict[str, int] = {}
            for number, word in _COUNT.findall(line):
                word = "errors" if word.startswith("error") else word
                counts[word] = counts.get(word, 0) + int(number)
            return counts
    return None


def _record(result: LineResult, text: str, code: int) -> None:
    """`result`'s counts, failures, skips and verdict from pytest's output and exit code."""
    counts = parse_summary(text) or {}
    result.passed = counts.get("passed", 0) + counts.get("xpassed", 0)
    result.errors = counts.get("errors", 0)
    result.failed = counts.get("failed", 0) + result.errors
    result.skipped = counts.get("skipped", 0) + counts.get("xfailed", 0)
    lines = [ln.strip() for ln in text.splitlines()]
    result.failures = [ln for ln in lines if ln.startswith(("FAILED ", "ERROR "))]
    result.skips = [ln for ln in lines if ln.startswith("SKIPPED ")]
    if code == 0 and counts and result.failed == 0 and result.passed > 0:
        # A line the suite passes on but setup.cfg's ranges exclude: the
        # ranges and the table disagree.
        result.verdict = "FAIL (setup.cfg excludes it)" if result.metadata_problems else "pass"
    elif result.test_s is not None and result.test_s >= TEST_TIMEOUT_S:
        result.verdict = "timeout"
    elif code > 128:
        result.verdict = f"killed ({code - 128})"
    elif not counts:
        result.verdict = f"FAIL (pytest exit {code}, no summary)"
    else:
        result.verdict = "FAIL"


# --------------------------------------------------------------------- table


def _rel(path: Path) -> str:
    return os.path.relpath(path)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


HEADER = ("line", *REPORTED, "passed", "failed", "skipped", "time", "verdict")
#: Counts and times right-aligned, so that their digits line up.
ALIGN = "".join("r" if name in ("passed", "failed", "skipped", "time") else "l" for name in HEADER)


def table(results: Sequence[LineResult]) -> str:
    rows = [
        (
            r.line,
            *(r.versions.get(name, "-") for name in REPORTED),
            r.passed,
            r.failed,
            r.skipped,
            _duration(r.test_s),
            r.verdict,
        )
        for r in results
    ]
    return render(HEADER, rows, ALIGN, style="markdown")


def report(results: Sequence[LineResult], total_s: float) -> str:
    command = shlex.join(["nox", *sys.argv[1:]])
    parts = [
        "# Version matrix",
        "",
        f"`{command}`, {time.strftime('%Y-%m-%d %H:%M %Z')}; total {_duration(total_s)} "
        "(venv setup included; `time` is the test run alone).",
        "",
        table(results),
        "",
    ]
    for r in results:
        parts += [
            f"## {r.line}: {r.verdict}",
            "",
            f"venv {r.venv_note} (Python {r.python}), setup {_duration(r.setup_s)}, "
            f"log `{_rel(r.log)}`",
        ]
        if r.metadata_problems:
            parts += [
                "",
                "pip check (setup.cfg's ranges vs this line):",
                "",
                *(f"    {p}" for p in r.metadata_problems),
            ]
        if r.failures:
            parts += ["", "Failures:", "", *(f"    {f}" for f in r.failures)]
        if r.skips:
            parts += ["", "Skips:", "", *(f"    {s}" for s in r.skips)]
        parts.append("")
    return "\n".join(parts)


@nox.session(name="table", python=False)
def table_session(session: nox.Session) -> None:
    """The table of the lines run by this invocation (queued by each tf-* session)."""
    if not RESULTS:
        session.error("no line ran in this invocation: select tf-* sessions (nox -l)")
    total_s = time.monotonic() - STARTED
    print()
    print(table(RESULTS))
    print()
    for r in RESULTS:
        for problem in r.metadata_problems:
            print(f"{r.line}: pip check: {problem}")
        for failure in r.failures:
            print(f"{r.line}: {failure}")
    results_md = MATRIX_DIR / "results.md"
    print(f"total {_duration(total_s)}; details in {_rel(results_md)}", flush=True)
    results_md.write_text(report(RESULTS, total_s), encoding="utf-8")
