"""Runs the test suite once per TensorFlow line, each in its own venv, and tables the results.

    python3.11 tools/matrix.py [--lines 2.12,2.15] [--rebuild] [--refresh] [-- PYTEST_ARGS...]
    make matrix [MATRIX_ARGS="--lines 2.13"]

For each line L (2.12, 2.13, 2.14, 2.15 by default), sequentially:

1. `.matrix/venv-L`: reused when its stamp (`.matrix/venv-L/matrix-pins.json`)
   records the same requirements, the same Python, and the versions it
   recorded are still the ones installed; otherwise (or with `--rebuild`)
   it is deleted and created anew. `--refresh` re-resolves in place (picks
   up a newer patch release). The requirements go to ONE `pip install`, so
   pip resolves them together: `tensorflow-cpu==L.*` and
   `tensorflow-estimator==L.*` (latest patch), `numpy<2` on top of
   TensorFlow's own numpy range, and pytest and scikit-learn versions that
   accept that numpy.
2. This working tree, `pip install --no-deps --no-build-isolation -e .`
   (every run: cheap, and the task processes of the distributed tests
   import the package from wherever they run), then `pip check`: a broken
   third-party requirement stops the line ("setup failed"); a complaint
   about this package's own requirements (setup.cfg's ranges exclude the
   line) lets the tests run but fails the line, so setup.cfg's ranges and
   the table cannot disagree unnoticed.
3. `python -m pytest -q -p no:cacheprovider` from the repository root, so
   setup.cfg's [tool:pytest] applies (testpaths, --doctest-modules); the
   full output goes to `.matrix/L.log`.

Prints the table (and writes it, with each line's failures and skips, to
`.matrix/results.md`); exits 1 if any line failed, 2 on a usage error.
Arguments after `--` go to pytest (e.g. `-- -k adapter`).
Needs only the standard library and the network to PyPI (first run, or
--rebuild/--refresh).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
MATRIX_DIR = ROOT / ".matrix"
LINES = ("2.12", "2.13", "2.14", "2.15")
#: Distributions whose installed versions go in the table (and the stamp).
REPORTED = ("tensorflow-cpu", "tensorflow-estimator", "numpy", "keras")
STAMP_NAME = "matrix-pins.json"
PYTEST_COMMAND = ("-m", "pytest", "-q", "-p", "no:cacheprovider")
#: Hard limit for one line's test run; the suite's own subprocess tests have
#: their own, shorter, timeouts.
DEFAULT_TEST_TIMEOUT_S = 3600
#: Environment variables that would leak another environment into a venv's run.
_DROPPED_ENV = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "TF_CONFIG")


def requirements(line: str) -> List[str]:
    """What one `pip install` gets for line `line` (pip resolves them together)."""
    return [
        f"tensorflow-cpu=={line}.*",
        f"tensorflow-estimator=={line}.*",
        "numpy<2",  # TensorFlow's own range narrows it further on older lines.
        "pytest",
        "scikit-learn",  # Resolved to a release that accepts that numpy.
        # For `pip install --no-build-isolation -e .` of this package.
        "setuptools",
        "wheel",
    ]


@dataclass
class LineResult:
    line: str
    versions: Dict[str, str] = field(default_factory=dict)
    passed: int = 0
    failed: int = 0  # failed tests plus errors
    skipped: int = 0
    errors: int = 0
    test_s: Optional[float] = None
    setup_s: float = 0.0
    verdict: str = "not run"
    venv_note: str = ""
    failures: List[str] = field(default_factory=list)  # pytest's "FAILED ..."/"ERROR ..." lines
    skips: List[str] = field(default_factory=list)  # pytest's "SKIPPED ..." lines
    #: pip check's complaints about this package's own requirements on this line.
    metadata_problems: List[str] = field(default_factory=list)
    log: Optional[Path] = None

    @property
    def ok(self) -> bool:
        return self.verdict == "pass"


class StepFailed(Exception):
    """An environment step (venv, pip) failed; the message says which and why."""


# --------------------------------------------------------------------- helpers


def _log(message: str) -> None:
    print(f"[matrix {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _clean_env(venv: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(venv)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def _run(command: Sequence[str], venv: Path, log_file, timeout_s: Optional[float] = None) -> int:
    """Runs `command` in the repository root, output appended to `log_file`.

    The command gets its own process group, which is killed whole on a
    timeout or on Ctrl-C (the suite starts cluster task processes).
    """
    log_file.write(f"\n$ {' '.join(command)}\n")
    log_file.flush()
    proc = subprocess.Popen(
        list(command), cwd=ROOT, env=_clean_env(venv), stdin=subprocess.DEVNULL,
        stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        log_file.write(f"\n[matrix] timed out after {timeout_s:g} s: killed\n")
        return -signal.SIGKILL
    except BaseException:
        _kill_group(proc)
        raise


def _kill_group(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue


def _installed_versions(python: Path) -> Dict[str, str]:
    """{distribution: version} of REPORTED in the venv of `python` ("-" if absent)."""
    code = (
        "import json, sys\n"
        "from importlib import metadata\n"
        "out = {}\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        out[name] = metadata.version(name)\n"
        "    except metadata.PackageNotFoundError:\n"
        "        out[name] = '-'\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [str(python), "-c", code, *REPORTED], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise StepFailed(f"reading installed versions failed: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout)


def _python_version(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
        capture_output=True, text=True, check=True,
    )
    return out.stdout.strip()


# ------------------------------------------------------------------ one venv


def ensure_venv(line: str, base_python: str, rebuild: bool, refresh: bool, log_file) -> tuple:
    """Creates or reuses `.matrix/venv-<line>`; returns (venv, versions, note)."""
    venv = MATRIX_DIR / f"venv-{line}"
    python = venv / "bin" / "python"
    stamp_path = venv / STAMP_NAME
    wanted = {"requirements": requirements(line), "python": _python_version(base_python)}

    reuse = False
    if venv.exists() and not rebuild:
        try:
            stamp = json.loads(stamp_path.read_text(encoding="utf-8"))
            reuse = (
                python.exists()
                and {k: stamp.get(k) for k in wanted} == wanted
                and _installed_versions(python) == stamp.get("installed")
            )
        except (OSError, ValueError, StepFailed):
            reuse = False
    if reuse and not refresh:
        return venv, stamp["installed"], "reused"

    if not reuse:
        if venv.exists():
            _log(f"{line}: {venv.relative_to(ROOT)} is stale or incomplete: recreating it")
            shutil.rmtree(venv)
        if _run([base_python, "-m", "venv", str(venv)], venv, log_file) != 0:
            raise StepFailed(f"`{base_python} -m venv` failed")
    note = "refreshed" if reuse else "created"
    _log(f"{line}: pip install {' '.join(requirements(line))}")
    upgrade = ["--upgrade", "--upgrade-strategy", "eager"] if reuse else []
    if _run([str(python), "-m", "pip", "install", "--quiet", *upgrade, *requirements(line)],
            venv, log_file) != 0:
        stamp_path.unlink(missing_ok=True)
        raise StepFailed("pip install of the requirements failed (see the log)")
    installed = _installed_versions(python)
    if not installed["tensorflow-cpu"].startswith(line + "."):
        raise StepFailed(
            f"pip installed tensorflow-cpu {installed['tensorflow-cpu']}, not {line}.*")
    stamp_path.write_text(
        json.dumps({**wanted, "installed": installed}, indent=2) + "\n", encoding="utf-8"
    )
    return venv, installed, note


def _pip_check(python: str, venv: Path, log_file) -> List[str]:
    """`pip check`: raises on a broken third-party requirement; returns the
    complaints about this package's own requirements (setup.cfg's ranges vs
    the line), which do not stop the test run but fail the line."""
    proc = subprocess.run([python, "-m", "pip", "check"], cwd=ROOT, env=_clean_env(venv),
                          capture_output=True, text=True, check=False)
    log_file.write(f"\n$ {python} -m pip check\n{proc.stdout}{proc.stderr}")
    log_file.flush()
    if proc.returncode == 0:
        return []
    problems = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip()]
    own = [p for p in problems
           if p.lower().startswith(("estimator-metrics ", "estimator_metrics "))]
    if len(own) != len(problems) or not own:
        raise StepFailed("pip check found broken requirements: "
                         + "; ".join(p for p in problems if p not in own)[:500])
    return own


# ------------------------------------------------------------------ one line


_OUTCOMES = r"(passed|failed|skipped|errors?|xfailed|xpassed|deselected)\b"
_COUNT = re.compile(r"(\d+) " + _OUTCOMES)
#: pytest's closing line, e.g. "1 failed, 390 passed, 20 warnings in 234.5s (0:03:54)".
_SUMMARY = re.compile(r"^=*\s*(no tests ran|\d+ " + _OUTCOMES + r".*) in [\d.]+s")


def parse_summary(text: str) -> Optional[Dict[str, int]]:
    """pytest's closing counts ({"passed": N, ...}), or None if it printed none."""
    for raw in reversed(text.splitlines()):
        line = raw.strip()
        if _SUMMARY.match(line):
            counts: Dict[str, int] = {}
            for number, word in _COUNT.findall(line):
                word = "errors" if word.startswith("error") else word
                counts[word] = counts.get(word, 0) + int(number)
            return counts
    return None


def _summary_lines(text: str, prefixes: Sequence[str]) -> List[str]:
    return [ln.strip() for ln in text.splitlines() if ln.startswith(tuple(prefixes))]


def run_line(line: str, args) -> LineResult:
    result = LineResult(line)
    result.log = MATRIX_DIR / f"{line}.log"
    started = time.monotonic()
    with open(result.log, "w", encoding="utf-8") as log_file:
        try:
            venv, result.versions, result.venv_note = ensure_venv(
                line, args.python, args.rebuild, args.refresh, log_file
            )
            python = str(venv / "bin" / "python")
            _log(f"{line}: venv {result.venv_note}: "
                 + ", ".join(f"{k} {v}" for k, v in result.versions.items()))
            if _run([python, "-m", "pip", "install", "--quiet", "--no-deps",
                     "--no-build-isolation", "-e", str(ROOT)], venv, log_file) != 0:
                raise StepFailed("pip install -e . (--no-deps) of the working tree failed")
            result.metadata_problems = _pip_check(python, venv, log_file)
        except StepFailed as e:
            result.setup_s = time.monotonic() - started
            result.verdict = "setup failed"
            result.failures = [str(e)]
            _log(f"{line}: SETUP FAILED: {e} (log: {result.log.relative_to(ROOT)})")
            return result
        result.setup_s = time.monotonic() - started

        _log(f"{line}: python {' '.join(PYTEST_COMMAND)} {' '.join(args.pytest_args)}".rstrip())
        test_start = time.monotonic()
        log_file.write("\n[matrix] test run\n")
        offset = log_file.tell()
        code = _run([python, *PYTEST_COMMAND, "-rfEs", *args.pytest_args], venv, log_file,
                    timeout_s=args.timeout)
        result.test_s = time.monotonic() - test_start
    text = result.log.read_text(encoding="utf-8", errors="replace")[offset:]
    counts = parse_summary(text) or {}
    result.passed = counts.get("passed", 0) + counts.get("xpassed", 0)
    result.errors = counts.get("errors", 0)
    result.failed = counts.get("failed", 0) + result.errors
    result.skipped = counts.get("skipped", 0) + counts.get("xfailed", 0)
    result.failures = _summary_lines(text, ("FAILED ", "ERROR "))
    result.skips = _summary_lines(text, ("SKIPPED ",))
    if code == 0 and counts and result.failed == 0 and result.passed > 0:
        # A line the suite passes on but setup.cfg's ranges exclude: the
        # ranges and the table disagree.
        result.verdict = "FAIL (setup.cfg excludes it)" if result.metadata_problems else "pass"
    elif code < 0:
        result.verdict = "timeout" if code == -signal.SIGKILL else f"killed ({-code})"
    elif not counts:
        result.verdict = f"FAIL (pytest exit {code}, no summary)"
    else:
        result.verdict = "FAIL"
    _log(f"{line}: {result.verdict}: {result.passed} passed, {result.failed} failed "
         f"({result.errors} errors), {result.skipped} skipped in {_duration(result.test_s)}")
    return result


# --------------------------------------------------------------------- table


def _duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


HEADER = ("line", "tensorflow-cpu", "tensorflow-estimator", "numpy", "keras",
          "passed", "failed", "skipped", "time", "verdict")


def table(results: Sequence[LineResult]) -> str:
    rows = [HEADER]
    for r in results:
        v = r.versions
        rows.append((
            r.line, v.get("tensorflow-cpu", "-"), v.get("tensorflow-estimator", "-"),
            v.get("numpy", "-"), v.get("keras", "-"),
            str(r.passed), str(r.failed), str(r.skipped), _duration(r.test_s), r.verdict,
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    numeric = {5, 6, 7, 8}

    def fmt(row):
        cells = [c.rjust(w) if i in numeric else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths))]
        return "| " + " | ".join(cells) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if i in numeric else "-" * (w + 2) for i, w in enumerate(widths)
    ) + "|"
    return "\n".join([fmt(rows[0]), rule, *map(fmt, rows[1:])])


def report(results: Sequence[LineResult], total_s: float, command: str) -> str:
    parts = [
        "# Version matrix", "",
        f"`{command}`, {time.strftime('%Y-%m-%d %H:%M %Z')}, Python "
        f"{_python_version(sys.executable)}; total {_duration(total_s)} "
        "(venv setup included; `time` is the test run alone).", "",
        table(results), "",
    ]
    for r in results:
        parts.append(f"## {r.line}: {r.verdict}")
        parts.append("")
        parts.append(f"venv {r.venv_note or '-'}, setup {_duration(r.setup_s)}, "
                     f"log `{r.log.relative_to(ROOT) if r.log else '-'}`")
        if r.metadata_problems:
            parts += ["", "pip check (setup.cfg's ranges vs this line):", "",
                      *(f"    {p}" for p in r.metadata_problems)]
        if r.failures:
            parts += ["", "Failures:", "", *(f"    {f}" for f in r.failures)]
        if r.skips:
            parts += ["", "Skips:", "", *(f"    {s}" for s in r.skips)]
        parts.append("")
    return "\n".join(parts)


# ---------------------------------------------------------------------- main


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = " ".join(["tools/matrix.py", *argv])
    pytest_args: List[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, pytest_args = argv[:cut], argv[cut + 1:]
    parser = argparse.ArgumentParser(
        prog="tools/matrix.py", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--lines", default=",".join(LINES),
                        help=f"comma-separated TensorFlow lines (default {','.join(LINES)})")
    parser.add_argument("--python", default=os.environ.get("MATRIX_PYTHON", "python3.11"),
                        help="interpreter the venvs are made from (default python3.11)")
    parser.add_argument("--rebuild", action="store_true", help="recreate every venv")
    parser.add_argument("--refresh", action="store_true",
                        help="re-resolve the requirements in the existing venvs")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TEST_TIMEOUT_S,
                        help="seconds one line's test run may take (default %(default)s)")
    args = parser.parse_args(argv)
    args.pytest_args = pytest_args
    lines = [x.strip() for x in args.lines.split(",") if x.strip()]
    if not lines or any(not re.fullmatch(r"2\.\d+", x) for x in lines):
        parser.error(f"--lines takes TensorFlow lines like 2.12,2.15; received {args.lines!r}")
    if shutil.which(args.python) is None and not Path(args.python).exists():
        parser.error(f"no interpreter {args.python!r}")

    MATRIX_DIR.mkdir(exist_ok=True)
    # Everything here is generated: keep it out of `git status` without
    # touching the repository's .gitignore.
    (MATRIX_DIR / ".gitignore").write_text("*\n", encoding="utf-8")
    started = time.monotonic()
    results = []
    for line in lines:  # Sequentially: the suite itself wants both cores.
        try:
            results.append(run_line(line, args))
        except KeyboardInterrupt:
            _log("interrupted")
            return 130
    total_s = time.monotonic() - started

    text = table(results)
    print()
    print(text)
    print()
    for r in results:
        for problem in r.metadata_problems:
            print(f"{r.line}: pip check: {problem}")
        for failure in r.failures:
            print(f"{r.line}: {failure}")
    print(f"total {_duration(total_s)}; details in {(MATRIX_DIR / 'results.md').relative_to(ROOT)}")
    (MATRIX_DIR / "results.md").write_text(report(results, total_s, command),
                                           encoding="utf-8")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
