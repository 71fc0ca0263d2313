"""Running the examples of README.md and docs/ that claim output.

Two kinds of fenced block claim output, and Sybil (the root conftest.py) runs both: `pycon`
blocks are doctests; `console` blocks are one or more `$ command` lines, each followed by what
it prints. `run_console` runs each command here and compares what it prints with the block:
whitespace runs are one separator (the docs wrap long lines), `...` stands for any text, and
numbers agree within `REL`/`ABS` (a metric's eighth digit moves with the machine's threads).
Paths under /tmp in a command become a fresh temporary directory, in the expected text too.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REL, ABS = 1e-5, 1e-6
#: A token that holds one number: what comes before it, the number, what comes after it.
_NUMBER = re.compile(r"^(\D*?)([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(\D*)$")
_TMP = re.compile(r"/tmp/[\w.-]+")


def _same_token(expected: str, actual: str) -> bool:
    if expected == actual:
        return True
    e, a = _NUMBER.match(expected), _NUMBER.match(actual)
    if not (e and a) or e.group(1, 3) != a.group(1, 3):
        return False
    return math.isclose(float(e.group(2)), float(a.group(2)), rel_tol=REL, abs_tol=ABS)


def matches(expected: str, actual: str) -> bool:
    """Whether `actual` reads as `expected` by the rules of the module docstring."""
    want, got = expected.split(), actual.split()
    # reach[j]: the first i tokens of `want` can match the first j of `got`.
    reach = [True] + [False] * len(got)
    for token in want:
        if token == "...":  # Any run of tokens, the empty one too.
            for j in range(1, len(got) + 1):
                reach[j] = reach[j] or reach[j - 1]
            continue
        reach = [False] + [reach[j] and _same_token(token, got[j]) for j in range(len(got))]
    return reach[-1]


def commands(block: str) -> list[tuple[str, str]]:
    """The (command, expected output) pairs of a console block."""
    pairs: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        elif not pairs:
            raise ValueError(f"a console block must start with `$ command`, received {line!r}")
        else:
            pairs[-1][1].append(line)
    return [(command, "\n".join(output)) for command, output in pairs]


def run(command: str) -> str:
    """What `command` prints (stdout, then stderr), run from the repository root with this
    interpreter's `estimator-metrics` and `python`."""
    bin_dir = Path(sys.executable).parent
    args = shlex.split(command)
    if args[0] in ("estimator-metrics", "python"):
        args[0] = str(bin_dir / args[0])
    env = {**os.environ, "COLUMNS": "100", "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, env=env, timeout=900, check=False
    )
    return done.stdout + done.stderr


def run_console(example) -> str | None:
    """Sybil's evaluator of a console block: None when every command prints what the block
    says, else the difference as text."""
    for command, expected in commands(example.parsed):
        with tempfile.TemporaryDirectory() as tmp:
            paths = {path: f"{tmp}/{Path(path).name}" for path in _TMP.findall(command)}
            for path, replacement in paths.items():
                command, expected = (
                    command.replace(path, replacement),
                    expected.replace(path, replacement),
                )
            actual = run(command)
        if not matches(expected, actual):
            return f"$ {command}\nexpected:\n{expected}\nreceived:\n{actual}"
    return None
