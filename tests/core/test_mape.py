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


# ------------------------------------------------------------------------- multioutput


def _columns(rng, rows=12, columns=3):
    labels = rng.uniform(1, 5, (rows, columns)) * rng.choice([-1, 1], (rows, columns))
    return labels, labels + rng.normal(size=(rows, columns))


@pytest.mark.parametrize("multioutput", ["uniform_average", "raw_values", [0.2, 0.0, 1.8]])
def test_multioutput_equals_sklearn_over_weighted_batches(rng, multioutput):
    (y1, p1), (y2, p2) = _columns(rng), _columns(rng, rows=5)
    w1, w2 = rng.uniform(0, 2, 12), rng.uniform(0, 2, 5)
    empty = (np.zeros([0, 3]), np.zeros([0, 3]), np.zeros([0]))
    batches = [(y1, p1, w1), empty, (y2, p2, w2)]
    before, value = run_stream(
        lambda y, p, w: builders.mape(y, p, weights=w, multioutput=multioutput), batches
    )
    expected = 100 * mean_absolute_percentage_error(
        np.concatenate([y1, y2]),
        np.concatenate([p1, p2]),
        sample_weight=np.concatenate([w1, w2]),
        multioutput=multioutput,
    )
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    np.testing.assert_array_equal(before, np.zeros_like(expected))


def test_per_element_weights_weigh_each_column_by_its_own(rng):
    y, p = _columns(rng)
    w = rng.uniform(0, 2, y.shape)
    _, value = run_stream(
        lambda y, p, w: builders.mape(y, p, weights=w, multioutput="raw_values"), [(y, p, w)]
    )
    expected = [
        100 * mean_absolute_percentage_error(y[:, k], p[:, k], sample_weight=w[:, k])
        for k in range(3)
    ]
    np.testing.assert_allclose(value, expected, rtol=1e-12)


def test_state_is_one_pair_of_k_vectors():
    with tf.Graph().as_default() as graph:
        y = tf.compat.v1.placeholder(tf.float32, [None, 4])
        builders.mape(y, y, multioutput="raw_values")
        shapes = [v.shape.as_list() for v in graph.get_collection("local_variables")]
    assert shapes == [[4], [4]]


@pytest.mark.parametrize(
    "multioutput, message",
    [
        (
            [1.0, 1.0],
            r"Expected `multioutput` weights of length K, the number of output columns \(the "
            r"last axis of `labels` and `predictions`, 1 for \[B\]\), received "
            r"len\(multioutput\)=2; received labels.shape=\(4, 3\), predictions.shape=\(4, 3\)",
        ),
        ("variance_weighted", r"Expected `multioutput` to be 'uniform_average', 'raw_values' or"),
        ([1.0, -1.0, 1.0], r"Expected `multioutput` weights to be finite, >= 0 and not all 0"),
        ([0.0, 0.0, 0.0], r"received multioutput=\[0.0, 0.0, 0.0\]"),
        ([], r"Expected `multioutput` weights to be finite"),
    ],
)
def test_multioutput_refused_at_build_time(multioutput, message):
    with tf.Graph().as_default(), pytest.raises(ValueError, match=message):
        builders.mape(tf.ones([4, 3]), tf.ones([4, 3]), multioutput=multioutput)


def test_multioutput_of_another_type_is_a_type_error():
    with tf.Graph().as_default(), pytest.raises(TypeError, match=r"received int: 3"):
        builders.mape(tf.ones([4, 3]), tf.ones([4, 3]), multioutput=3)


def test_raw_values_need_a_static_number_of_columns():
    with tf.Graph().as_default():
        y = tf.compat.v1.placeholder(tf.float32, [None, None])
        with pytest.raises(
            ValueError,
            match=r"Expected `labels` or `predictions` with a static last axis \(the K output "
            r"columns\) with multioutput='raw_values'; received labels.shape=\(None, None\)",
        ):
            builders.mape(y, y, multioutput="raw_values")
        builders.mape(y, tf.compat.v1.placeholder(tf.float32, [None, 2]), multioutput="raw_values")


@pytest.mark.parametrize("layout", ["none", "unknown"])
def test_column_weights_of_another_length_are_refused_at_run_time(layout):
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"Expected `multioutput` weights of length K, the number of output columns.*"
        r"len\(multioutput\)=2; received\] \[labels.shape=\] \[4 3\]",
    ):
        run_stream(
            lambda y, p: builders.mape(y, p, multioutput=[1.0, 1.0]),
            [(np.ones([4, 3]), np.ones([4, 3]))],
            static=layout,
        )
