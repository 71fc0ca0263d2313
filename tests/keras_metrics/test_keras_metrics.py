"""keras_metrics.AverageConfidence: builder parity, config, tracing, exactness."""

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics import adapter, builders, parity
from estimator_metrics.keras_metrics import AverageConfidence
from support.data import concat


@pytest.mark.parametrize("weighted", [True, False])
def test_equals_the_builder_and_numpy_on_the_same_batches(multiclass_batches, weighted):
    batches = [(y, p, w if weighted else None) for y, p, w in multiclass_batches]
    report = parity.compare(
        lambda y, p, w: builders.average_confidence(p, weights=w), AverageConfidence, batches
    )
    assert report.agrees(rtol=1e-12), report
    probabilities = concat(multiclass_batches, 1).astype(np.float64)
    weights = concat(multiclass_batches, 2) if weighted else np.ones(len(probabilities))
    np.testing.assert_allclose(
        report.keras, np.average(probabilities.max(axis=1), weights=weights), rtol=1e-12
    )


def test_config_round_trip_and_keras_serialization():
    metric = AverageConfidence(name="top_confidence", dtype="float32")
    config = metric.get_config()
    assert config == {"name": "top_confidence", "dtype": "float32"}
    assert AverageConfidence.from_config(config).get_config() == config
    restored = tf.keras.metrics.deserialize(tf.keras.metrics.serialize(metric))
    assert type(restored) is AverageConfidence and restored.get_config() == config
    restored.update_state(None, [[0.25, 0.75]])
    assert restored.result().dtype == tf.float32 and restored.result().numpy() == 0.75


def test_batches_of_sizes_1_to_64_trace_once_with_a_signature_and_at_most_twice_relaxed(rng):
    metric = AverageConfidence()
    traces = {"signature": 0, "relaxed": 0}

    def step(kind, probabilities, weights):
        traces[kind] += 1  # Python side effect: runs only while tracing.
        metric.update_state(None, probabilities, sample_weight=weights)

    spec = [tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([None], tf.float32)]
    with_signature = tf.function(lambda p, w: step("signature", p, w), input_signature=spec)
    relaxed = tf.function(lambda p, w: step("relaxed", p, w), reduce_retracing=True)
    seen = []
    for size in range(1, 65):
        probabilities = rng.dirichlet(np.ones(4), size).astype(np.float32)
        weights = rng.uniform(0, 2, size).astype(np.float32)
        with_signature(probabilities, weights)
        relaxed(probabilities, weights)
        seen.append((probabilities, weights))
    assert traces == {"signature": 1, "relaxed": 2}
    expected = sum(2 * np.sum(w * p.max(1)) for p, w in seen) / sum(2 * w.sum() for _, w in seen)
    np.testing.assert_allclose(metric.result(), expected, rtol=1e-6)


def test_state_is_float64_and_exact_past_2_pow_24():
    metric = AverageConfidence()
    metric.update_state(None, [[0.9, 0.1]], sample_weight=[2.0**24])
    for _ in range(200):
        metric.update_state(None, [[0.5, 0.5]], sample_weight=[1.0])
    assert {v.dtype for v in metric.variables} == {tf.float64}
    assert metric.count.numpy() == 2.0**24 + 200
    expected = (2.0**24 * np.float64(np.float32(0.9)) + 100) / (2.0**24 + 200)
    np.testing.assert_allclose(metric.result(), expected, rtol=1e-12)


def test_reset_state_and_empty_batches_give_zero_not_nan():
    metric = AverageConfidence()
    assert metric.result().numpy() == 0.0
    metric.update_state(None, np.zeros([0, 3], np.float32))
    assert metric.result().numpy() == 0.0
    metric.update_state(None, [[0.2, 0.8]])
    metric.reset_state()
    assert metric.result().numpy() == 0.0


@pytest.mark.parametrize(
    "probabilities, weights, error, message",
    [
        (
            [[0.3], [0.9]],
            None,
            ValueError,
            r"C >= 2 class probabilities .*received predictions.shape=\(2, 1\)",
        ),
        (
            [[0.5, np.nan]],
            None,
            tf.errors.InvalidArgumentError,
            r"`predictions` must be finite and lie in \[0, 1\]",
        ),
        (
            [[0.5, 1.5]],
            None,
            tf.errors.InvalidArgumentError,
            r"`predictions` must be finite and lie in \[0, 1\]",
        ),
        (
            [[0.5, 0.5]],
            [-1.0],
            tf.errors.InvalidArgumentError,
            r"`weights` must be finite and >= 0",
        ),
    ],
)
def test_bad_input_is_refused_eagerly(probabilities, weights, error, message):
    with pytest.raises(error, match=message):
        AverageConfidence().update_state(
            None, np.asarray(probabilities, np.float32), sample_weight=weights
        )


def test_in_keras_model_evaluate_and_through_the_adapter(multiclass_batches):
    probabilities = concat(multiclass_batches, 1)
    weights = concat(multiclass_batches, 2)
    expected = np.average(probabilities.astype(np.float64).max(1), weights=weights)
    model = tf.keras.Sequential([tf.keras.layers.Lambda(lambda x: x)])
    model.compile(loss="mse", weighted_metrics=[AverageConfidence()])
    results = model.evaluate(
        probabilities,
        probabilities,
        sample_weight=weights,
        batch_size=8,
        verbose=0,
        return_dict=True,
    )
    np.testing.assert_allclose(results["average_confidence"], expected, rtol=1e-6)
    with tf.Graph().as_default():
        metric = AverageConfidence()
        value, update = adapter.from_keras(metric, None, probabilities, weights)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            sess.run(update)
            np.testing.assert_allclose(sess.run(value), expected, rtol=1e-12)
