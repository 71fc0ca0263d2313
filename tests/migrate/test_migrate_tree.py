"""`estimator-metrics migrate` over the fixture tree (tests/migrate/fixtures).

Every finding is checked against the `# expect:` markers in the fixture
sources (recall: no marker without a finding; precision: no finding without a
marker), then the report formats, --write (exact text, formatting and comments
kept, imports added, idempotent), --diff, --fix-wrong, the unparseable file,
exit statuses, line endings and the import that a rewrite adds.
"""

from __future__ import annotations

import ast
import collections
import hashlib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from estimator_metrics import cli
from estimator_metrics.migrate import Action, Status
from support.data import usage_error
from support.migrate import FIXTURES, expectations, fixture_files, report, run_cli

REWRITTEN = str(Action.REWRITTEN)


@pytest.fixture
def tree(tmp_path):
    """A writable copy of the fixture tree."""
    root = tmp_path / "legacy"
    shutil.copytree(FIXTURES, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def digest(root):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.glob("*.py"))}


def found(document, name):
    return collections.Counter(
        (f["line"], f["status"], f["action"])
        for f in document["findings"]
        if Path(f["path"]).name == name
    )


def finding(document, name, metric_start):
    return next(
        f
        for f in document["findings"]
        if Path(f["path"]).name == name and f["metric"].startswith(metric_start)
    )


# ------------------------------------------------------------------ every use, as marked


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.name)
def test_findings_match_the_expect_markers(capsys, path):
    _, document = report(capsys, path)
    expected, got = expectations(path), found(document, path.name)
    assert not expected - got, f"marked but not found (recall): {expected - got}"
    assert not got - expected, f"found but not marked (precision): {got - expected}"


def test_the_tree_has_every_status_and_action(capsys):
    """Totals of the whole tree equal the markers' (so the markers are not vacuous)."""
    status, document = report(capsys, FIXTURES)
    assert status == 1
    expected = collections.Counter()
    for path in fixture_files():
        for (_, marked_status, _), count in expectations(path).items():
            expected[marked_status] += count
    assert document["counts"] == {str(s): expected[str(s)] for s in Status}
    assert all(document["counts"][str(s)] > 0 for s in Status)
    assert len(document["findings"]) >= 90
    # Python's own message: its suggestion differs by version ("print(...)" on 3.11,
    # 'print("building the model")' on 3.9).
    [error] = document["errors"]
    assert error.pop("error").startswith("SyntaxError: Missing parentheses in call to 'print'.")
    assert error == {"path": str(FIXTURES / "broken.py"), "line": 6}


def test_roles_of_functions(capsys):
    _, document = report(capsys, FIXTURES)
    roles = collections.defaultdict(set)
    for f in document["findings"]:
        roles[(Path(f["path"]).name, f["function"])].add(f["role"])
    # The same name defined in both branches of an if: each definition gets the role.
    branches = [
        f for f in document["findings"] if f["function"] == "model_fn_builder.model_fn.metric_fn"
    ]
    assert {f["metric"].rsplit(".", 1)[-1] for f in branches} == {
        "mean_squared_error",
        "mean",
        "accuracy",
    }
    assert {f["role"] for f in branches} == {"TPUEstimator metric_fn"}
    assert roles[("branch_metric_fns.py", "Classifier.build.metric_fn")] == {
        "TPUEstimator metric_fn"
    }  # self.eval_metrics = (metric_fn, [...])
    assert roles[("metric_helpers.py", "classification_metrics")] == {"helper of model_fn"}
    assert roles[("metric_helpers.py", "make_metric_fn.metric_fn")] == {"add_metrics metric_fn"}
    assert roles[("keras_aliases.py", "metric_fn")] == {"add_metrics metric_fn"}
    assert roles[("tpu_model_fn.py", "metric_fn")] == {"TPUEstimator metric_fn"}
    assert roles[("counters.py", "cola_metric_fn")] == {"TPUEstimator metric_fn"}


def test_report_gives_the_replacement_and_the_guide_difference(capsys):
    _, document = report(capsys, FIXTURES)
    accuracy = finding(document, "compat_v1_model_fn.py", "tf.compat.v1.metrics.accuracy")
    assert accuracy["replacement"] == (
        'adapter.from_keras(tf.keras.metrics.Accuracy(name="click_accuracy"), labels, '
        "predicted_classes, sample_weight=weights)"
    )
    assert accuracy["same_number"] == "exact" and accuracy["fix"] == "exact"
    mae = finding(document, "from_metrics_import.py", "tf.compat.v1.metrics.mean_absolute_error")
    assert mae["replacement"] == (
        "adapter.from_keras(tf.keras.metrics.MeanAbsoluteError(), tf.reshape(labels, [-1, 1]), "
        "tf.reshape(price, [-1, 1]))"
    )
    mape = finding(document, "from_metrics_import.py", "hand-built MAPE")
    assert mape["replacement"] == "builders.mape(labels, price)"
    assert any("[B, B]" in note for note in mape["notes"])
    auc_pr = next(
        f
        for f in document["findings"]
        if f["path"].endswith("plain_model_fn.py")
        and f["status"] == Status.NO_TF2
        and "auc" in f["metric"]
    )
    assert "careful_interpolation" in auc_pr["replacement"]
    best_f1 = finding(document, "add_metrics_contrib.py", "tf.contrib.metrics.f1_score")
    assert "best F1 over num_thresholds=200" in best_f1["notes"][0]
    f2 = finding(document, "hand_built_f1.py", "hand-built F-beta (beta=2)")
    assert f2["replacement"] == (
        'builders.fbeta(labels, predicted, weights=features["weight"], beta=2)'
    )
    streaming = finding(document, "add_metrics_contrib.py", "tf.contrib.metrics.streaming_accuracy")
    # contrib takes predictions first; the replacement puts labels first.
    assert streaming["replacement"] == (
        "adapter.from_keras(tf.keras.metrics.Accuracy(), labels, tf.cast(p > 0.5, tf.int64))"
    )
    fbeta = finding(document, "keras_in_spec.py", "tf.keras.metrics.FBetaScore `f05`")
    assert fbeta["replacement"] == "f05 = adapter.from_keras(f05, float_labels, probability)"
    iou = finding(document, "compat_v1_model_fn.py", "tf.compat.v1.metrics.mean_iou")
    assert iou["replacement"] == (
        "adapter.from_keras(tf.keras.metrics.MeanIoU(2), labels, tf.argmax(logits, -1), weights)"
    )
    swapped = finding(document, "counters.py", "tf.compat.v1.metrics.mean_iou")
    assert "labels and predictions look swapped" in " ".join(swapped["notes"])
    top_2 = finding(document, "plain_model_fn.py", "tf.compat.v1.metrics.recall_at_k")
    assert top_2["replacement"] == (
        "adapter.from_keras(tf.keras.metrics.Recall(top_k=2), "
        "tf.one_hot(labels, tf.shape(logits)[-1]), logits)"
    )
    spec = finding(document, "contrib_learn.py", "tf.contrib.learn.MetricSpec")
    assert 'tf.contrib.metrics.streaming_accuracy on predictions["classes"]' in spec["notes"][0]


def test_markdown_report_is_a_table_with_a_summary(capsys, tree):
    status, out = run_cli(capsys, tree)
    _, document = report(capsys, tree)
    assert status == 1
    lines = out.splitlines()
    files = len(fixture_files()) + 2  # With __init__.py and conftest.py.
    with_findings = len({f["path"] for f in document["findings"]})
    assert lines[0] == (
        f"# estimator-metrics migrate: {len(document['findings'])} metric uses "
        f"in {with_findings} of {files} files"
    )
    assert lines[2].startswith("| where | in | metric | status | replacement |")
    rows = [line for line in lines if line.startswith(f"| {tree}")]
    assert len(rows) == len(document["findings"])
    assert all(row.count(" | ") == 7 for row in rows)  # Pipes in cells are escaped.
    counts = document["counts"]
    assert ("Status: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) + ".") in lines
    exact = sum(f["action"] == Action.WOULD_REWRITE for f in document["findings"])
    fixes = sum(f["action"] == Action.WOULD_FIX for f in document["findings"])
    assert (
        f"`--write` rewrites {exact} exactly equivalent uses; with `--fix-wrong` also the "
        f"{fixes} fixable wrong ones (a corrected number)."
    ) in lines
    assert f"Could not parse {tree / 'broken.py'}:6: SyntaxError: " in out
    assert lines[-1].startswith("Exit status 1: something needs attention")


# ------------------------------------------------------------------ rewriting

COMPAT_V1_AFTER = """\
    eval_metric_ops = {
        # Class ids against int64 labels.
        # expect: migratable rewrite
        "accuracy": adapter.from_keras(
            tf.keras.metrics.Accuracy(name="click_accuracy"),
            labels, predicted_classes, sample_weight=weights),
        # expect: migratable rewrite
        "precision": adapter.from_keras(tf.keras.metrics.Precision(), labels, clicked),
        # expect: migratable rewrite
        "recall": adapter.from_keras(
            tf.keras.metrics.Recall(), labels,
            probabilities[:, 1] > 0.5,  # Thresholded: v1 would count any p > 0.
        ),
        # expect: migratable rewrite
        "mean_loss": adapter.from_keras(
            tf.keras.metrics.Mean(), None, per_example_loss, weights),
        # expect: migratable rewrite
        "rmse_click": adapter.from_keras(
            tf.keras.metrics.RootMeanSquaredError(),
            tf.cast(labels, tf.float32), probabilities[:, 1], sample_weight=weights),
        # expect: migratable rewrite
        "iou": adapter.from_keras(
            tf.keras.metrics.MeanIoU(2), labels, tf.argmax(logits, -1), weights),
"""


def test_write_rewrites_only_exact_uses_keeps_everything_else_and_is_idempotent(tree, capsys):
    before = {p.name: p.read_text() for p in tree.glob("*.py")}
    _, planned = report(capsys, tree)
    status, document = report(capsys, tree, "--write")
    assert status == 1  # Report-only uses and broken.py remain.
    rewritten = [
        (Path(f["path"]).name, f["line"]) for f in document["findings"] if f["action"] == REWRITTEN
    ]
    assert rewritten == [
        (Path(f["path"]).name, f["line"])
        for f in planned["findings"]
        if f["action"] == Action.WOULD_REWRITE
    ]
    after = {p.name: p.read_text() for p in tree.glob("*.py")}
    # Only files with exact rewrites changed; the wrong ones need --fix-wrong.
    assert {n for n in before if before[n] != after[n]} == {name for name, _ in rewritten}
    compat = after["compat_v1_model_fn.py"]
    assert COMPAT_V1_AFTER in compat
    assert compat.splitlines()[5:7] == [
        "import tensorflow.compat.v1 as tf",
        "from estimator_metrics import adapter",
    ]
    # Lines without a rewritten call are untouched: each removed line is part of one.
    removed = set(before["compat_v1_model_fn.py"].splitlines()) - set(compat.splitlines())
    assert removed and all(
        "tf.metrics." in line or line.strip().startswith(("name=", "labels,", "tf.cast(labels"))
        for line in removed
    ), removed
    # A module without any tensorflow alias gets one, third-party first.
    assert after["from_metrics_import.py"].splitlines()[1:4] == [
        "from tensorflow import estimator, layers, losses, math, metrics, train",
        "import tensorflow as tf",
        "from estimator_metrics import adapter",
    ]
    # Comments next to a rewritten call survive.
    assert (
        "    # Keep this comment: the contrib extender returns a new Estimator.\n"
        "    # expect: migratable rewrite\n"
        "    estimator = tf.estimator.add_metrics(estimator, my_metrics)\n"
    ) in after["add_metrics_contrib.py"]
    # Visually aligned continuation lines follow the new "(".
    assert (
        "    accuracy = adapter.from_keras(tf.keras.metrics.Accuracy(name='acc_op'), "
        "labels=labels,\n                                  predictions=predicted_classes)\n"
    ) in after["plain_model_fn.py"]
    for name, text in after.items():
        if name != "broken.py":
            ast.parse(text)
    # Idempotent: a second --write changes nothing and rewrites nothing.
    again_status, again = report(capsys, tree, "--write")
    assert {p.name: p.read_text() for p in tree.glob("*.py")} == after
    assert again_status == 1
    assert [f for f in again["findings"] if f["action"] == REWRITTEN] == []
    # Each rewritten metric is now ok (tf.estimator.add_metrics is no metric use).
    assert again["counts"][Status.OK] == planned["counts"][Status.OK] + len(rewritten) - 1


def test_diff_shows_the_change_and_writes_nothing(tree, capsys):
    hashes = digest(tree)
    status, out = run_cli(capsys, tree, "--diff")
    assert status == 1
    assert digest(tree) == hashes
    assert f"--- {tree / 'tpu_model_fn.py'}\n+++ {tree / 'tpu_model_fn.py'}\n" in out
    assert (
        '-        "accuracy": tf.metrics.accuracy(labels=labels, predictions=predictions),\n'
        '+        "accuracy": adapter.from_keras(\n'
        "+            tf.keras.metrics.Accuracy(), labels=labels, predictions=predictions),\n"
    ) in out
    assert "keras_in_spec.py" not in out.split("# estimator-metrics migrate")[0]
    status, document = report(capsys, tree, "--diff", "--fix-wrong")
    assert digest(tree) == hashes
    assert (
        "-    mae.update_state(float_labels, probability)\n"
        "-    mae.update_state(float_labels, tf.round(probability), "
        'sample_weight=features["weight"])\n'
        "+    adapter.from_keras(mae, float_labels, probability)\n"
        "+    mae = adapter.from_keras(\n"
        '+        mae, float_labels, tf.round(probability), sample_weight=features["weight"])\n'
    ) in document["diff"]


def test_fix_wrong_rewrites_the_stock_keras_objects(tree, capsys):
    status, document = report(capsys, tree / "keras_in_spec.py", "--write", "--fix-wrong")
    assert status == 1  # The AUC object updated once stays (report only).
    assert [f["action"] for f in document["findings"]] == ["fixed"] * 4 + ["report only"]
    text = (tree / "keras_in_spec.py").read_text()
    assert (
        '    f05 = FBetaScore(beta=0.5, average="micro", threshold=0.5)\n'
        "    f05 = adapter.from_keras(f05, float_labels, probability)  # F0.5 of the click class.\n"
        '    f1 = F1Score(average="micro", threshold=0.5)\n'
        "    f1 = adapter.from_keras(f1, labels=float_labels, predictions=probability)\n"
        "    # Error of the probability, then of the 0/1 decision: two updates of one metric.\n"
        "    mae = tf.keras.metrics.MeanAbsoluteError()\n"
        "    adapter.from_keras(mae, float_labels, probability)\n"
        "    mae = adapter.from_keras(\n"
        "        mae, float_labels, tf.round(probability), "
        'sample_weight=features["weight"])\n'
        "    r2 = tf.keras.metrics.R2Score()\n"
        "    r2 = adapter.from_keras(r2, float_labels, probability)\n"
        "    auc = tf.keras.metrics.AUC()\n"
        "    auc.update_state(float_labels, probability)\n"
    ) in text
    _, again = report(capsys, tree / "keras_in_spec.py", "--write", "--fix-wrong")
    assert (tree / "keras_in_spec.py").read_text() == text
    assert [f["status"] for f in again["findings"]] == [Status.OK] * 5 + [Status.MIGRATABLE]


def test_unparseable_file_is_reported_and_left_untouched(tree, capsys):
    broken = (tree / "broken.py").read_bytes()
    status, document = report(capsys, tree / "broken.py", "--write", "--fix-wrong")
    assert status == 1
    assert document["findings"] == []
    assert document["errors"][0]["line"] == 6
    assert (tree / "broken.py").read_bytes() == broken


def test_exit_status_zero_only_when_nothing_needs_attention(tmp_path, capsys):
    assert run_cli(capsys, FIXTURES / "migrated.py")[0] == 0
    clean = tmp_path / "only_exact.py"
    clean.write_text(
        textwrap.dedent("""\
        import tensorflow as tf


        def model_fn(features, labels, mode):
            predictions = tf.argmax(features["logits"], -1)
            return tf.estimator.EstimatorSpec(mode, loss=tf.constant(0.0), eval_metric_ops={
                "accuracy": tf.compat.v1.metrics.accuracy(labels, predictions),
            })
        """)
    )
    assert run_cli(capsys, clean)[0] == 1  # A migratable use left.
    assert run_cli(capsys, clean, "--diff")[0] == 1  # Shown, not written.
    assert run_cli(capsys, clean, "--write")[0] == 0  # Rewritten: nothing left.
    assert run_cli(capsys, clean)[0] == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["migrate"], "the following arguments are required: PATH"),
        (["migrate", "does/not/exist.py"], "no such file or directory: does/not/exist.py"),
        (["migrate", ".", "--report", "xml"], "invalid choice: 'xml'"),
    ],
)
def test_usage_errors_exit_2(capsys, argv, message):
    assert message in usage_error(capsys, cli.main, argv)


def test_offsets_are_characters_and_line_endings_survive(tmp_path, capsys):
    """Non-ASCII text before a rewritten call; CRLF stays CRLF."""
    path = tmp_path / "crlf.py"
    lines = [
        "# " + "A long line, so that nothing below needs wrapping. " * 3,
        "import tensorflow as tf",
        "",
        "",
        "def model_fn(features, labels, mode):",
        '    ids = tf.argmax(features["x"], -1)',
        '    ops = {"précision": tf.metrics.precision(labels, ids > 0), '
        '"mean": tf.metrics.mean(ids)}  # é',
        "    return tf.estimator.EstimatorSpec(mode, eval_metric_ops=ops)",
        "",
    ]
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    run_cli(capsys, path, "--write")
    text = path.read_bytes().decode("utf-8")
    assert "\n" not in text.replace("\r\n", "") and "\r" not in text.replace("\r\n", "")
    assert text.split("\r\n")[2] == "from estimator_metrics import adapter"
    assert text.split("\r\n")[7] == (
        '    ops = {"précision": adapter.from_keras(tf.keras.metrics.Precision(), labels, '
        'ids > 0), "mean": adapter.from_keras(tf.keras.metrics.Mean(), None, ids)}  # é'
    )


def test_added_imports_follow_the_module_imports_and_contrib_ones_are_not_left(tmp_path, capsys):
    module = tmp_path / "extra_metrics.py"
    module.write_text(
        textwrap.dedent("""\
        #!/usr/bin/env python
        # -*- coding: utf-8 -*-
        from tensorflow.compat.v1 import metrics
        from tensorflow.contrib.estimator import add_metrics


        def metric_fn(labels, predictions):
            return {"mean": metrics.mean(predictions["x"])}


        def build(estimator):
            return add_metrics(estimator, metric_fn)
        """)
    )
    (tmp_path / "same_module.py").symlink_to(module)
    status, document = report(capsys, tmp_path, "--write")
    assert status == 1  # add_metrics imported from contrib: reported, not rewritten.
    assert [(f["line"], f["action"]) for f in document["findings"]] == [
        (8, REWRITTEN),
        (12, "report only"),
    ]  # The symlink is the same file: counted once.
    assert "replace the import too" in document["findings"][1]["notes"][-1]
    assert module.read_text().splitlines()[:6] == [
        "#!/usr/bin/env python",
        "# -*- coding: utf-8 -*-",
        "from tensorflow.compat.v1 import metrics",
        "from tensorflow.contrib.estimator import add_metrics",
        "import tensorflow as tf",
        "from estimator_metrics import adapter",
    ]
    assert (tmp_path / "same_module.py").is_symlink()


def test_migrate_imports_no_tensorflow():
    """migrate reads code as text: neither it nor the CLI path to it loads TensorFlow."""
    code = (
        "import sys\nfrom estimator_metrics import cli\n"
        f"status = cli.main(['migrate', {str(FIXTURES)!r}, '--report', 'json'])\n"
        "assert status == 1, status\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'tf_keras', 'numpy'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)
