"""Each rule on a small model_fn: the source before, the source after `--write`
(`--fix-wrong` for wrong uses), or the reason it is left alone."""

from __future__ import annotations

import pytest

from estimator_metrics.migrate import Action, Status
from support.migrate import module_code, plan

ADAPTER = "import tensorflow as tf\nfrom estimator_metrics import adapter"
#: A 120-character line: rewritten lines up to that length do not wrap.
WIDE = ADAPTER + "\n# " + "A long line, so that nothing below needs wrapping. " * 2 + "." * 14

#: (id, model_fn body before, body after --write --fix-wrong, status)
REWRITES = [
    (
        "accuracy_argmax",
        "return tf.compat.v1.metrics.accuracy(labels, tf.argmax(features['logits'], -1))",
        "return adapter.from_keras(tf.keras.metrics.Accuracy(), labels, "
        "tf.argmax(features['logits'], -1))",
        Status.MIGRATABLE,
    ),
    (
        "accuracy_keyword_argmax",
        "return tf.compat.v1.metrics.accuracy(\n"
        "    labels=labels, predictions=tf.argmax(input=features['logits'], axis=1))",
        "return adapter.from_keras(\n"
        "    tf.keras.metrics.Accuracy(), labels=labels, "
        "predictions=tf.argmax(input=features['logits'], axis=1))",
        Status.MIGRATABLE,
    ),
    (
        "accuracy_through_predictions_dict",
        "predictions = {'classes': tf.argmax(features['logits'], axis=-1)}\n"
        "return tf.compat.v1.metrics.accuracy(labels, predictions['classes'])",
        "predictions = {'classes': tf.argmax(features['logits'], axis=-1)}\n"
        "return adapter.from_keras(tf.keras.metrics.Accuracy(), labels, predictions['classes'])",
        Status.MIGRATABLE,
    ),
    (
        "accuracy_on_probabilities_is_fixed",
        "return tf.compat.v1.metrics.accuracy(labels, tf.sigmoid(features['logit']))",
        "return adapter.from_keras(tf.keras.metrics.BinaryAccuracy(), labels, "
        "tf.sigmoid(features['logit']))",
        Status.WRONG,
    ),
    (
        "precision_on_cast_keyword",
        "is_one = tf.cast(x=tf.argmax(features['logits'], axis=-1), dtype=tf.bool)\n"
        "return tf.compat.v1.metrics.precision(labels, is_one)",
        "is_one = tf.cast(x=tf.argmax(features['logits'], axis=-1), dtype=tf.bool)\n"
        "return adapter.from_keras(tf.keras.metrics.Precision(), labels, is_one)",
        Status.MIGRATABLE,
    ),
    (
        "mean_keyword_values_and_weights",
        "return tf.compat.v1.metrics.mean(values=features['loss'], weights=features['w'])",
        "return adapter.from_keras(\n"
        "    tf.keras.metrics.Mean(), None, predictions=features['loss'], "
        "sample_weight=features['w'])",
        Status.MIGRATABLE,
    ),
    (
        "rmse_with_name",
        "return tf.compat.v1.metrics.root_mean_squared_error(labels, features['p'], name='rmse')",
        "return adapter.from_keras(tf.keras.metrics.RootMeanSquaredError(name='rmse'), labels, "
        "features['p'])",
        Status.MIGRATABLE,
    ),
    (
        "mean_iou_on_ids",
        "return tf.compat.v1.metrics.mean_iou(labels, features['ids'], num_classes=4)",
        "return adapter.from_keras(tf.keras.metrics.MeanIoU(4), labels, features['ids'])",
        Status.MIGRATABLE,
    ),
    (
        "collections_none_dropped",
        "return tf.compat.v1.metrics.mean(features['x'], metrics_collections=None)",
        "return adapter.from_keras(tf.keras.metrics.Mean(), None, features['x'])",
        Status.MIGRATABLE,
    ),
    (
        "keras_fbeta_object_is_fixed",
        "f1 = tf.keras.metrics.F1Score(threshold=0.5)\n"
        "f1.update_state(features['y'], features['p'])\n"
        "return tf.estimator.EstimatorSpec(mode, loss=features['loss'], "
        "eval_metric_ops={'f1': f1})",
        "f1 = tf.keras.metrics.F1Score(threshold=0.5)\n"
        "f1 = adapter.from_keras(f1, features['y'], features['p'])\n"
        "return tf.estimator.EstimatorSpec(mode, loss=features['loss'], "
        "eval_metric_ops={'f1': f1})",
        Status.WRONG,
    ),
    (
        "contrib_add_metrics",
        "return tf.contrib.estimator.add_metrics(features, labels)",
        "return tf.estimator.add_metrics(features, labels)",
        Status.MIGRATABLE,
    ),
]


@pytest.mark.parametrize(
    "before, after, status", [r[1:] for r in REWRITES], ids=[r[0] for r in REWRITES]
)
def test_rule_rewrites(before, after, status):
    findings, new_text = plan(module_code(before, WIDE), fix_wrong=True)
    assert [f.status for f in findings] == [status]
    assert [f.action for f in findings] == [
        Action.FIXED if status is Status.WRONG else Action.REWRITTEN
    ]
    assert new_text == module_code(after, WIDE)
    # Idempotent: the rewritten code is ok and rewritten no further.
    again, newer = plan(new_text, fix_wrong=True)
    assert newer is None and {f.status for f in again} <= {Status.OK}


#: (id, model_fn body, status, a phrase of the reason it is not rewritten)
LEFT_ALONE = [
    (
        "precision_with_weights_needs_shapes",
        "return tf.compat.v1.metrics.precision(labels, features['p'] > 0.5, weights=features['w'])",
        Status.MIGRATABLE,
        "the shapes are not in the code",
    ),
    (
        "accuracy_unknown_predictions",
        "return tf.compat.v1.metrics.accuracy(labels, features['predictions'])",
        Status.MIGRATABLE,
        "the predictions' kind is not known",
    ),
    (
        "collections_given",
        "return tf.compat.v1.metrics.mean(features['x'], metrics_collections=['m'])",
        Status.MIGRATABLE,
        "metrics_collections has no from_keras counterpart",
    ),
    (
        "auc_is_not_exact",
        "return tf.compat.v1.metrics.auc(labels, tf.sigmoid(features['logit']))",
        Status.MIGRATABLE,
        "not exact on every input",
    ),
    (
        "auc_pr_trapezoidal",
        "return tf.compat.v1.metrics.auc(labels, features['p'], curve='PR')",
        Status.NO_TF2,
        "trapezoidal",
    ),
    (
        "star_args_not_analysed",
        "return tf.compat.v1.metrics.mean_iou(labels, features['ids'], *features['rest'])",
        Status.UNSURE,
        "arguments come from *features['rest'] (line 7): num_classes, weights change",
    ),
    (
        "inside_a_lambda",
        "return tf.cond(features['flag'], lambda: tf.compat.v1.metrics.mean(features['x']), "
        "lambda: features['pair'])",
        Status.MIGRATABLE,
        "inside a lambda",
    ),
    (
        "mean_per_class_accuracy",
        "return tf.compat.v1.metrics.mean_per_class_accuracy(labels, features['ids'], 3)",
        Status.NO_TF2,
        "custom Keras metric",
    ),
    (
        "keras_auc_updated_once",
        "auc = tf.keras.metrics.AUC()\nauc.update_state(labels, features['p'])\n"
        "return {'auc': auc}",
        Status.MIGRATABLE,
        "no test pins stock == from_keras",
    ),
]


@pytest.mark.parametrize(
    "body, status, reason", [r[1:] for r in LEFT_ALONE], ids=[r[0] for r in LEFT_ALONE]
)
def test_rule_leaves_alone_and_says_why(body, status, reason):
    code = module_code(body, WIDE)
    if "return {'auc'" in body:  # A Keras object is a metric use in a role function only.
        code = code.replace(
            "return {'auc': auc}",
            "return tf.estimator.EstimatorSpec("
            "mode, loss=features['loss'], eval_metric_ops={'auc': auc})",
        )
    findings, new_text = plan(code, fix_wrong=True)
    assert new_text is None
    assert [f.status for f in findings] == [status]
    assert findings[0].action is Action.REPORT_ONLY
    assert reason in " ".join(findings[0].notes + [findings[0].replacement])


def test_a_long_rewritten_line_wraps_with_a_hanging_indent():
    body = (
        "eval_metric_ops = {'accuracy_of_the_click_head': tf.compat.v1.metrics.accuracy("
        "labels, tf.argmax(features['logits'], -1))}\nreturn eval_metric_ops"
    )
    _, new_text = plan(module_code(body, ADAPTER))
    assert (
        "    eval_metric_ops = {'accuracy_of_the_click_head': adapter.from_keras(\n"
        "        tf.keras.metrics.Accuracy(), labels, tf.argmax(features['logits'], -1))}\n"
    ) in new_text
    assert max(len(line) for line in new_text.splitlines()) <= len(
        module_code(body, ADAPTER).splitlines()[5]
    )


def test_keras_dicts_outside_estimator_functions_and_local_names_are_not_metric_uses():
    code = module_code("return features", "import tensorflow as tf\nfrom tensorflow import metrics")
    code += (
        "\n\ndef compile_model(model):\n"
        "    model.compile('adam', metrics={'out': tf.keras.metrics.AUC()})\n\n\n"
        "def summarize(values):\n    metrics = {}\n"
        "    metrics['mean'] = metrics.get('mean', 0) + sum(values)\n    return metrics\n"
    )
    findings, new_text = plan(code)
    assert (findings, new_text) == ([], None)
