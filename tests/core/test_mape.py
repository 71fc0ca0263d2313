"""builders.mape against scikit-learn and the Keras formula on seeded streams."""

import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import mean_absolute_percentage_error

from estimator_metrics import builders
from estimator_metrics._core.parity import run_stream
from support.data import concat


def _sklearn_mape(batches, weighted):
    labels, predictions = concat(batches, 0), concat(batches, 1)
    weights = concat(batches, 2) if weighted else None
    return 100 * mean_absolute_percentage_error(
        labels.astype(np.float64), predictions.astype(np.float64), sample_weight=weights
    )


@pytest.mark.parametrize("weighted", [True, False])
def test_matches_sklearn_over_weighted_batches(regression_batches, weighted):
    batches = [(y, p, w if weighted else None) for y, p, w in regression_batches]
    before, value = run_stream(lambda y, p, w: builders.mape(y, p, weights=w), batches)
    assert before == 0.0
    np.testing.assert_allclose(value, _sklearn_mape(regression_batches, weighted), rtol=1e-9)


def test_labels_b1_with_predictions_b_are_aligned_not_broadcast(regression_batches):
    # [B, 1] labels against [B] predictions: naive code broadcasts to [B, B].
    swapped = [(p, y, w) for y, p, w in regression_batches]
    _, value = run_stream(lambda p, y, w: builders.mape(p, y, weights=w), swapped)
    labels, predictions = concat(regression_batches, 1)[:, 0], concat(regression_batches, 0)
    expected = 100 * mean_absolute_percentage_error(
        labels, predictions, sample_weight=concat(regression_batches, 2)
    )
    np.testing.assert_allclose(value, expected, rtol=1e-6)


def test_labels_at_zero_follow_the_keras_formula(rng):
    labels = np.array([0.0, 0.0, 2.0, -4.0, 0.0], np.float32)
    predictions = np.array([1e-8, 0.5, 1.0, -3.0, 0.0], np.float32)
    keras = tf.keras.metrics.MeanAbsolutePercentageError()
    keras.update_state(labels, predictions)
    y, p = labels.astype(np.float64), predictions.astype(np.float64)
    errors = np.abs(y - p) / np.maximum(np.abs(y), 1e-7)
    _, value = run_stream(lambda y, p: builders.mape(y, p), [(labels, predictions)])
    np.testing.assert_allclose(value, 100 * errors.mean(), rtol=1e-9)
    np.testing.assert_allclose(value, keras.result().numpy(), rtol=1e-5)


def test_custom_epsilon_is_the_denominator_floor():
    labels, predictions = np.array([0.0, 10.0]), np.array([0.5, 11.0])
    _, value = run_stream(lambda y, p: builders.mape(y, p, epsilon=0.25), [(labels, predictions)])
    np.testing.assert_allclose(value, 100 * (0.5 / 0.25 + 1 / 10) / 2, rtol=1e-12)


def test_multi_output_with_per_example_weights_is_sklearn_uniform_average(rng):
    labels = rng.uniform(1, 5, (40, 3))
    predictions = labels + rng.normal(size=(40, 3))
    weights = rng.uniform(0, 2, 40)
    _, value = run_stream(
        lambda y, p, w: builders.mape(y, p, weights=w), [(labels, predictions, weights)]
    )
    expected = 100 * mean_absolute_percentage_error(labels, predictions, sample_weight=weights)
    np.testing.assert_allclose(value, expected, rtol=1e-9)


def test_empty_batches_and_zero_weights_give_zero_not_nan():
    empty = (np.zeros([0], np.float32), np.zeros([0], np.float32), np.zeros([0], np.float32))
    zero_weight = (np.ones([3], np.float32), np.zeros([3], np.float32), np.zeros([3], np.float32))
    before, value = run_stream(lambda y, p, w: builders.mape(y, p, weights=w), [empty, zero_weight])
    assert before == 0.0 and value == 0.0


def test_value_is_read_only_and_update_returns_the_running_value(regression_batches):
    with tf.Graph().as_default():
        labels = tf.compat.v1.placeholder(tf.float32, [None])
        predictions = tf.compat.v1.placeholder(tf.float32, [None, 1])
        value, update = builders.mape(labels, predictions)
        assert value.dtype == tf.float64 and update.dtype == tf.float64
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            y, p, _ = regression_batches[0]
            updated = sess.run(update, {labels: y, predictions: p})
            assert [sess.run(value) for _ in range(3)] == [updated] * 3
            np.testing.assert_allclose(
                updated, 100 * mean_absolute_percentage_error(y, p[:, 0]), rtol=1e-6
            )
