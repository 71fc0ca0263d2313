"""Metrics built by hand, third-party and tf.contrib.learn metrics: what the report says."""

from __future__ import annotations

import pytest

from estimator_metrics.migrate import Status
from support.migrate import module_code, plan

PR = (
    "p = tf.compat.v1.metrics.precision(labels, features['y_hat'])\n"
    "r = tf.compat.v1.metrics.recall(labels, features['y_hat'])\n"
)
HELPERS = (
    "import tensorflow as tf\n\n\ndef f1(p, r):\n    return 2. * tf.compat.v1.div(p * r, p + r)"
    "\n\n\ndef safe_f1(p, r):\n    return 2.0 * tf.math.divide_no_nan(p * r, p + r)\n\n\n"
    "def nested_f1(p, r):\n    score = 2 * p * r / (p + r)\n    return score"
)


def hand_built(body: str, imports: str = HELPERS) -> list:
    findings, _ = plan(module_code(body, imports))
    return [f for f in findings if f.metric.startswith("hand-built")]


@pytest.mark.parametrize(
    "expression, name, zero",
    [
        ("2 * p[0] * r[0] / (p[0] + r[0])", "hand-built F1 from", "NaN"),
        ("2. * tf.compat.v1.div(p[0] * r[0], p[0] + r[0])", "hand-built F1 from", "NaN"),
        ("2 * tf.math.divide_no_nan(p[0] * r[0], p[0] + r[0])", "hand-built F1 from", "0.0 when"),
        (
            "(1 + 0.5 ** 2) * p[0] * r[0] / (0.5 ** 2 * p[0] + r[0] + 1e-7)",
            "hand-built F-beta (beta=0.5) from",
            "the 1e-7 term keeps it finite",
        ),
        (
            "2 * p[0] * r[0] / (p[0] + r[0] + 1e-5)",
            "hand-built F1 from",
            "below the builder by the relative amount 1e-5 / (P + R + 1e-5), e.g. 6.7e-06",
        ),
        ("f1(p[0], r[0])", "hand-built F1 through a helper", "NaN"),
        ("safe_f1(p[0], r[0])", "hand-built F1 through a helper", "0.0 when"),
        ("nested_f1(p[0], r[0])", "hand-built F1 through a helper", "NaN"),
        ("(lambda a, b: 2 * a * b / (a + b))(p[0], r[0])", "hand-built F1 through a helper", "NaN"),
    ],
)
def test_hand_built_fbeta_forms(expression, name, zero):
    body = PR + f"score = {expression}\nreturn {{'f': (score, tf.group(p[1], r[1]))}}"
    [finding] = hand_built(body)
    assert finding.metric.startswith(name), finding.metric
    assert finding.status is Status.FLOAT32
    assert finding.replacement.startswith(
        "builders.precision_recall_fbeta(labels, features['y_hat']"
    )
    assert zero in " ".join(finding.notes)


def test_a_helper_applied_to_both_halves_is_one_metric():
    body = PR + "return {'f1': (f1(p[0], r[0]), f1(p[1], r[1]))}"
    [finding] = hand_built(body)
    assert finding.source == "f1(p[0], r[0])"


def test_halves_must_agree_and_precision_recall_must_both_be_there():
    assert hand_built(PR + "return 2 * p[0] * r[1] / (p[0] + r[1])") == []
    assert hand_built(PR + "return 2 * p[0] * p[0] / (p[0] + p[0])") == []
    assert hand_built(PR + "return p[0] / (p[0] + r[0])") == []


def test_mcc_and_iou_over_float32_counters():
    counters = "".join(
        f"{short}, {short}_op = tf.compat.v1.metrics.{name}(labels, features['ids'] > 0)\n"
        for short, name in (
            ("tp", "true_positives"),
            ("fp", "false_positives"),
            ("tn", "true_negatives"),
            ("fn", "false_negatives"),
        )
    )
    body = (
        counters + "mcc = tf.compat.v1.div_no_nan(tp * tn - fp * fn, "
        "tf.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))\n"
        "iou = tp / (tp + fp + fn)\nreturn {'mcc': (mcc, fn_op), 'iou': (iou, fp_op)}"
    )
    mcc, iou = hand_built(body, "import tensorflow as tf")
    assert mcc.metric.startswith("hand-built MCC from float32 v1 counters")
    assert "TruePositives(dtype=\"float64\"), labels, features['ids'] > 0" in mcc.replacement
    assert iou.metric.startswith("hand-built IoU-style ratio of TP, FP and FN")
    assert iou.replacement == (
        "adapter.from_keras(tf.keras.metrics.IoU(2, target_class_ids=[1], "
        "dtype=\"float64\"), labels, features['ids'] > 0)"
    )
    assert {mcc.status, iou.status} == {Status.FLOAT32}


def test_tf_metrics_map_to_builders_fbeta_with_classes():
    body = (
        "f = tf_metrics.f1(labels, features['ids'], 9, [1, 2, 3], features['mask'], "
        "average='macro')\nreturn {'f': f}"
    )
    findings, _ = plan(module_code(body, "import tensorflow as tf\nimport tf_metrics"))
    [finding] = findings
    assert finding.status is Status.MIGRATABLE and finding.metric == "tf_metrics.f1"
    assert finding.replacement == (
        "builders.fbeta(tf.reshape(labels, [-1]), tf.reshape(features['ids'], [-1]), "
        "weights=tf.reshape(tf.cast(features['mask'], tf.float64), [-1]), num_classes=9, "
        "average='macro', classes=[1, 2, 3])"  # The average as the call writes it.
    )


def test_contrib_learn_metric_spec_is_reported_with_guidance():
    code = (
        "import tensorflow as tf\n\nlearn = tf.contrib.learn\n\n\ndef metrics():\n"
        "    return {'accuracy': learn.MetricSpec(metric_fn=tf.metrics.accuracy, "
        "prediction_key='classes')}\n"
    )
    findings, _ = plan(code)
    [finding] = findings
    assert finding.status is Status.NO_TF2
    assert finding.metric == "tf.contrib.learn.MetricSpec"
    assert "compute tf.metrics.accuracy on predictions['classes']" in finding.notes[0]
