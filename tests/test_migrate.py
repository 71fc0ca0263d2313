"""`estimator-metrics migrate` over a tree of realistic legacy code (tests/migrate_fixtures).

The report (every finding: file, line, status, action; replacements; errors),
the rewritten files (exact text, formatting and comments kept, imports added,
idempotent), `--diff`, the unparseable file, exit statuses; each exact rewrite
rule on seeded streams (the same number before and after); and two fixture
model_fns evaluated with a real Estimator before and after the rewrite: the
same numbers for the exact rewrites, the corrected numbers for `--fix-wrong`.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics._core.session import run_stream
from support.data import usage_error
from support.keras import stock_estimator_takes_fbeta
from estimator_metrics import _migrate, cli
from estimator_metrics import _migrate_names as names
from estimator_metrics._migrate_edit import Source

FIXTURES = Path(__file__).parent / "migrate_fixtures"
WRONG, NO_TF2, FLOAT32, MIGRATABLE, OK = (
    "wrong under stock Estimator", "no TF2 equivalent", "float32 counters", "migratable", "ok")
REWRITE, FIX, ONLY = "--write rewrites", "--write --fix-wrong fixes", "report only"

#: Every finding in the fixture tree: (file, line, status, action, role).
EXPECTED = [
    ("add_metrics_contrib.py", 9, MIGRATABLE, ONLY, "add_metrics metric_fn"),  # auc ROC
    ("add_metrics_contrib.py", 10, NO_TF2, ONLY, "add_metrics metric_fn"),  # contrib f1_score
    ("add_metrics_contrib.py", 11, NO_TF2, ONLY, "add_metrics metric_fn"),  # pearson
    ("add_metrics_contrib.py", 13, MIGRATABLE, ONLY, "add_metrics metric_fn"),  # contrib accuracy
    ("add_metrics_contrib.py", 22, MIGRATABLE, REWRITE, ""),  # tf.contrib.estimator.add_metrics
    ("compat_v1_model_fn.py", 26, MIGRATABLE, REWRITE, "model_fn"),  # accuracy on ids
    ("compat_v1_model_fn.py", 28, MIGRATABLE, REWRITE, "model_fn"),  # precision on bool
    ("compat_v1_model_fn.py", 29, MIGRATABLE, REWRITE, "model_fn"),  # recall on p > 0.5
    ("compat_v1_model_fn.py", 33, MIGRATABLE, REWRITE, "model_fn"),  # mean
    ("compat_v1_model_fn.py", 34, MIGRATABLE, REWRITE, "model_fn"),  # rmse
    ("compat_v1_model_fn.py", 36, MIGRATABLE, REWRITE, "model_fn"),  # mean_iou on argmax(-1)
    ("compat_v1_model_fn.py", 38, MIGRATABLE, ONLY, "model_fn"),  # auc: 1e-6
    ("compat_v1_model_fn.py", 39, MIGRATABLE, ONLY, "model_fn"),  # weighted precision: shapes
    ("from_metrics_import.py", 13, MIGRATABLE, REWRITE, "model_fn"),  # rmse
    ("from_metrics_import.py", 14, MIGRATABLE, ONLY, "model_fn"),  # mae: [B, 1] labels
    ("from_metrics_import.py", 15, MIGRATABLE, ONLY, "model_fn"),  # mse
    ("from_metrics_import.py", 17, FLOAT32, ONLY, "model_fn"),  # hand-built MAPE
    ("from_metrics_import.py", 18, FLOAT32, ONLY, "model_fn"),  # mean_relative_error
    ("hand_built_f1.py", 6, MIGRATABLE, ONLY, "helper of model_fn"),  # precision, unknown kind
    ("hand_built_f1.py", 7, MIGRATABLE, ONLY, "helper of model_fn"),
    ("hand_built_f1.py", 8, FLOAT32, ONLY, "helper of model_fn"),  # 2PR/(P+R)
    ("hand_built_f1.py", 17, MIGRATABLE, ONLY, "model_fn"),
    ("hand_built_f1.py", 18, MIGRATABLE, ONLY, "model_fn"),
    ("hand_built_f1.py", 19, FLOAT32, ONLY, "model_fn"),  # F2
    ("hand_built_f1.py", 24, WRONG, FIX, "model_fn"),  # recall on probabilities
    ("keras_in_spec.py", 28, WRONG, FIX, "model_fn"),  # FBetaScore
    ("keras_in_spec.py", 28, WRONG, FIX, "model_fn"),  # F1Score
    ("keras_in_spec.py", 28, WRONG, FIX, "model_fn"),  # MAE updated twice
    ("keras_in_spec.py", 28, WRONG, FIX, "model_fn"),  # R2Score
    ("keras_in_spec.py", 29, MIGRATABLE, ONLY, "model_fn"),  # AUC updated once
    ("metric_helpers.py", 12, MIGRATABLE, REWRITE, "helper of model_fn"),
    ("metric_helpers.py", 13, FLOAT32, ONLY, "helper of model_fn"),  # average confidence
    ("metric_helpers.py", 19, MIGRATABLE, REWRITE, "helper of model_fn"),
    ("metric_helpers.py", 42, MIGRATABLE, ONLY, "add_metrics metric_fn"),  # via a factory
    ("metric_helpers.py", 44, MIGRATABLE, REWRITE, "add_metrics metric_fn"),  # class_ids
    ("migrated.py", 12, OK, "", "model_fn"),
    ("migrated.py", 14, OK, "", "model_fn"),
    ("migrated.py", 15, OK, "", "model_fn"),
    ("plain_model_fn.py", 27, MIGRATABLE, REWRITE, "model_fn"),
    ("plain_model_fn.py", 35, WRONG, FIX, "model_fn"),  # accuracy on probabilities
    ("plain_model_fn.py", 36, MIGRATABLE, ONLY, "model_fn"),
    ("plain_model_fn.py", 37, NO_TF2, ONLY, "model_fn"),  # auc PR trapezoidal
    ("plain_model_fn.py", 38, NO_TF2, ONLY, "model_fn"),  # mean_per_class_accuracy
    ("plain_model_fn.py", 40, MIGRATABLE, ONLY, "model_fn"),  # recall_at_k
    ("tpu_model_fn.py", 8, MIGRATABLE, REWRITE, "TPUEstimator metric_fn"),
    ("tpu_model_fn.py", 9, MIGRATABLE, ONLY, "TPUEstimator metric_fn"),
]


@pytest.fixture
def tree(tmp_path):
    """A writable copy of the fixture tree."""
    root = tmp_path / "legacy"
    shutil.copytree(FIXTURES, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def migrate(capsys, *argv):
    status = cli.main(["migrate", *map(str, argv)])
    return status, capsys.readouterr().out


def report(capsys, *argv):
    status, out = migrate(capsys, *argv, "--report", "json")
    return status, json.loads(out)


def by_file(document):
    return {(Path(f["path"]).name, f["line"], f["metric"]): f for f in document["findings"]}


def digest(root):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.glob("*.py"))}


# ------------------------------------------------------------------ the report


def test_report_lists_every_use_with_status_action_and_role(tree, capsys):
    status, document = report(capsys, tree)
    assert status == 1
    found = [(Path(f["path"]).name, f["line"], f["status"], f["action"], f["role"])
             for f in document["findings"]]
    assert found == EXPECTED
    assert document["counts"] == {WRONG: 6, NO_TF2: 4, FLOAT32: 5, MIGRATABLE: 28, OK: 3}
    assert document["errors"] == [{
        "path": str(tree / "broken.py"), "line": 6,
        "error": "SyntaxError: Missing parentheses in call to 'print'. Did you mean print(...)?"}]


def test_report_gives_the_replacement_and_the_guide_difference(tree, capsys):
    _, document = report(capsys, tree)
    findings = by_file(document)

    def finding(file, line, metric_start):
        return next(f for (name, n, metric), f in findings.items()
                    if name == file and n == line and metric.startswith(metric_start))

    accuracy = finding("compat_v1_model_fn.py", 26, "tf.compat.v1.metrics.accuracy")
    assert accuracy["replacement"] == (
        'adapter.from_keras(tf.keras.metrics.Accuracy(name="click_accuracy"), labels, '
        "predicted_classes, sample_weight=weights)")
    assert accuracy["same_number"] == "exact" and accuracy["fix"] == "exact"
    # Aliases: `from tensorflow import metrics` and a missing tf import.
    mae = finding("from_metrics_import.py", 14, "tf.compat.v1.metrics.mean_absolute_error")
    assert "tf.reshape(labels, [-1, 1])" in mae["replacement"]
    assert "test_keras_regression_metrics_need_b1_labels" in " ".join(mae["notes"])
    mape = finding("from_metrics_import.py", 17, "hand-built MAPE")
    assert mape["replacement"] == "builders.mape(labels, price)"
    assert any("[B, B]" in note for note in mape["notes"])
    auc_pr = finding("plain_model_fn.py", 37, "tf.compat.v1.metrics.auc")
    assert "careful_interpolation" in auc_pr["replacement"]
    assert "test_auc_pr_default_summation_differs" in " ".join(auc_pr["notes"])
    best_f1 = finding("add_metrics_contrib.py", 10, "tf.contrib.metrics.f1_score")
    assert "best F1 over num_thresholds=200" in best_f1["notes"][0]
    confidence = finding("metric_helpers.py", 13, "hand-built average confidence")
    assert confidence["replacement"] == (
        "builders.average_confidence(probabilities, weights=weights)")
    f2 = finding("hand_built_f1.py", 19, "hand-built F-beta (beta=2)")
    assert f2["replacement"] == (
        'builders.fbeta(labels, predicted, beta=2, weights=features["weight"])')
    assert "precision (line 17) and recall (line 18)" in f2["metric"]
    f1 = finding("hand_built_f1.py", 8, "hand-built F1")
    assert f1["replacement"] == "builders.fbeta(labels, predictions)"
    assert any("NaN" in note for note in f1["notes"])
    raw_recall = finding("hand_built_f1.py", 24, "tf.compat.v1.metrics.recall")
    assert "recall is 1.0" in raw_recall["notes"][0]
    setosa = finding("plain_model_fn.py", 35, "tf.compat.v1.metrics.accuracy")
    assert "BinaryAccuracy()" in setosa["replacement"]
    assert "share of label 0" in setosa["notes"][0]
    streaming = finding("add_metrics_contrib.py", 13, "tf.contrib.metrics.streaming_accuracy")
    # contrib takes predictions first; the replacement puts labels first.
    assert streaming["replacement"] == (
        "adapter.from_keras(tf.keras.metrics.Accuracy(), labels, tf.cast(p > 0.5, tf.int64))")
    fbeta = finding("keras_in_spec.py", 28, "tf.keras.metrics.FBetaScore `f05`")
    assert "(created line 16, updated 1x, line 17)" in fbeta["metric"]
    assert fbeta["replacement"] == "f05 = adapter.from_keras(f05, float_labels, probability)"
    assert "test_stock_estimator_is_wrong_for_fbeta" in fbeta["notes"][0]
    twice = finding("keras_in_spec.py", 28, "tf.keras.metrics.MeanAbsoluteError `mae`")
    assert "updated 2x, lines 22, 23" in twice["metric"]
    assert "test_stock_estimator_counts_only_the_first_of_two_updates" in twice["notes"][0]


def test_markdown_report_is_a_table_with_a_summary(tree, capsys):
    status, out = migrate(capsys, tree)
    assert status == 1
    lines = out.splitlines()
    assert lines[0] == "# estimator-metrics migrate: 46 metric uses in 9 of 12 files"
    assert lines[2].startswith("| where | in | metric | status | replacement |")
    rows = [line for line in lines if line.startswith(f"| {tree}")]
    assert len(rows) == len(EXPECTED)
    assert all(row.count(" | ") == 7 for row in rows)  # Pipes in cells are escaped.
    assert ("Status: 6 wrong under stock Estimator, 4 no TF2 equivalent, 5 float32 counters, "
            "28 migratable, 3 ok.") in lines
    assert ("`--write` rewrites 13 exactly equivalent uses; with `--fix-wrong` also the 6 "
            "fixable wrong ones (a corrected number).") in lines
    assert f"Could not parse {tree / 'broken.py'}:6: SyntaxError: " in out
    assert lines[-1].startswith("Exit status 1: something needs attention")


def test_aliases_and_shadowing_resolve_from_imports_alone():
    tree = ast.parse(textwrap.dedent("""
        import tensorflow.compat.v1 as tf
        import tensorflow as tf2
        from tensorflow import metrics as m
        from tensorflow.compat.v1 import metrics
        from tensorflow.contrib import metrics as contrib_metrics
        from tensorflow.keras.metrics import F1Score
        from tensorflow.keras import metrics as km
    """))
    imports = names.Imports(tree)

    def path(code, shadowed=()):
        return imports.qualify(ast.parse(code, mode="eval").body, shadowed)

    assert names.v1_metric(path("tf.metrics.accuracy")) == "accuracy"
    assert names.v1_metric(path("tf2.compat.v1.metrics.auc")) == "auc"
    assert names.v1_metric(path("tf.compat.v1.metrics.mean")) == "mean"  # compat.v1.compat.v1
    assert names.v1_metric(path("m.recall")) == "recall"
    assert names.v1_metric(path("metrics.precision")) == "precision"
    assert names.v1_metric(path("metrics.precision", shadowed={"metrics"})) is None
    assert names.v1_metric(path("tf2.metrics.Accuracy")) is None  # TF 2: a Keras class.
    assert names.keras_metric_class(path("tf2.metrics.Accuracy")) == "Accuracy"
    assert names.keras_metric_class(path("F1Score")) == "F1Score"
    assert names.keras_metric_class(path("km.AUC")) == "AUC"
    assert names.keras_metric_class(path("tf.keras.metrics.R2Score")) == "R2Score"
    assert names.contrib_metric(path("contrib_metrics.f1_score")) == "f1_score"
    assert names.add_metrics_kind(path("tf.contrib.estimator.add_metrics")) == "contrib"
    assert names.add_metrics_kind(path("tf2.estimator.add_metrics")) == "core"


def test_keras_dicts_outside_estimator_functions_and_local_names_are_not_metric_uses(tmp_path,
                                                                                      capsys):
    source = tmp_path / "keras_model.py"
    source.write_text(textwrap.dedent("""\
        import tensorflow as tf
        from tensorflow import metrics


        def compile_model(model):
            model.compile("adam", metrics={"out": tf.keras.metrics.AUC()})


        def summarize(values):
            metrics = {}
            metrics["mean"] = metrics.get("mean", 0) + sum(values)
            return metrics
        """))
    status, document = report(capsys, source)
    assert (status, document["findings"], document["errors"]) == (0, [], [])


# ------------------------------------------------------------------ rewriting

COMPAT_V1_AFTER = '''\
    eval_metric_ops = {
        # Class ids against int64 labels.
        "accuracy": adapter.from_keras(
            tf.keras.metrics.Accuracy(name="click_accuracy"),
            labels, predicted_classes, sample_weight=weights),
        "precision": adapter.from_keras(tf.keras.metrics.Precision(), labels, clicked),
        "recall": adapter.from_keras(
            tf.keras.metrics.Recall(), labels,
            probabilities[:, 1] > 0.5,  # Thresholded: v1 would count any p > 0.
        ),
        "mean_loss": adapter.from_keras(
            tf.keras.metrics.Mean(), None, per_example_loss, weights),
        "rmse_click": adapter.from_keras(
            tf.keras.metrics.RootMeanSquaredError(),
            tf.cast(labels, tf.float32), probabilities[:, 1], sample_weight=weights),
        "iou": adapter.from_keras(
            tf.keras.metrics.MeanIoU(2, sparse_y_pred=False), labels, logits, weights),
        # Not rewritten: v1 AUC adds 1e-6 to its counts.
        "auc": tf.metrics.auc(labels, probabilities[:, 1], weights=weights),
        "weighted_precision": tf.metrics.precision(labels, clicked, weights=weights),
    }
'''


def _changed_lines(before: str, after: str) -> set:
    import difflib

    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines())
    return {i + 1 for tag, i1, i2, _, _ in matcher.get_opcodes() if tag != "equal"
            for i in range(i1, i2)}


def test_write_rewrites_only_exact_uses_keeps_everything_else_and_is_idempotent(tree, capsys):
    before = {p.name: p.read_text() for p in tree.glob("*.py")}
    status, document = report(capsys, tree, "--write")
    assert status == 1  # Report-only uses and broken.py remain.
    rewritten = [(Path(f["path"]).name, f["line"]) for f in document["findings"]
                 if f["action"] == "rewritten"]
    assert rewritten == [(f, line) for f, line, _, action, _ in EXPECTED if action == REWRITE]
    after = {p.name: p.read_text() for p in tree.glob("*.py")}
    # Only files with exact rewrites changed; the wrong ones need --fix-wrong.
    assert {n for n in before if before[n] != after[n]} == {
        "add_metrics_contrib.py", "compat_v1_model_fn.py", "from_metrics_import.py",
        "metric_helpers.py", "plain_model_fn.py", "tpu_model_fn.py"}
    compat = after["compat_v1_model_fn.py"]
    assert COMPAT_V1_AFTER in compat
    assert compat.splitlines()[5:7] == ["import tensorflow.compat.v1 as tf",
                                        "from estimator_metrics import adapter"]
    # The lines changed are those of the rewritten calls (the comment on 31 stays).
    assert _changed_lines(before["compat_v1_model_fn.py"], compat) == {
        26, 27, 28, 29, 30, 33, 34, 35, 36}
    # A module without any tensorflow alias gets one, third-party first.
    assert after["from_metrics_import.py"].splitlines()[1:4] == [
        "from tensorflow import estimator, layers, losses, math, metrics, train",
        "import tensorflow as tf", "from estimator_metrics import adapter"]
    # Comments next to a rewritten call survive.
    assert ("    # Keep this comment: the contrib extender returns a new Estimator.\n"
            "    estimator = tf.estimator.add_metrics(estimator, my_metrics)\n"
            ) in after["add_metrics_contrib.py"]
    # Visually aligned continuation lines follow the new "(".
    assert ("    accuracy = adapter.from_keras(tf.keras.metrics.Accuracy(name='acc_op'), "
            "labels=labels,\n                                  predictions=predicted_classes)\n"
            ) in after["plain_model_fn.py"]
    for text in after.values():
        if text is not after["broken.py"]:
            ast.parse(text)
    # Idempotent: a second --write changes nothing and rewrites nothing.
    again_status, again = report(capsys, tree, "--write")
    assert {p.name: p.read_text() for p in tree.glob("*.py")} == after
    assert again_status == 1
    assert [f for f in again["findings"] if f["action"] == "rewritten"] == []
    # Each rewritten metric is now ok (tf.estimator.add_metrics is no metric use).
    assert again["counts"][OK] == 3 + len(rewritten) - 1


def test_diff_shows_the_change_and_writes_nothing(tree, capsys):
    hashes = digest(tree)
    status, out = migrate(capsys, tree, "--diff")
    assert status == 1
    assert digest(tree) == hashes
    assert f"--- {tree / 'tpu_model_fn.py'}\n+++ {tree / 'tpu_model_fn.py'}\n" in out
    assert ('-        "accuracy": tf.metrics.accuracy(labels=labels, predictions=predictions),\n'
            '+        "accuracy": adapter.from_keras(\n'
            '+            tf.keras.metrics.Accuracy(), labels=labels, predictions=predictions),\n'
            ) in out
    assert "keras_in_spec.py" not in out.split("# estimator-metrics migrate")[0]
    status, document = report(capsys, tree, "--diff", "--fix-wrong")
    assert digest(tree) == hashes
    assert ("-    mae.update_state(float_labels, probability)\n"
            "-    mae.update_state(float_labels, tf.round(probability), "
            'sample_weight=features["weight"])\n'
            "+    adapter.from_keras(mae, float_labels, probability)\n"
            "+    mae = adapter.from_keras(\n"
            '+        mae, float_labels, tf.round(probability), sample_weight=features["weight"])\n'
            ) in document["diff"]


def test_fix_wrong_rewrites_the_stock_keras_objects(tree, capsys):
    status, document = report(capsys, tree / "keras_in_spec.py", "--write", "--fix-wrong")
    assert status == 1  # The AUC object updated once stays (report only).
    assert [f["action"] for f in document["findings"]] == ["fixed"] * 4 + [ONLY]
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
        '    eval_metric_ops = {"f05": f05, "f1": f1, "mae": mae, "r2": r2}\n') in text
    _, again = report(capsys, tree / "keras_in_spec.py", "--write", "--fix-wrong")
    assert (tree / "keras_in_spec.py").read_text() == text
    assert [f["status"] for f in again["findings"]] == [OK] * 5 + [MIGRATABLE]


def test_unparseable_file_is_reported_and_left_untouched(tree, capsys):
    broken = (tree / "broken.py").read_bytes()
    status, document = report(capsys, tree / "broken.py", "--write", "--fix-wrong")
    assert status == 1
    assert document["findings"] == []
    assert document["errors"][0]["line"] == 6
    assert (tree / "broken.py").read_bytes() == broken


def test_exit_status_zero_only_when_nothing_needs_attention(tmp_path, capsys):
    assert migrate(capsys, FIXTURES / "migrated.py")[0] == 0
    clean = tmp_path / "only_exact.py"
    clean.write_text(textwrap.dedent("""\
        import tensorflow as tf


        def model_fn(features, labels, mode):
            predictions = tf.argmax(features["logits"], -1)
            return tf.estimator.EstimatorSpec(mode, loss=tf.constant(0.0), eval_metric_ops={
                "accuracy": tf.compat.v1.metrics.accuracy(labels, predictions),
            })
        """))
    assert migrate(capsys, clean)[0] == 1  # A migratable use left.
    assert migrate(capsys, clean, "--diff")[0] == 1  # Shown, not written.
    assert migrate(capsys, clean, "--write")[0] == 0  # Rewritten: nothing left.
    assert migrate(capsys, clean)[0] == 0


@pytest.mark.parametrize("argv, message", [
    (["migrate"], "the following arguments are required: PATH"),
    (["migrate", "does/not/exist.py"], "no such file or directory: does/not/exist.py"),
    (["migrate", ".", "--report", "xml"], "invalid choice: 'xml'"),
])
def test_usage_errors_exit_2(capsys, argv, message):
    assert message in usage_error(capsys, cli.main, argv)


def test_offsets_are_characters_and_line_endings_survive(tmp_path, capsys):
    """ast columns are UTF-8 bytes; edits are made on characters; CRLF stays CRLF."""
    path = tmp_path / "crlf.py"
    lines = ["# " + "A long line, so that nothing below needs wrapping. " * 3,
             "import tensorflow as tf", "", "",
             "def model_fn(features, labels, mode):",
             '    ids = tf.argmax(features["x"], -1)',
             '    ops = {"précision": tf.metrics.precision(labels, ids > 0), '
             '"mean": tf.metrics.mean(ids)}  # é',
             "    return tf.estimator.EstimatorSpec(mode, eval_metric_ops=ops)", ""]
    code = "\r\n".join(lines)
    path.write_bytes(code.encode("utf-8"))
    column = len('    ops = {"pré'.encode("utf-8"))
    assert Source(code).offset(7, column) == code.index('cision": tf')
    migrate(capsys, path, "--write")
    text = path.read_bytes().decode("utf-8")
    assert "\n" not in text.replace("\r\n", "") and "\r" not in text.replace("\r\n", "")
    assert text.split("\r\n")[2] == "from estimator_metrics import adapter"
    assert text.split("\r\n")[7] == (
        '    ops = {"précision": adapter.from_keras(tf.keras.metrics.Precision(), labels, '
        'ids > 0), "mean": adapter.from_keras(tf.keras.metrics.Mean(), None, ids)}  # é')


def test_added_imports_follow_the_module_imports_and_contrib_ones_are_not_left(tmp_path,
                                                                              capsys):
    module = tmp_path / "extra_metrics.py"
    module.write_text(textwrap.dedent("""\
        #!/usr/bin/env python
        # -*- coding: utf-8 -*-
        from tensorflow.compat.v1 import metrics
        from tensorflow.contrib.estimator import add_metrics


        def metric_fn(labels, predictions):
            return {"mean": metrics.mean(predictions["x"])}


        def build(estimator):
            return add_metrics(estimator, metric_fn)
        """))
    (tmp_path / "same_module.py").symlink_to(module)
    status, document = report(capsys, tmp_path, "--write")
    assert status == 1  # add_metrics imported from contrib: reported, not rewritten.
    assert [(f["line"], f["action"]) for f in document["findings"]] == [
        (8, "rewritten"), (12, ONLY)]  # The symlink is the same file: counted once.
    assert "replace the import too" in document["findings"][1]["notes"][-1]
    assert module.read_text().splitlines()[:6] == [
        "#!/usr/bin/env python", "# -*- coding: utf-8 -*-",
        "from tensorflow.compat.v1 import metrics",
        "from tensorflow.contrib.estimator import add_metrics",
        "import tensorflow as tf", "from estimator_metrics import adapter"]
    assert (tmp_path / "same_module.py").is_symlink()


# ------------------------------------------- each exact rule gives the same number

RULES = [  # (fixture stream, legacy body, the rewrite it must produce)
    ("multiclass_batches", "tf.compat.v1.metrics.accuracy(y, tf.argmax(p, -1), weights=w)",
     "adapter.from_keras(tf.keras.metrics.Accuracy(), y, tf.argmax(p, -1), sample_weight=w)"),
    ("binary_batches", "tf.compat.v1.metrics.accuracy(y, p > 0.5, w)",
     "adapter.from_keras(tf.keras.metrics.Accuracy(), y, p > 0.5, w)"),
    ("binary_batches", "tf.compat.v1.metrics.precision(y, tf.reshape(p, [-1, 1]) > 0.3)",
     "adapter.from_keras(tf.keras.metrics.Precision(), y, tf.reshape(p, [-1, 1]) > 0.3)"),
    ("binary_batches", "tf.compat.v1.metrics.recall(y, tf.cast(p > 0.5, tf.int64))",
     "adapter.from_keras(tf.keras.metrics.Recall(), y, tf.cast(p > 0.5, tf.int64))"),
    ("binary_batches", "tf.compat.v1.metrics.mean(p, w)",
     "adapter.from_keras(tf.keras.metrics.Mean(), None, p, w)"),
    ("regression_batches", "tf.compat.v1.metrics.root_mean_squared_error(y, p, weights=w)",
     "adapter.from_keras(tf.keras.metrics.RootMeanSquaredError(), y, p, sample_weight=w)"),
    ("multiclass_batches", "tf.compat.v1.metrics.mean_iou(y, tf.argmax(p, -1), 5, w)",
     "adapter.from_keras(tf.keras.metrics.MeanIoU(5, sparse_y_pred=False), y, p, w)"),
]


@pytest.mark.parametrize("stream, legacy, migrated", RULES,
                         ids=[r[1].split("(")[0].split(".")[-1] + str(i)
                              for i, r in enumerate(RULES)])
def test_exact_rules_give_the_same_number(request, tmp_path, stream, legacy, migrated):
    code = ("import tensorflow as tf\nfrom estimator_metrics import adapter\n\n\n"
            f"def build(y, p, w):  # {'A long line, so that nothing needs wrapping. ' * 2}\n"
            f"    return {legacy}\n")
    result = _migrate.analyze("rule.py", code)
    _migrate.plan(result, write=True, fix_wrong=False)
    assert [f.action for f in result.findings] == ["rewritten"], result.findings
    assert result.new_text == code.replace(legacy, migrated)
    batches = request.getfixturevalue(stream)
    values = []
    for text in (code, result.new_text):
        namespace = {}
        exec(compile(text, "rule.py", "exec"), namespace)  # pylint: disable=exec-used
        values.append(run_stream(namespace["build"], batches)[1])
    assert values[0] != 0
    np.testing.assert_allclose(values[1], values[0], rtol=1e-7)


# ------------------------------------------- a real Estimator, before and after

def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _data(seed=0, n=60):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    weight = rng.choice([0.5, 1.0, 2.0], n).astype(np.float32)
    labels = ((x @ np.array([1.0, -1.0, 0.5, 0.0]) + 0.5 * rng.normal(size=n)) > 0.3)
    return {"x": x, "weight": weight}, labels.astype(np.int64)


def _before_and_after(tmp_path, capsys, fixture, *flags, params=None):
    """Trains the fixture's model_fn, then evaluates the same checkpoint with the
    original and the rewritten model_fn. Returns (before, after, report, model_dir)."""
    before, after = tmp_path / f"before_{fixture}", tmp_path / f"after_{fixture}"
    shutil.copy(FIXTURES / fixture, before)
    shutil.copy(FIXTURES / fixture, after)
    _, document = report(capsys, after, "--write", *flags)
    features, labels = _data()

    def input_fn(train):
        def make():
            data = tf.data.Dataset.from_tensor_slices((features, labels))
            return (data.repeat() if train else data).batch(16)
        return make

    model_dir = str(tmp_path / "model")
    config = tf.estimator.RunConfig(tf_random_seed=1)
    extra = {"params": params} if params is not None else {}
    results = []
    for path, name in ((before, "before"), (after, "after")):
        model_fn = _load(path, f"{name}_{fixture[:-3]}").model_fn
        estimator = tf.estimator.Estimator(model_fn, model_dir=model_dir, config=config, **extra)
        if name == "before":
            estimator.train(input_fn(True), steps=20)
        results.append(estimator.evaluate(input_fn(False), name=name))
    return results[0], results[1], document, model_dir


def test_rewritten_model_fn_gives_the_same_numbers(tmp_path, capsys):
    before, after, document, _ = _before_and_after(tmp_path, capsys, "compat_v1_model_fn.py",
                                                   params={})
    rewritten = {f["line"] for f in document["findings"] if f["action"] == "rewritten"}
    assert rewritten == {26, 28, 29, 33, 34, 36}
    assert all(f["same_number"] == "exact" for f in document["findings"]
               if f["action"] == "rewritten")
    assert sorted(before) == sorted(after) == [
        "accuracy", "auc", "global_step", "iou", "loss", "mean_loss", "precision", "recall",
        "rmse_click", "weighted_precision"]
    for key in before:
        assert 0 < before[key] and np.isfinite(before[key]), key
        np.testing.assert_allclose(after[key], before[key], rtol=1e-7, err_msg=key)


@pytest.mark.skipif(not stock_estimator_takes_fbeta(),
                    reason="keras_in_spec.py hands F1Score/FBetaScore objects to EstimatorSpec: "
                           "this Keras lacks them, or EstimatorSpec refuses them")
def test_fix_wrong_gives_the_corrected_numbers(tmp_path, capsys):
    before, after, document, model_dir = _before_and_after(
        tmp_path, capsys, "keras_in_spec.py", "--fix-wrong")
    statuses = {f["metric"].split("`")[1]: (f["status"], f["action"])
                for f in document["findings"]}
    assert statuses == {"f05": (WRONG, "fixed"), "f1": (WRONG, "fixed"),
                        "mae": (WRONG, "fixed"), "r2": (WRONG, "fixed"),
                        "auc": (MIGRATABLE, ONLY)}
    # The truth: the same metrics updated eagerly on the checkpoint's predictions.
    features, labels = _data()
    kernel = tf.train.load_variable(model_dir, "dense/kernel")
    bias = tf.train.load_variable(model_dir, "dense/bias")
    probability = tf.sigmoid(tf.constant(features["x"]) @ kernel + bias)
    y = tf.constant(labels.astype(np.float32)[:, None])
    metrics = {"f05": tf.keras.metrics.FBetaScore(beta=0.5, average="micro", threshold=0.5),
               "f1": tf.keras.metrics.F1Score(average="micro", threshold=0.5),
               "mae": tf.keras.metrics.MeanAbsoluteError(), "r2": tf.keras.metrics.R2Score(),
               "auc": tf.keras.metrics.AUC()}
    for metric in metrics.values():
        metric.update_state(y, probability)
    metrics["mae"].update_state(y, tf.round(probability), sample_weight=features["weight"])
    truth = {name: float(metric.result()) for name, metric in metrics.items()}
    assert all(0.05 < value < 1 for value in truth.values()), truth
    # Stock EstimatorSpec, as the report said: 0.0, 0.0, the first update only, NaN.
    assert before["f05"] == 0.0 and before["f1"] == 0.0 and np.isnan(before["r2"])
    first_only = tf.keras.metrics.MeanAbsoluteError()
    first_only.update_state(y, probability)
    np.testing.assert_allclose(before["mae"], float(first_only.result()), rtol=1e-5)
    assert abs(before["mae"] - truth["mae"]) > 0.02  # Soft errors vs soft and 0/1 errors.
    # After --fix-wrong: the right numbers; the untouched AUC is unchanged.
    for name in ("f05", "f1", "mae", "r2", "auc"):
        np.testing.assert_allclose(after[name], truth[name], rtol=1e-5, err_msg=name)
    assert after["auc"] == before["auc"]

