"""migrate on whole trees: the process pool gives the in-process report, files that cannot
hold a metric use are skipped unparsed, each file comes back as a summary without its text or
syntax tree, and a progress bar goes to stderr only when it is a terminal."""

from __future__ import annotations

import io
import json
import shutil

import pytest

from estimator_metrics import cli, migrate
from estimator_metrics.migrate import _run
from support.data import usage_error
from support.migrate import FIXTURES, report, run_cli


def _json(paths, **options) -> dict:
    out = io.StringIO()
    migrate.run(paths, report_format="json", out=out, **options)
    return json.loads(out.getvalue())


def test_the_pool_gives_the_in_process_report(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES, tree)
    one, two = _json([str(tree)], jobs=1), _json([str(tree)], jobs=2)
    assert one == two
    assert len(one["findings"]) >= 130
    # --write --diff in the pool: the same diff, and the files written once.
    planned = _json([str(tree)], jobs=1, diff=True)
    written = _json([str(tree)], jobs=2, diff=True, write=True)
    assert written["diff"] == planned["diff"] and planned["diff"]
    assert _json([str(tree)], jobs=2, diff=True)["diff"] == ""


def test_files_that_cannot_hold_a_use_are_not_parsed(tmp_path, capsys):
    (tmp_path / "no_metrics.py").write_text("def f(:\n    pass\n")  # Would not parse.
    (tmp_path / "metrics_but_broken.py").write_text("tf.metrics.auc(\ndef f(:\n")
    (tmp_path / "spec.py").write_text("from tensorflow.contrib.learn import MetricSpec\n")
    status, document = report(capsys, tmp_path)
    assert document["files"] == 3
    assert [e["path"].rsplit("/", 1)[1] for e in document["errors"]] == ["metrics_but_broken.py"]
    assert status == 1
    assert not _run.may_hold_a_use("import tensorflow as tf\nx = tf.reduce_mean(y)\n")
    for text in ("tf.metrics.auc", "from tf_metrics import f1", "MetricSpec", "add_metrics"):
        assert _run.may_hold_a_use(text), text


def test_each_file_comes_back_as_a_summary():
    result = _run.process(
        str(FIXTURES / "compat_v1_model_fn.py"), write=False, diff=True, fix_wrong=False
    )
    assert result.module is None and result.text == "" and result.new_text is None
    assert result.diff.startswith("--- ") and len(result.findings) == 8
    assert all(f.edits == {} for f in result.findings)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch):
    monkeypatch.setattr(_run, "PROGRESS_DELAY", 0)
    files = [str(p) for p in sorted(FIXTURES.glob("*.py"))]
    terminal, pipe = _Terminal(), io.StringIO()
    _run.process_all(files, jobs=1, progress=terminal)
    _run.process_all(files, jobs=1, progress=pipe)
    assert f"/{len(files)} [" in terminal.getvalue() and "file/s" in terminal.getvalue()
    assert pipe.getvalue() == ""


@pytest.mark.parametrize("jobs", ["0", "-2"])
def test_jobs_must_be_positive(capsys, jobs):
    message = usage_error(capsys, cli.main, ["migrate", ".", "--jobs", jobs])
    assert f"--jobs must be >= 1, received {jobs}" in message


def test_jobs_option_reaches_the_pool(capsys, tmp_path):
    (tmp_path / "a.py").write_text("import tensorflow as tf\ntf.compat.v1.metrics.mean(x)\n")
    status, out = run_cli(capsys, tmp_path, "--jobs", "3")
    assert status == 1 and "1 metric uses in 1 of 1 files" in out


def test_a_file_migrate_fails_on_is_reported_and_the_run_goes_on(tmp_path, capsys, monkeypatch):
    (tmp_path / "a.py").write_text("import tensorflow as tf\ntf.compat.v1.metrics.mean(x)\n")
    (tmp_path / "b.py").write_text("import tensorflow as tf\ntf.compat.v1.metrics.mean(y)\n")
    analyze = _run.analyze

    def fail_on_b(path, text):
        if path.endswith("b.py"):
            raise RecursionError("maximum recursion depth exceeded")
        return analyze(path, text)

    monkeypatch.setattr(_run, "analyze", fail_on_b)
    status, out = run_cli(capsys, tmp_path, "--jobs", "1", "--write")
    assert status == 1
    assert "1 metric uses in 1 of 2 files" in out
    assert f"Could not analyse {tmp_path / 'b.py'}: RecursionError: maximum recursion" in out
    assert (tmp_path / "b.py").read_text().endswith("metrics.mean(y)\n")  # Untouched.
