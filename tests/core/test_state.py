"""Metric state: exact float64 accumulation, local placement, graph-only use."""

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics import builders

BIG = 2.0**24  # float32 stops counting +1 here.
SMALL_BATCHES = 1000


def _build_all(inputs):
    labels, predictions, classes, predicted, probabilities, weights = inputs
    return {
        "mape": builders.mape(labels, predictions, weights=weights),
        "fbeta": builders.fbeta(classes, predicted, weights=weights),
        "average_confidence": builders.average_confidence(probabilities, weights=weights),
        "v1_mean": tf.compat.v1.metrics.mean(
            tf.abs(labels - predictions) / labels, weights=weights
        ),
        "v1_precision": tf.compat.v1.metrics.precision(classes, predicted, weights=weights),
    }


# Two examples of weight 2**24, then 1000 batches of one unit-weight example:
# labels, predictions, class labels, predicted classes, probabilities, weights.
FIRST = ([1.0, 1.0], [1.01, 1.01], [1, 0], [1, 1], [[0.9, 0.1], [0.9, 0.1]], [BIG, BIG])
SMALL = ([1.0], [2.0], [1], [1], [[0.5, 0.5]], [1.0])


def _float64_reference():
    big_error = abs(1.0 - np.float64(np.float32(1.01)))
    total = 2 * BIG + SMALL_BATCHES
    tp, fp = BIG + SMALL_BATCHES, BIG  # F1 = 2tp / (2tp + fp + fn), fn = 0
    return {
        "mape": 100 * (2 * BIG * big_error + SMALL_BATCHES * 1.0) / total,
        "fbeta": 2 * tp / (2 * tp + fp),
        "average_confidence": (2 * BIG * np.float64(np.float32(0.9)) + SMALL_BATCHES * 0.5) / total,
        "precision": tp / (tp + fp),
    }


def test_state_stays_exact_past_float32_counting_range():
    with tf.Graph().as_default():
        inputs = [
            tf.compat.v1.placeholder(dtype, [None, *shape])
            for dtype, shape in [
                (tf.float32, []),
                (tf.float32, []),
                (tf.int64, []),
                (tf.int64, []),
                (tf.float32, [2]),
                (tf.float32, []),
            ]
        ]
        pairs = _build_all(inputs)
        updates = [update for _, update in pairs.values()]
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            sess.run(updates, dict(zip(inputs, FIRST)))
            for _ in range(SMALL_BATCHES):
                sess.run(updates, dict(zip(inputs, SMALL)))
            values = sess.run({key: value for key, (value, _) in pairs.items()})
    reference = _float64_reference()
    for key in ("mape", "fbeta", "average_confidence"):
        np.testing.assert_allclose(values[key], reference[key], rtol=1e-6, err_msg=key)
    # The float32 counters of tf.compat.v1.metrics lose the same stream.
    for key, truth in [
        ("v1_mean", reference["mape"] / 100),
        ("v1_precision", reference["precision"]),
    ]:
        assert abs(values[key] - truth) / truth > 1e-5, key


def test_float32_counter_fact_adding_one_after_2_pow_24_is_lost():
    with tf.Graph().as_default():
        weights = tf.compat.v1.placeholder(tf.float32, [None])
        _mean, update = tf.compat.v1.metrics.mean(tf.ones_like(weights), weights=weights)
        count = next(v for v in tf.compat.v1.local_variables() if "count" in v.name)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            sess.run(update, {weights: [BIG]})
            sess.run(update, {weights: [1.0]})
            assert sess.run(count) == BIG  # not BIG + 1
        assert count.dtype.base_dtype == tf.float32


def test_state_is_local_metric_float64_and_never_global():
    with tf.Graph().as_default():
        labels = tf.constant([1.0, 2.0])
        builders.mape(labels, labels)
        builders.fbeta([0, 1], [1, 1])
        builders.fbeta([0, 2], [[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]], num_classes=3, average=None)
        builders.average_confidence([[0.2, 0.8]], name="confidence")
        local = tf.compat.v1.local_variables()
        assert tf.compat.v1.global_variables() == []
        assert tf.compat.v1.trainable_variables() == []
        assert local == tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.METRIC_VARIABLES)
        assert {v.dtype.base_dtype for v in local} == {tf.float64}
        names = sorted(v.op.name for v in local)
    assert names == sorted(
        [
            "mape/total",
            "mape/count",
            "fbeta/counts",
            "fbeta_1/counts",
            "confidence/total",
            "confidence/count",
        ]
    )


def test_collections_receive_value_and_update():
    with tf.Graph().as_default():
        value, update = builders.mape(
            [1.0], [2.0], metrics_collections=["my_values"], updates_collections=["my_updates"]
        )
        assert tf.compat.v1.get_collection("my_values") == [value]
        assert tf.compat.v1.get_collection("my_updates") == [update]
        assert tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS) == []


@pytest.mark.parametrize(
    "build",
    [
        lambda: builders.mape([1.0], [1.0]),
        lambda: builders.fbeta([1], [1]),
        lambda: builders.average_confidence([[0.5, 0.5]]),
    ],
)
def test_eager_use_is_refused_with_where_it_belongs(build):
    assert tf.executing_eagerly()
    with pytest.raises(RuntimeError, match=r"inside a model_fn .*not under eager execution"):
        build()
