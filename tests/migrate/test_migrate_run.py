"""What migrate writes and prints runs, and gives the number it claims.

Each exact rewrite rule gives the same number before and after on seeded
streams; the replacements printed for the fixture tree are code that names
only what exists there; and the suggestions whose shapes matter (MSE over
[B, T] tags, top-k recall, tf_metrics on NER tags, IoU of counters) are run
against the legacy metric or scikit-learn.
"""

from __future__ import annotations

import ast
import builtins

import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import f1_score, fbeta_score, precision_score

from estimator_metrics import adapter, builders, migrate
from estimator_metrics._core.parity import run_stream
from estimator_metrics.migrate import Action, Status
from support.migrate import FIXTURES, fixture_files, report

RULES = [  # (fixture stream, legacy body, the rewrite it must produce)
    (
        "multiclass_batches",
        "tf.compat.v1.metrics.accuracy(y, tf.argmax(p, -1), weights=w)",
        "adapter.from_keras(tf.keras.metrics.Accuracy(), y, tf.argmax(p, -1), sample_weight=w)",
    ),
    (
        "binary_batches",
        "tf.compat.v1.metrics.accuracy(y, p > 0.5, w)",
        "adapter.from_keras(tf.keras.metrics.Accuracy(), y, p > 0.5, w)",
    ),
    (
        "binary_batches",
        "tf.compat.v1.metrics.precision(y, tf.reshape(p, [-1, 1]) > 0.3)",
        "adapter.from_keras(tf.keras.metrics.Precision(), y, tf.reshape(p, [-1, 1]) > 0.3)",
    ),
    (
        "binary_batches",
        "tf.compat.v1.metrics.recall(y, tf.cast(x=p > 0.5, dtype=tf.int64))",
        "adapter.from_keras(tf.keras.metrics.Recall(), y, tf.cast(x=p > 0.5, dtype=tf.int64))",
    ),
    (
        "binary_batches",
        "tf.compat.v1.metrics.mean(p, w)",
        "adapter.from_keras(tf.keras.metrics.Mean(), None, p, w)",
    ),
    (
        "regression_batches",
        "tf.compat.v1.metrics.root_mean_squared_error(y, p, weights=w)",
        "adapter.from_keras(tf.keras.metrics.RootMeanSquaredError(), y, p, sample_weight=w)",
    ),
    (
        "multiclass_batches",
        "tf.compat.v1.metrics.mean_iou(y, tf.argmax(p, -1), 5, w)",
        "adapter.from_keras(tf.keras.metrics.MeanIoU(5), y, tf.argmax(p, -1), w)",
    ),
    (
        "multiclass_batches",
        "tf.compat.v1.metrics.mean_iou(tf.argmax(p, -1), y, num_classes=5, weights=w)",
        "adapter.from_keras(tf.keras.metrics.MeanIoU(5), tf.argmax(p, -1), y, sample_weight=w)",
    ),
]


def _build(code: str, name: str = "build", **names):
    namespace = {"tf": tf, "adapter": adapter, "builders": builders, **names}
    exec(compile(code, "<migrate>", "exec"), namespace)  # pylint: disable=exec-used
    return namespace[name]


@pytest.mark.parametrize(
    "stream, legacy, migrated",
    RULES,
    ids=[r[1].split("(")[0].split(".")[-1] + str(i) for i, r in enumerate(RULES)],
)
def test_exact_rules_give_the_same_number(request, stream, legacy, migrated):
    code = (
        "import tensorflow as tf\nfrom estimator_metrics import adapter\n\n\n"
        f"def build(y, p, w):  # {'A long line, so that nothing needs wrapping. ' * 2}\n"
        f"    return {legacy}\n"
    )
    result = migrate.analyze("rule.py", code)
    migrate.plan(result, write=True, fix_wrong=False)
    assert [f.action for f in result.findings] == [Action.REWRITTEN], result.findings
    assert result.new_text == code.replace(legacy, migrated)
    batches = request.getfixturevalue(stream)
    values = [run_stream(_build(text), batches)[1] for text in (code, result.new_text)]
    assert values[0] != 0
    np.testing.assert_allclose(values[1], values[0], rtol=1e-7)


# ------------------------------------------------------------ printed replacements are code


def _bound_names(tree: ast.Module) -> set:
    bound = set(dir(builtins)) | {"tf", "adapter", "builders"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return bound


def test_every_printed_replacement_is_an_expression_over_names_that_exist(capsys):
    _, document = report(capsys, FIXTURES)
    checked = 0
    for path in fixture_files():
        if path.name == "broken.py":
            continue
        bound = _bound_names(ast.parse(path.read_text()))
        for finding in document["findings"]:
            text = finding["replacement"]
            if (
                finding["path"] != str(path)
                or not text
                or text.startswith(("none", "one ", "see "))
            ):
                continue
            if " = " in text:  # The Keras fixes print the assignment they write.
                text = text.split(" = ", 1)[1]
            tree = ast.parse(text, mode="eval")
            used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            assert used <= bound, (finding["path"], finding["line"], used - bound)
            checked += 1
    assert checked >= 60


def _replacement(capsys, fixture: str, metric: str) -> str:
    _, document = report(capsys, FIXTURES / fixture)
    return next(
        f["replacement"]
        for f in document["findings"]
        if f["metric"] == metric and f["status"] != Status.OK
    )


# ------------------------------------------------------------ suggestions on their shapes


def _tags(rng, sizes=(5, 1, 7, 0, 4), length=6, classes=7):
    """NER-like batches: labels, predicted ids [b, T] int32 and a 0/1 mask [b, T]."""
    batches = []
    for size in sizes:
        labels = rng.integers(0, classes, (size, length)).astype(np.int32)
        noise = rng.integers(0, classes, (size, length)).astype(np.int32)
        predicted = np.where(rng.uniform(size=(size, length)) < 0.6, labels, noise)
        mask = np.arange(length)[None, :] < rng.integers(1, length + 1, (size, 1))
        batches.append((labels, predicted.astype(np.int32), mask.astype(np.float32)))
    return batches


def test_mse_over_tags_is_flattened_and_runs(capsys, rng):
    """v1 MSE over [B, T] tag ids: the printed replacement runs on those shapes, same number."""
    text = _replacement(capsys, "ner_tf_metrics.py", "tf.compat.v1.metrics.mean_squared_error")
    assert text == (
        "adapter.from_keras(tf.keras.metrics.MeanSquaredError(), "
        "tf.reshape(labels, [-1, 1]), tf.reshape(pred_ids, [-1, 1]), "
        "sample_weight=tf.reshape(weights, [-1]))"
    )
    batches = _tags(rng)
    legacy = run_stream(lambda y, p, w: tf.compat.v1.metrics.mean_squared_error(y, p, w), batches)[
        1
    ]
    suggested = run_stream(
        _build(f"def build(labels, pred_ids, weights):\n    return {text}"), batches
    )[1]
    assert legacy > 0
    np.testing.assert_allclose(suggested, legacy, rtol=1e-7)


def test_mean_iou_is_symmetric_so_swapped_arguments_give_the_same_number(multiclass_batches):
    """The note on swapped mean_iou arguments: FP and FN trade places, IoU does not move."""

    def iou(swap):
        def build(y, p, w):
            ids = tf.argmax(p, -1, output_type=tf.int32)
            first, second = (ids, y) if swap else (y, ids)
            return tf.compat.v1.metrics.mean_iou(first, second, 5, weights=w)

        return run_stream(build, multiclass_batches)[1]

    assert 0 < iou(False) < 1
    np.testing.assert_allclose(iou(True), iou(False), rtol=1e-7)


def test_mae_suggestion_runs_on_b_labels_and_a_b1_head(capsys, regression_batches):
    text = _replacement(
        capsys, "from_metrics_import.py", "tf.compat.v1.metrics.mean_absolute_error"
    )
    legacy = run_stream(
        lambda y, p, w: tf.compat.v1.metrics.mean_absolute_error(y, p), regression_batches
    )[1]
    suggested = run_stream(
        _build(f"def build(labels, price, w):\n    return {text}"), regression_batches
    )[1]
    np.testing.assert_allclose(suggested, legacy, rtol=1e-7)


def test_top_k_recall_suggestion_runs(capsys, multiclass_batches):
    text = _replacement(capsys, "plain_model_fn.py", "tf.compat.v1.metrics.recall_at_k")
    legacy = run_stream(
        lambda y, p, w: tf.compat.v1.metrics.recall_at_k(tf.cast(y, tf.int64), p, k=2),
        multiclass_batches,
    )[1]
    suggested = run_stream(
        _build(f"def build(labels, logits, w):\n    return {text}"), multiclass_batches
    )[1]
    assert 0 < legacy < 1
    np.testing.assert_allclose(suggested, legacy, rtol=1e-6)


def _concat(batches, index):
    return np.concatenate([b[index].reshape(-1) for b in batches])


def _tag_stream_value(text, batches):
    """The value of suggestion `text` over tag-id `batches`, in the NER fixture's names."""
    build = _build(
        f"def build(labels, pred_ids, weights):\n    return {text}",
        NUM_TAGS=7,
        ENTITY_TAGS=[1, 2, 3, 4, 5],
    )
    return run_stream(build, batches)[1]


def test_tf_metrics_micro_precision_suggestion_equals_scikit_learn(capsys, rng):
    text = _replacement(capsys, "ner_tf_metrics.py", "tf_metrics.precision")
    batches = _tags(rng)
    value = _tag_stream_value(text, batches)
    expected = precision_score(
        _concat(batches, 0),
        _concat(batches, 1),
        labels=[1, 2, 3, 4, 5],
        average="micro",
        sample_weight=_concat(batches, 2),
    )
    np.testing.assert_allclose(value, expected, rtol=1e-6)


@pytest.mark.parametrize(
    "metric, index, score",
    [
        (
            "tf_metrics.f1",
            0,
            lambda y, p, w: f1_score(
                y, p, labels=[1, 2, 3, 4, 5], average="micro", sample_weight=w
            ),
        ),
        (
            "tf_metrics.f1",
            1,
            lambda y, p, w: f1_score(
                y, p, labels=[1, 2, 3, 4, 5], average="macro", sample_weight=w
            ),
        ),
        (
            "tf_metrics.fbeta",
            0,
            lambda y, p, w: fbeta_score(
                y, p, beta=2, labels=[1, 2, 3, 4, 5], average="micro", sample_weight=w
            ),
        ),
    ],
)
def test_tf_metrics_fbeta_suggestions_equal_scikit_learn(capsys, rng, metric, index, score):
    _, document = report(capsys, FIXTURES / "ner_tf_metrics.py")
    text = [f["replacement"] for f in document["findings"] if f["metric"] == metric][index]
    batches = _tags(rng)
    value = _tag_stream_value(text, batches)
    expected = score(_concat(batches, 0), _concat(batches, 1), _concat(batches, 2))
    np.testing.assert_allclose(value, expected, rtol=1e-9)


def test_iou_of_counters_suggestion_equals_the_hand_built_ratio(capsys, rng):
    """tp / (tp + fp + fn) over v1 counters == Keras IoU(2, target_class_ids=[1])."""
    _, document = report(capsys, FIXTURES / "counters.py")
    text = next(
        f["replacement"]
        for f in document["findings"]
        if f["metric"].startswith("hand-built IoU-style")
    )
    batches = [
        (rng.integers(0, 2, n).astype(np.float32), rng.integers(0, 2, n).astype(np.float32), None)
        for n in (7, 0, 12, 3)
    ]

    def hand_built(y, p, _):
        tp, tp_op = tf.compat.v1.metrics.true_positives(y, p)
        fp, fp_op = tf.compat.v1.metrics.false_positives(y, p)
        fn, fn_op = tf.compat.v1.metrics.false_negatives(y, p)
        return tp / (tp + fn + fp), tf.group(tp_op, fp_op, fn_op)

    legacy = run_stream(hand_built, batches)[1]
    # The fixture's counters read one one-hot column of labels and predictions each.
    code = (
        f"def build(labels, predictions, _):\n    one_hot_labels = labels[:, None]\n"
        f"    one_hot_predictions = predictions[:, None]\n    c = 0\n    return {text}"
    )
    suggested = run_stream(_build(code), batches)[1]
    assert 0 < legacy < 1
    np.testing.assert_allclose(suggested, legacy, rtol=1e-6)
