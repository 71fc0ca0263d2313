"""`make matrix`: the suite once per (Python, TensorFlow line), each in its own venv, then a table.

    make matrix [MATRIX_ARGS="-t tf2.12 -- -k adapter"]   (nox's options, then pytest's)
    .venv/bin/nox -l                                        the lines, by session name
    .venv/bin/nox -t py3.9 | -t tf2.15 | -t debian | -t keras3   a part of the matrix, by tag

`LINES` below is the matrix: (Python, TensorFlow line, the tests that apply there). Python 3.11
is the host's interpreter and nox makes its venvs (session `tests`, `python=` parametrised);
3.9 and 3.13 are Debian's own builds (bullseye, trixie), which run only inside a Debian root
(docker/debian-python.sh: mmdebstrap, bubblewrap), so session `debian` makes its venvs with
that interpreter in there: nox cannot call an interpreter that exists only inside a root.
Every line, under .matrix/:

1. reuses its venv, made anew (picking up newer patch releases) by nox's `--reuse-venv=never`
   for the host's lines, by deleting `.matrix/debian-<line>` for Debian's;
2. pip-installs the line's pins in one resolve (latest patch release of the line, numpy below
   2 for the Estimator lines, test tools that accept that numpy), then this tree
   (`-e . --no-deps --no-build-isolation`), then runs `pip check`; a failure there is the
   line's verdict "setup failed";
3. runs pytest (`--junitxml`: pytest's own account of every test, which the table reads, with
   the versions tests/conftest.py records in it), MATRIX_TIMEOUT seconds at most (default
   3600); all output goes to `.matrix/<line>.log`.

Every line queues `table`, which runs last: the table of the lines run (passed / skipped /
failed, time), also written with each line's failures and skips to `.matrix/results.md`.
nox exits 1 if any line failed. Session `smoke` is `make test`'s quick look at a real Python 3.9.
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

import nox
from nox.command import CommandFailed

# The package is installed (editable) in the venv nox runs from; this module imports no TensorFlow.
from estimator_metrics._tables import render

ROOT = Path(__file__).resolve().parent
MATRIX_DIR = ROOT / ".matrix"
DEBIAN = {"3.9": "bullseye", "3.13": "trixie"}  # Python: the Debian suite whose build it is
HOST_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"  # .venv's, i.e. make's PYTHON
KERAS3 = ("-m", "keras3")  # the Keras 3 part of the suite (no tf.estimator there)


@dataclass(frozen=True)
class Line:
    python: str
    tensorflow: str
    #: pytest's selection here (empty: the whole suite, setup.cfg's testpaths).
    tests: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.python}-tf{self.tensorflow}"

    @property
    def where(self) -> str:
        return f"Debian {DEBIAN[self.python]}" if self.python in DEBIAN else "host"

    @property
    def pins(self) -> tuple[str, ...]:
        """One `pip install`: the line's TensorFlow (and tensorflow-estimator and numpy<2 where
        it has Estimator), the test runner, Sybil (conftest.py: the docs' examples), oracles and
        property tests (pip picks releases that accept the line's numpy), libcst (setup.cfg
        requires it; the tree goes in with --no-deps) and the build backend for
        `pip install --no-build-isolation -e .`."""
        line = f"=={self.tensorflow}.*"
        estimator = () if self.tests == KERAS3 else (f"tensorflow-estimator{line}", "numpy<2")
        if self.tests != KERAS3:  # Oracles of the whole suite: slim's metrics, TFP's ECE.
            estimator += ("tf-slim", f"tensorflow-probability=={TFP[self.tensorflow]}")
        else:  # tf.summary.image (the twin's diagram into TensorBoard) needs it from 2.16 on.
            estimator += ("tensorboard",)
        tools = (
            "pytest",
            "sybil",
            "scikit-learn",
            "hypothesis",
            "libcst>=1.1,<2",
            "tqdm",
            # The reliability diagram (the `diagram` extra) is drawn in the suite.
            "matplotlib",
            # 64: editable installs (PEP 660); Debian bullseye's venvs start with setuptools 44.
            "setuptools>=64",
            "wheel",
        )
        return (f"tensorflow-cpu{line}", *estimator, *tools)

    def param(self) -> nox.param:
        tags = [f"py{self.python}", f"tf{self.tensorflow}", "keras3" if self.tests else "full"]
        tags += ["debian"] if self.python in DEBIAN else []
        return nox.param(self.python, self.tensorflow, id=self.name, tags=tags)


#: The TensorFlow Probability release built against each Estimator line (the calibration
#: error's oracle).
TFP = {"2.12": "0.20.*", "2.13": "0.21.*", "2.14": "0.22.*", "2.15": "0.23.*"}


#: The matrix. Adding a line is adding an entry (its session, venv, log and table row follow).
#: Every Estimator line on the host; both ends of it on Python 3.9; the Keras 3 tests on the
#: first Keras 3 line (numpy below 2, TensorFlow's own pin) and the newest (numpy 2), and on
#: Python 3.13 (which TensorFlow reaches at 2.20).
LINES = (
    Line("3.9", "2.12"),
    Line("3.9", "2.15"),
    *(Line(HOST_PYTHON, tf) for tf in ("2.12", "2.13", "2.14", "2.15")),
    Line(HOST_PYTHON, "2.16", KERAS3),
    Line(HOST_PYTHON, "2.21", KERAS3),
    Line("3.13", "2.21", KERAS3),
)
#: Seconds one line's test run may take (coreutils `timeout` then stops it: the suite starts
#: cluster task processes); the suite's own subprocess tests have shorter timeouts of their own.
TEST_TIMEOUT_S = int(os.environ.get("MATRIX_TIMEOUT", "3600"))
#: Kept out of every command: they would leak another environment into a venv.
ENV = dict.fromkeys(("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "TF_CONFIG"))
ENV.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", TF_CPP_MIN_LOG_LEVEL="2")

nox.options.envdir = str(MATRIX_DIR)
nox.options.sessions = ["tests", "debian"]  # every line; `table` is queued by them


@dataclass
class Result:
    line: Line
    verdict: str = "not run"
    setup_s: float = 0.0
    test_s: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    skips: list[str] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return MATRIX_DIR / f"{self.line.name}.log"

    @property
    def junit(self) -> Path:
        return MATRIX_DIR / f"{self.line.name}.xml"


#: The lines run by this nox invocation, in order (nox runs every session in this process).
RESULTS: list[Result] = []
STARTED = time.monotonic()


def _debian(session: nox.Session, python: str):
    """A `session.run` that runs its command inside the Debian root of `python`."""
    script = str(ROOT / "docker" / "debian-python.sh")

    def run(*args: str, **kwargs):
        return session.run("bash", script, DEBIAN[python], *args, external=True, **kwargs)

    return run


def _run_line(session: nox.Session, line: Line, run, python: str) -> None:
    """Installs the line into the venv of `python` (through `run`), runs its tests, records
    the result for `table`."""
    session.notify("table")
    result = Result(line)
    RESULTS.append(result)
    MATRIX_DIR.mkdir(exist_ok=True)
    result.junit.unlink(missing_ok=True)
    started = time.monotonic()
    with open(result.log, "w", encoding="utf-8") as log:
        pip = (python, "-m", "pip")
        try:
            for args in (
                ("install", "--upgrade", "pip"),
                ("install", *line.pins),
                ("install", "--no-deps", "--no-build-isolation", "-e", str(ROOT)),
                ("check",),
            ):
                run(*pip, *args, env=ENV, stdout=log, stderr=log, silent=False)
        except CommandFailed as error:
            result.verdict = "setup failed"
            result.failures = [f"{shlex.join(pip)}: {error.reason} (log: {_rel(result.log)})"]
            _write_report()
            session.error(f"{line.name}: setup failed: {result.failures[0]}")
        finally:
            result.setup_s = time.monotonic() - started
        # tests/packaging checks the distribution (build, twine, each extra resolved for every
        # Python against PyPI), the same on every line: `make test` runs it, with its tools.
        test = (python, "-m", "pytest", "-q", f"--junitxml={result.junit}", *line.tests)
        test += ("--ignore=tests/packaging",)
        timeout = ("timeout", "--kill-after=30", str(TEST_TIMEOUT_S))
        try:
            ran = run(*timeout, *test, *session.posargs, env=ENV, stdout=log, stderr=log)
        except CommandFailed:
            ran = True
    result.test_s = time.monotonic() - started - result.setup_s
    if ran is None:  # nox --install-only
        result.verdict, result.test_s = "installed only", None
        return
    _read_junit(result)
    _write_report()
    session.log(f"{line.name}: {result.verdict}: {_counts(result)} in {_duration(result.test_s)}")
    if result.verdict != "pass":
        session.error(f"{line.name}: {result.verdict} (log: {_rel(result.log)})")


@nox.session(reuse_venv=True)
@nox.parametrize("python,tensorflow", [x.param() for x in LINES if x.python not in DEBIAN])
def tests(session: nox.Session, tensorflow: str) -> None:
    """A line on the host's Python, in a venv nox makes."""
    line = next(x for x in LINES if (x.python, x.tensorflow) == (session.python, tensorflow))
    _run_line(session, line, session.run, "python")


@nox.session(venv_backend="none")
@nox.parametrize("python,tensorflow", [x.param() for x in LINES if x.python in DEBIAN])
def debian(session: nox.Session, tensorflow: str) -> None:
    """A line on Debian's own Python, in a venv made in its root (docker/debian-python.sh)."""
    line = next(x for x in LINES if (x.python, x.tensorflow) == (session.python, tensorflow))
    venv = MATRIX_DIR / f"debian-{line.name}"
    run = _debian(session, line.python)
    if not (venv / "bin" / "python").is_symlink():
        run(f"python{line.python}", "-m", "venv", str(venv), env=ENV)
    _run_line(session, line, run, str(venv / "bin" / "python"))


#: `make test`'s real-interpreter smoke: the builders, the adapter and the twins (their tests
#: and doctests) on Debian bullseye's Python 3.9, with the hash-locked Estimator stack.
SMOKE_LOCK = "docker/requirements-py39.lock"
SMOKE_TESTS = (
    "tests/core/test_fbeta.py",
    "tests/adapter/test_adapter.py",
    "tests/keras_metrics/test_twins.py",
    "estimator_metrics/builders.py",
    "estimator_metrics/adapter.py",
    "estimator_metrics/keras_metrics.py",
)


@nox.session(venv_backend="none")
def smoke(session: nox.Session) -> None:
    """The builders, adapter and twins on Debian's Python 3.9 with the locked TensorFlow 2.15."""
    venv = MATRIX_DIR / "debian-smoke-3.9"
    run, python = _debian(session, "3.9"), str(venv / "bin" / "python")
    stamp = venv / "installed.lock"
    lock = (ROOT / SMOKE_LOCK).read_text(encoding="utf-8")
    if not stamp.exists() or stamp.read_text(encoding="utf-8") != lock:
        run("python3.9", "-m", "venv", "--clear", str(venv), env=ENV)
        run(python, "-m", "pip", "install", "--require-hashes", "--no-deps", "-r", SMOKE_LOCK)
        run(python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-e", str(ROOT))
        run(python, "-m", "pip", "check")
        stamp.write_text(lock, encoding="utf-8")
    run(python, "-m", "pytest", "-q", *SMOKE_TESTS, *session.posargs)


# --------------------------------------------------------------------- the table


def _read_junit(result: Result) -> None:
    """`result`'s counts, failures, skips, versions and verdict, from pytest's junit XML."""
    if not result.junit.exists():
        result.verdict = "timeout" if (result.test_s or 0) >= TEST_TIMEOUT_S else "no report"
        return
    suite = ElementTree.parse(result.junit).getroot().find("testsuite")
    assert suite is not None, result.junit
    total, failed, errors, skipped = (
        int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")
    )
    result.counts = {
        "passed": total - failed - errors - skipped,
        "skipped": skipped,
        "failed": failed + errors,
    }
    result.properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    for case in suite.iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        for outcome in case:
            message = (outcome.get("message") or "").splitlines()[0:1]
            if outcome.tag in ("failure", "error"):
                result.failures.append(f"{outcome.tag.upper()} {test}: {''.join(message)}")
            elif outcome.tag == "skipped":
                result.skips.append(f"{test}: {''.join(message)}")
    ok = result.counts["failed"] == 0 and result.counts["passed"] > 0
    result.verdict = "pass" if ok else "FAIL"


def _rel(path: Path) -> str:
    return os.path.relpath(path)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _counts(result: Result) -> str:
    return ", ".join(f"{result.counts.get(k, 0)} {k}" for k in ("passed", "skipped", "failed"))


#: (column, the junit property tests/conftest.py records, or None).
COLUMNS = (
    ("Python", "python"),
    ("TensorFlow line", None),
    ("tests", None),
    ("tensorflow", "tensorflow"),
    ("tensorflow-estimator", "tensorflow-estimator"),
    ("numpy", "numpy"),
    ("passed", None),
    ("skipped", None),
    ("failed", None),
    ("time", None),
    ("verdict", None),
)


def render_table(results: list[Result]) -> str:
    rows = []
    for r in results:
        p = r.properties
        rows.append(
            (
                f"{p.get('python', r.line.python)} ({r.line.where})",
                r.line.tensorflow,
                "keras3" if r.line.tests else "full",
                p.get("tensorflow", "-"),
                p.get("tensorflow-estimator", "-"),
                p.get("numpy", "-"),
                *(r.counts.get(k, 0) for k in ("passed", "skipped", "failed")),
                _duration(r.test_s),
                r.verdict,
            )
        )
    align = "".join(
        "r" if c in ("passed", "skipped", "failed", "time") else "l" for c, _ in COLUMNS
    )
    return render([c for c, _ in COLUMNS], rows, align, style="markdown")


def report(results: list[Result], total_s: float) -> str:
    parts = [
        "# Version matrix",
        "",
        f"`{shlex.join(['nox', *sys.argv[1:]])}` on {platform.node() or 'this machine'}, "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}; total {_duration(total_s)} (venv setup "
        "included; `time` is the test run alone).",
        "",
        render_table(results),
        "",
    ]
    for r in results:
        parts += [
            f"## {r.line.name}: {r.verdict}",
            "",
            f"{_counts(r)}; setup {_duration(r.setup_s)}, tests {_duration(r.test_s)}; "
            f"log `{_rel(r.log)}`, junit `{_rel(r.junit)}`",
        ]
        for title, items in (("Failures", r.failures), ("Skips", r.skips)):
            if items:
                parts += ["", f"{title}:", "", *(f"    {item}" for item in items)]
        parts.append("")
    return "\n".join(parts)


def _write_report() -> Path:
    """.matrix/results.md for the lines run so far (after each line: an interrupted run keeps
    what it measured)."""
    results_md = MATRIX_DIR / "results.md"
    results_md.write_text(report(RESULTS, time.monotonic() - STARTED), encoding="utf-8")
    return results_md


@nox.session(python=False)
def table(session: nox.Session) -> None:
    """The table of the lines run by this invocation (queued by each line)."""
    if not RESULTS:
        session.error("no line ran in this invocation: select lines (nox -l)")
    print(f"\n{render_table(RESULTS)}\n")
    for r in RESULTS:
        for failure in r.failures:
            print(f"{r.line.name}: {failure}")
    results_md = _write_report()
    print(f"total {_duration(time.monotonic() - STARTED)}; details in {_rel(results_md)}")
