"""Helpers of tests/migrate: the fixture tree, its `# expect:` markers, running the command."""

from __future__ import annotations

import collections
import json
import re
import textwrap
from pathlib import Path

from estimator_metrics import cli, migrate
from estimator_metrics.migrate import Action, Status

FIXTURES = Path(__file__).parents[1] / "migrate" / "fixtures"
#: Marker words -> what the report says.
STATUS = {
    "wrong": Status.WRONG,
    "no-tf2": Status.NO_TF2,
    "float32": Status.FLOAT32,
    "unsure": Status.UNSURE,
    "migratable": Status.MIGRATABLE,
    "ok": Status.OK,
}
ACTION = {
    "rewrite": Action.WOULD_REWRITE,
    "fix": Action.WOULD_FIX,
    "report": Action.REPORT_ONLY,
    "none": Action.NONE,
}
_MARKER = re.compile(r"#.*\bexpect: (?P<marks>.+)$")


def expectations(path: Path) -> collections.Counter:
    """{(line, status, action): count} from the file's `# expect:` markers.

    A marker alone on its line applies to the next line of code; a trailing
    one to its own line.
    """
    expected = collections.Counter()
    pending = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = _MARKER.search(line)
        stripped = line.strip()
        if stripped.startswith("#"):
            pending = match.group("marks") if match else pending
            continue
        if not stripped:
            continue
        marks = match.group("marks") if match else pending
        pending = None
        for mark in marks.split(",") if marks else []:
            status, action = mark.split()
            expected[(number, str(STATUS[status]), str(ACTION[action]))] += 1
    return expected


def fixture_files() -> list:
    return sorted(p for p in FIXTURES.glob("*.py") if p.name not in ("__init__.py", "conftest.py"))


def run_cli(capsys, *argv):
    status = cli.main(["migrate", *map(str, argv)])
    return status, capsys.readouterr().out


def report(capsys, *argv):
    status, out = run_cli(capsys, *argv, "--report", "json")
    return status, json.loads(out)


def module_code(body: str, imports: str = "import tensorflow as tf") -> str:
    """A module with `body` as the body of a model_fn that returns an EstimatorSpec."""
    return (
        f"{imports}\n\n\ndef model_fn(features, labels, mode):\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        + "\n"
    )


def plan(code: str, *, fix_wrong: bool = False):
    """`(findings, new text or None)` of --write (--fix-wrong) on `code`."""
    result = migrate.analyze("example.py", code)
    assert result.error is None, result.error
    migrate.plan(result, write=True, fix_wrong=fix_wrong)
    return result.findings, result.new_text
