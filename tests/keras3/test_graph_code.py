"""Graph code where Estimator is gone: the builders and adapter.from_keras in tf.compat.v1 graphs.

Marked keras3: the same numbers on TensorFlow 2.15 (Keras 2) and 2.21 (Keras 3, numpy 2),
against scikit-learn/NumPy and against eager Keras, over several weighted batches.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import fbeta_score

from estimator_metrics import adapter, builders, keras_metrics
from estimator_metrics._core.parity import run_stream
from support.data import NUM_CLASSES, concat

pytestmark = pytest.mark.keras3


def _f64(array) -> np.ndarray:
    return np.asarray(array, np.float64)


def test_builders_in_a_compat_v1_graph_equal_sklearn_and_numpy(
    multiclass_batches, regression_batches
):
    labels, probabilities, weights = (concat(multiclass_batches, i) for i in range(3))
    macro = run_stream(
        lambda y, p, w: builders.fbeta(
            y, p, beta=2.0, num_classes=NUM_CLASSES, average="macro", weights=w
        ),
        multiclass_batches,
    )
    expected = fbeta_score(
        labels,
        probabilities.argmax(1),
        beta=2.0,
        average="macro",
        labels=range(NUM_CLASSES),
        sample_weight=_f64(weights),
        zero_division=0,
    )
    np.testing.assert_allclose(macro.after, expected, rtol=1e-12)
    assert macro.before == 0.0

    confidence = run_stream(
        lambda y, p, w: builders.average_confidence(p, weights=w), multiclass_batches
    )
    np.testing.assert_allclose(
        confidence.after, np.average(_f64(probabilities).max(1), weights=weights), rtol=1e-12
    )

    y, p, w = (concat(regression_batches, i) for i in range(3))
    mape = run_stream(lambda y, p, w: builders.mape(y, p, weights=w), regression_batches)
    expected = 100 * np.average(np.abs(_f64(y) - _f64(p[:, 0])) / np.abs(_f64(y)), weights=w)
    np.testing.assert_allclose(mape.after, expected, rtol=1e-12)


def _graph_stream(make, batches, to_inputs):
    """`adapter.from_keras(make(), ...)` called twice per step (every batch, then every batch
    doubled), update op run per batch in a Session; the final value."""

    def build(*tensors):
        metric = make()
        inputs = to_inputs(*tensors)
        adapter.from_keras(metric, *inputs)
        doubled = (inputs[0], 2 * inputs[1], *inputs[2:]) if len(inputs) > 2 else inputs
        return adapter.from_keras(metric, *doubled)

    return run_stream(build, batches).after


def _eager_stream(make, batches, to_inputs):
    metric = make()
    for batch in batches:
        inputs = to_inputs(*(tf.constant(a) for a in batch))
        metric.update_state(inputs[0], inputs[1], sample_weight=inputs[2])
        metric.update_state(inputs[0], 2 * inputs[1], sample_weight=inputs[2])
    return _f64(metric.result())


@pytest.mark.parametrize(
    "name, make, batches, to_inputs",
    [
        (
            "keras MeanAbsolutePercentageError",
            lambda: tf.keras.metrics.MeanAbsolutePercentageError(),
            "regression_batches",
            lambda y, p, w: (tf.reshape(y, [-1, 1]), p, w),
        ),
        (
            "a plain function",
            lambda: lambda y_true, y_pred: tf.abs(y_true - y_pred),
            "regression_batches",
            lambda y, p, w: (tf.reshape(y, [-1, 1]), p, w),
        ),
        (
            "twin MAPE",
            lambda: keras_metrics.MAPE(),
            "regression_batches",
            lambda y, p, w: (y, p, w),
        ),
        (
            "twin FBeta, macro",
            lambda: keras_metrics.FBeta(num_classes=NUM_CLASSES, average="macro"),
            "multiclass_batches",
            lambda y, p, w: (y, p, w),
        ),
    ],
)
def test_from_keras_in_a_compat_v1_graph_equals_eager_keras(
    name, make, batches, to_inputs, request
):
    batches = request.getfixturevalue(batches)
    graph = _graph_stream(make, batches, to_inputs)
    if name == "a plain function":  # No eager metric object: Keras' own mean of it.
        eager = _eager_stream(
            lambda: tf.keras.metrics.MeanMetricWrapper(lambda a, b: tf.abs(a - b)),
            batches,
            to_inputs,
        )
    else:
        eager = _eager_stream(make, batches, to_inputs)
    # float32 state in the stock Keras metrics: the same sums in another order.
    np.testing.assert_allclose(graph, eager, rtol=1e-6)
    assert graph > 0


def test_fbeta_score_through_from_keras_counts_every_assignment(multiclass_batches):
    """Keras' FBetaScore assigns three variables per update: all of them run, every batch."""
    if not hasattr(tf.keras.metrics, "FBetaScore"):
        pytest.skip("tf.keras.metrics has no FBetaScore (Keras 2.12)")

    def to_inputs(y, p, w):
        return tf.one_hot(tf.cast(y, tf.int32), NUM_CLASSES), p, w

    make = lambda: tf.keras.metrics.FBetaScore(beta=0.5, average="macro")
    # Keras 3's FBetaScore refuses an empty batch eagerly ("Cannot compute the max of an
    # empty tensor"): the empty one of the shared stream is left out on both sides.
    multiclass_batches = [batch for batch in multiclass_batches if len(batch[0])]
    graph = _graph_stream(make, multiclass_batches, to_inputs)
    eager = _eager_stream(make, multiclass_batches, to_inputs)
    np.testing.assert_allclose(graph, eager, rtol=1e-6)
    assert graph > 0


def test_per_class_splits_a_builder_vector_in_a_graph(multiclass_batches):
    labels, probabilities, weights = (concat(multiclass_batches, i) for i in range(3))
    names = ["a", "b", "c", "d", "e"]
    with tf.Graph().as_default():
        pair = builders.fbeta(
            labels, probabilities, num_classes=NUM_CLASSES, average=None, weights=weights
        )
        entries = adapter.per_class("f1", pair, class_names=names)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.local_variables_initializer())
            session.run(pair[1])
            values = session.run({key: value for key, (value, _) in entries.items()})
    expected = fbeta_score(
        labels,
        probabilities.argmax(1),
        beta=1.0,
        average=None,
        labels=range(NUM_CLASSES),
        sample_weight=_f64(weights),
        zero_division=0,
    )
    assert list(entries) == [f"f1/{name}" for name in names]
    np.testing.assert_allclose([values[f"f1/{n}"] for n in names], expected, rtol=1e-12)
