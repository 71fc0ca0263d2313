"""Qualified names through every import form and module alias (LibCST plus alias assignments)."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from estimator_metrics.migrate import _names as names
from estimator_metrics.migrate._module import Module

IMPORTS = textwrap.dedent("""
    import keras
    import tensorflow as tf2
    import tensorflow.compat.v1 as tf
    import tf_keras as standalone
    from tensorflow.compat.v1 import metrics
    from tensorflow.contrib import metrics as contrib_metrics
    from tensorflow.keras import metrics as km
    from tensorflow.keras.metrics import F1Score
    from tensorflow.python.keras import metrics as legacy_metrics
    from tensorflow_estimator.python.estimator.util import tf_keras, tf_keras_v1
    import tf_metrics
    from tf_metrics import f1 as tagging_f1

    keras_v1 = tf_keras_v1
    again = keras_v1
    v1 = tf2.compat.v1
""")


def resolve(expression: str, classify, *, prelude: str = IMPORTS, local: str = ""):
    """What `classify` says of the paths `expression` names, inside a function."""
    code = (
        prelude + f"\n\ndef f(metrics_arg):\n{textwrap.indent(local, '    ')}    x = {expression}\n"
    )
    module = Module(cst.parse_module(code))
    function = next(f for f in module.functions if f.qualname == "f")
    value = next(
        n for n in function.nodes if isinstance(n, cst.Assign) and n.targets[0].target.value == "x"
    ).value
    return module.path_of(value, classify)


@pytest.mark.parametrize(
    "expression, classify, expected",
    [
        ("tf.metrics.accuracy", names.v1_metric, "accuracy"),
        ("tf2.compat.v1.metrics.auc", names.v1_metric, "auc"),
        ("tf.compat.v1.metrics.mean", names.v1_metric, "mean"),  # compat.v1.compat.v1
        ("metrics.precision", names.v1_metric, "precision"),
        ("v1.metrics.recall", names.v1_metric, "recall"),  # v1 = tf2.compat.v1
        ("tf2.metrics.Accuracy", names.keras_metric_class, "Accuracy"),  # TF 2: Keras
        ("tf2.metrics.Accuracy", names.v1_metric, None),
        ("F1Score", names.keras_metric_class, "F1Score"),
        ("km.AUC", names.keras_metric_class, "AUC"),
        ("tf.keras.metrics.R2Score", names.keras_metric_class, "R2Score"),
        ("legacy_metrics.Precision", names.keras_metric_class, "Precision"),
        ("tf_keras.metrics.Mean", names.keras_metric_class, "Mean"),
        ("tf_keras_v1.metrics.Mean", names.keras_metric_class, "Mean"),
        ("keras_v1.metrics.Mean", names.keras_metric_class, "Mean"),  # keras_v1 = tf_keras_v1
        ("again.metrics.Sum", names.keras_metric_class, "Sum"),  # alias of an alias
        ("keras.metrics.FBetaScore", names.keras_metric_class, "FBetaScore"),
        ("standalone.metrics.MeanIoU", names.keras_metric_class, "MeanIoU"),
        ("contrib_metrics.f1_score", names.contrib_metric, "f1_score"),
        ("tf_metrics.fbeta", names.tf_metrics_function, "fbeta"),
        ("tagging_f1", names.tf_metrics_function, "f1"),
    ],
)
def test_names_resolve_through_imports_and_aliases(expression, classify, expected):
    assert resolve(expression, classify) == expected


def test_rebinding_tf_to_compat_v1_keeps_v1_metrics():
    prelude = "import tensorflow as tf\ntf = tf.compat.v1\n"
    assert resolve("tf.metrics.accuracy", names.v1_metric, prelude=prelude) == "accuracy"
    assert resolve("tf.keras.metrics.AUC", names.keras_metric_class, prelude=prelude) == "AUC"


def test_local_names_shadow_imports():
    assert resolve("metrics.precision", names.v1_metric, local="metrics = {}\n") is None
    assert resolve("tf.metrics.accuracy", names.v1_metric, local="tf = object()\n") is None
    assert resolve("metrics_arg.accuracy", names.v1_metric) is None  # A parameter.


def test_canonical_spellings():
    assert names.canonical("tensorflow.compat.v2.keras.metrics.AUC") == "keras.metrics.AUC"
    assert names.canonical("tf_keras.metrics.Mean") == "keras.metrics.Mean"
    assert names.canonical("keras.src.metrics.Mean") == "keras.src.metrics.Mean"
    assert names.canonical("tensorflow.python.keras.metrics.AUC") == "keras.metrics.AUC"
    assert names.add_metrics_kind("tensorflow.compat.v1.contrib.estimator.add_metrics") == (
        "contrib"
    )
    assert (
        names.add_metrics_kind("tensorflow_estimator.python.estimator.extenders.add_metrics")
        == "core"
    )
    assert names.contrib_learn("tensorflow.contrib.learn.python.learn.metric_spec.MetricSpec") == (
        "MetricSpec"
    )
