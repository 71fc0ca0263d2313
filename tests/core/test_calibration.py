"""builders.calibration_error and the state behind reliability_diagram, against TensorFlow
Probability, scikit-learn and NumPy, streamed over batches (one of them empty) through the
three kinds of placeholders."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics import builders
from estimator_metrics._core import parity
from estimator_metrics._core import rows as _rows
from support import calibration as oracle
from support.data import concat

InvalidArgument = tf.errors.InvalidArgumentError
NORMS = builders.NORMS


def _stream(build, batches, kind="batch"):
    return parity.run_stream(build, batches, static=kind).after


def _state(labels, predictions, weights=None, num_bins=15):
    """The state [3, num_bins] after one batch (the reliability diagram's update_op)."""
    batch = (labels, predictions) if weights is None else (labels, predictions, weights)
    return _stream_state([batch], num_bins)


def _stream_state(batches, num_bins=15, kind="batch"):
    """The state [3, num_bins] after one update per batch, as `update_op` returns it."""
    with tf.Graph().as_default():
        inputs = [parity.placeholder(array, kind) for array in batches[0]]
        _, update = builders.reliability_diagram(*inputs, num_bins=num_bins)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            for batch in batches:
                state = sess.run(update, dict(zip(inputs, batch)))
    return state


# ------------------------------------------------------------- TensorFlow Probability


@pytest.mark.parametrize("kind", parity.STATIC)
@pytest.mark.parametrize("num_bins", [1, 10, 15])
def test_unweighted_ece_equals_tensorflow_probability(multiclass_batches, kind, num_bins):
    tfp = pytest.importorskip("tensorflow_probability")
    from tensorflow_probability.python.stats import calibration as tfp_calibration

    batches = [(y, p) for y, p, _ in multiclass_batches]
    labels, probabilities = concat(batches, 0), concat(batches, 1)
    value = _stream(lambda y, p: builders.calibration_error(y, p, num_bins=num_bins), batches, kind)
    state = _stream_state(batches, num_bins, kind)
    # TFP computes in float32 only: float64 logits fail in it (it meets them with a float32
    # value range). softmax(log p) is p again up to float32 rounding.
    logits = np.log(probabilities)
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        ece, (counts, mean_confidence) = sess.run(
            [
                tfp.stats.expected_calibration_error(num_bins, logits=logits, labels_true=labels),
                tfp_calibration._compute_calibration_bin_statistics(
                    num_bins, logits=logits, labels_true=labels
                ),
            ]
        )
    # Its counts per bin, of all and of correct predictions, are ours exactly ...
    np.testing.assert_array_equal(state[0], counts.sum(axis=0))
    np.testing.assert_array_equal(state[2], counts[1])
    full = state[0] > 0
    np.testing.assert_allclose(state[1][full] / state[0][full], mean_confidence[full], rtol=1e-6)
    # ... and its ECE ours to float32's precision.
    np.testing.assert_allclose(value, ece, rtol=1e-6, atol=1e-7)
    # Its equation, sum_b n_b / N * |correct_b / n_b - mean confidence_b|, in float64.
    expected = oracle.calibration_error(
        oracle.bins(*oracle.top_label(labels, probabilities), None, num_bins), "l1"
    )
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=0)
    assert value > 0.05  # A miscalibrated stream: the comparison has something to compare.


def test_bins_are_histogram_fixed_width_bins():
    values = np.concatenate([np.arange(0, 1001) / 1000, np.linspace(0, 1, 997)])
    for num_bins in (1, 3, 10, 15, 64):
        with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
            expected = sess.run(
                tf.histogram_fixed_width_bins(
                    tf.constant(values), tf.constant([0.0, 1.0], tf.float64), nbins=num_bins
                )
            )
        counts = np.bincount(expected, minlength=num_bins)
        np.testing.assert_array_equal(oracle.bins(values, values, None, num_bins)[0], counts)
        got = _state(np.zeros(len(values), np.int64), values, num_bins=num_bins)
        np.testing.assert_array_equal(got[0], counts)


# ------------------------------------------------------------------------- NumPy oracles


@pytest.mark.parametrize("kind", parity.STATIC)
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("weighted", [True, False])
def test_multiclass_equals_numpy(multiclass_batches, kind, norm, weighted):
    batches = [(y, p, w if weighted else None) for y, p, w in multiclass_batches]
    weights = concat(multiclass_batches, 2) if weighted else None
    state = oracle.bins(
        *oracle.top_label(concat(batches, 0), concat(batches, 1)), weights, num_bins=10
    )
    value = _stream(
        lambda y, p, w: builders.calibration_error(y, p, w, num_bins=10, norm=norm), batches, kind
    )
    np.testing.assert_allclose(value, oracle.calibration_error(state, norm), rtol=1e-12, atol=0)


@pytest.mark.parametrize("kind", parity.STATIC)
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("column", [False, True])
def test_binary_equals_numpy(binary_batches, kind, norm, column):
    batches = [(y, p[:, None] if column else p, w) for y, p, w in binary_batches]
    state = oracle.bins(
        *oracle.of_class_1(concat(binary_batches, 0), concat(binary_batches, 1)),
        concat(binary_batches, 2),
        num_bins=15,
    )
    value = _stream(lambda y, p, w: builders.calibration_error(y, p, w, norm=norm), batches, kind)
    np.testing.assert_allclose(value, oracle.calibration_error(state, norm), rtol=1e-12, atol=0)


def test_binary_bins_are_scikit_learns_calibration_curve(rng):
    from sklearn.calibration import calibration_curve

    labels = rng.integers(0, 2, 500)
    p = np.clip(rng.beta(2, 2, 500) + 0.15 * (labels - 0.5), 0, 1)  # No value on an edge.
    state = _state(labels, p, num_bins=10)
    prob_true, prob_pred = calibration_curve(labels, p, n_bins=10, strategy="uniform")
    full = state[0] > 0
    np.testing.assert_allclose(state[2][full] / state[0][full], prob_true, rtol=1e-12)
    np.testing.assert_allclose(state[1][full] / state[0][full], prob_pred, rtol=1e-12)
    counts, _ = np.histogram(p, bins=np.linspace(0, 1, 11))
    np.testing.assert_array_equal(state[0], counts)
    _, ece = parity.run_stream(
        lambda y, q: builders.calibration_error(y, q, num_bins=10), [(labels, p)]
    )
    expected = np.sum(counts[full] / 500 * np.abs(prob_true - prob_pred))
    np.testing.assert_allclose(ece, expected, rtol=1e-12)


@pytest.mark.parametrize("kind", parity.STATIC)
def test_sequences_one_hot_and_column_labels(rng, kind):
    p = rng.dirichlet(np.ones(4), size=(6, 3))  # [B, T, C]
    y = rng.integers(0, 4, (6, 3))
    w = rng.uniform(0, 2, 6)  # Per sequence.
    expected = oracle.calibration_error(
        oracle.bins(*oracle.top_label(y, p), np.repeat(w, 3), 5), "l1"
    )
    for labels in (y, np.eye(4)[y]):
        value = _stream(
            lambda a, b, c: builders.calibration_error(a, b, c, num_bins=5), [(labels, p, w)], kind
        )
        np.testing.assert_allclose(value, expected, rtol=1e-12)
    flat = p[:, 0]  # [B, C] with [B, 1] labels and [B, 1] weights.
    value = _stream(
        lambda a, b, c: builders.calibration_error(a, b, c, num_bins=5),
        [(y[:, :1], flat, w[:, None])],
        kind,
    )
    expected = oracle.calibration_error(oracle.bins(*oracle.top_label(y[:, 0], flat), w, 5), "l1")
    np.testing.assert_allclose(value, expected, rtol=1e-12)


# ------------------------------------------------------------------ conventions, by hand


def test_a_hand_computed_stream_in_every_norm():
    # Bins of 0.25. Bin 3: confidences 0.9 (right) and 0.8 (wrong), weights 1 and 3:
    # W 4, accuracy 1/4, confidence 3.3/4, gap 0.575. Bin 2: 0.6 (right), weight 2: gap 0.4.
    labels = [0, 1, 2]
    predictions = [[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.2, 0.2, 0.6]]
    weights = [1.0, 3.0, 2.0]
    expected = {
        "l1": (4 * 0.575 + 2 * 0.4) / 6,
        "l2": np.sqrt((4 * 0.575**2 + 2 * 0.4**2) / 6),
        "max": 0.575,
    }
    for norm, value in expected.items():
        got = _stream(
            lambda y, p, w: builders.calibration_error(y, p, w, num_bins=4, norm=norm),
            [(np.array(labels), np.array(predictions), np.array(weights))],
        )
        assert got == pytest.approx(value, rel=1e-12), norm


@pytest.mark.parametrize("classes", [3, _rows.KEYED_FROM + 4, _rows.GROUPED_FROM, 1000])
def test_ties_go_to_the_first_class_as_fbeta_argmax(classes):
    # Two classes share the largest probability: the first of them is the prediction.
    p = np.full((2, classes), 0.0, np.float32)
    p[:, 1] = p[:, 2] = 0.4
    p[:, 0] = 0.2
    state = _state(np.array([1, 2]), p, num_bins=5)
    np.testing.assert_allclose(state[:, 2], [2, 0.8, 1])  # Label 1 right, label 2 wrong.
    _, fbeta = parity.run_stream(
        lambda y, q: builders.fbeta(y, q, num_classes=classes, average="micro"),
        [(np.array([1, 2]), p)],
    )
    assert fbeta == 0.5  # F-beta's argmax picks class 1 for both rows as well.


@pytest.mark.parametrize("first", [30, 40])  # In another group of 25 than 700, or the same.
def test_ties_across_groups_of_a_wide_row_go_to_the_first_class(first):
    """1,000 classes take the search by groups of 25 (rows.group_width): a row's largest
    probability in two groups, or twice in one, is predicted at its first position."""
    assert _rows.group_width(1000) == 25
    second = 700 if first == 30 else 41
    p = np.full((4, 1000), 0.0005, np.float32)
    p[:, [first, second]] = 0.25
    labels = np.array([first, second, first, 0])
    state = _state(labels, p, num_bins=4)
    np.testing.assert_allclose(state[:, 1], [4, 1.0, 2])  # Bin 1, [0.25, 0.5): 2 right.
    ids = np.asarray(p, np.float64).argmax(axis=1)
    assert (ids == first).all()


def test_bins_are_left_closed_and_one_is_in_the_last():
    p = np.array([0.0, 0.25, 0.5, 0.75, 1.0, np.nextafter(0.5, 0)])
    state = _state(np.ones(6, np.int64), p, num_bins=4)
    np.testing.assert_array_equal(state[0], [1, 2, 1, 2])  # 0 | .25, <.5 | .5 | .75, 1.0


def test_no_data_and_no_weight_give_zero_in_every_norm():
    empty = (np.zeros([0], np.int64), np.zeros([0, 3], np.float32), np.zeros([0], np.float32))
    zero = (np.array([0, 2]), np.full([2, 3], 1 / 3, np.float32), np.zeros([2], np.float32))
    for norm in NORMS:
        before, after = parity.run_stream(
            lambda y, p, w: builders.calibration_error(y, p, w, norm=norm), [empty, zero]
        )
        assert before == 0.0 and after == 0.0


def test_state_stays_exact_past_2_pow_24():
    big = 2.0**24
    first = (np.array([1, 0]), np.array([0.9, 0.3]), np.array([big, big]))
    small = (np.array([1]), np.array([0.9]), np.array([1.0]))
    with tf.Graph().as_default():
        inputs = [parity.placeholder(a) for a in first]
        value, update = builders.reliability_diagram(*inputs, num_bins=10)
        ece, ece_update = builders.calibration_error(*inputs, num_bins=10)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            for batch in [first] + [small] * 100:
                state, _ = sess.run([update, ece_update], dict(zip(inputs, batch)))
            got = sess.run(ece)
    np.testing.assert_array_equal(state[0, [3, 9]], [big, big + 100])
    np.testing.assert_array_equal(state[2, [3, 9]], [0, big + 100])
    # Bin 3: confidence 0.3, wrong, weight 2**24; bin 9: 0.9, right, weight 2**24 + 100.
    expected = (0.3 * big + (1 - 0.9) * (big + 100)) / (2 * big + 100)
    assert got == pytest.approx(expected, rel=1e-12)
    assert value.dtype == tf.string


# ------------------------------------------------------------------------ bad options


NUM_BINS_ERRORS = [
    ({"num_bins": 0}, r"Expected `num_bins` to be an integer >= 1, received num_bins=0"),
    ({"num_bins": -3}, r"`num_bins`.*num_bins=-3"),
    ({"num_bins": 2.5}, r"`num_bins`.*num_bins=2.5"),
    ({"num_bins": True}, r"`num_bins`.*num_bins=True"),
    ({"num_bins": "10"}, r"`num_bins`.*num_bins='10'"),
]
NORM_ERRORS = [
    ({"norm": "l3"}, r"Expected `norm` to be one of 'l1', 'l2' or 'max', received norm='l3'"),
    ({"norm": None}, r"`norm`.*norm=None"),
    ({"norm": 1}, r"`norm`.*norm=1"),
]


@pytest.mark.parametrize(
    ("builder", "options", "match"),
    [("calibration_error", *error) for error in NUM_BINS_ERRORS + NORM_ERRORS]
    + [("reliability_diagram", *error) for error in NUM_BINS_ERRORS],
)
def test_bad_options_raise_value_error_naming_them(builder, options, match):
    with tf.Graph().as_default(), pytest.raises(ValueError, match=match):
        getattr(builders, builder)([0], [[0.6, 0.4]], **options)


# -------------------------------------------------------------------------- bad input


def _run(labels, predictions, weights=None, kind="batch"):
    batch = [labels, predictions] + ([] if weights is None else [weights])
    return parity.run_stream(
        lambda *t: builders.calibration_error(*t), [tuple(batch)], static=kind
    ).after


@pytest.mark.parametrize("kind", parity.STATIC)
@pytest.mark.parametrize("bad", [-0.1, 1.5, np.nan, np.inf])
@pytest.mark.parametrize("binary", [False, True])
def test_predictions_outside_0_1_are_refused_as_average_confidence_refuses_them(kind, bad, binary):
    p = np.array([[0.2, 0.8], [0.6, 0.4]], np.float32)
    p[1, 1] = bad
    labels = np.array([1, 0])
    predictions = p[:, 1] if binary else p
    with pytest.raises(InvalidArgument, match=r"`predictions` must be finite and lie in \[0, 1\]"):
        _run(labels, predictions, kind=kind)
    if not binary:
        with pytest.raises(InvalidArgument, match=r"`predictions` must be finite and lie in"):
            parity.run_stream(lambda q: builders.average_confidence(q), [(p,)], static=kind)


@pytest.mark.parametrize("kind", parity.STATIC)
def test_labels_out_of_range_are_refused_naming_labels(kind):
    p = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]], np.float32)
    with pytest.raises(InvalidArgument, match=r"`labels`.*\[0, (3|C)\)"):
        _run(np.array([1, 3]), p, kind=kind)
    with pytest.raises(InvalidArgument, match=r"`labels`.*\[0, (2|C)\)"):  # Binary: 0 or 1.
        _run(np.array([1, 2]), p[:, 0], kind=kind)
    with pytest.raises(InvalidArgument, match=r"one-hot `labels`|`labels` must be class ids"):
        _run(np.array([[0, 1, 1], [1, 0, 0]]), p, kind=kind)


def test_static_shape_errors_name_the_arguments_and_shapes():
    with tf.Graph().as_default():
        with pytest.raises(
            ValueError, match=r"`predictions` of shape \[B, C\].*received predictions.shape=\(\)"
        ):
            builders.calibration_error([1], 0.5)
        with pytest.raises(
            ValueError,
            match=r"`labels` and `predictions`.*labels.shape=\(3,\), predictions.shape=\(2, 3\)",
        ):
            builders.calibration_error([0, 1, 2], [[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
        with pytest.raises(ValueError, match=r"`weights`"):
            builders.calibration_error([0, 1], [[0.3, 0.7], [0.6, 0.4]], weights=[1.0, 2.0, 3.0])
        with pytest.raises(TypeError, match=r"`predictions` to have a numeric or bool dtype"):
            builders.calibration_error([0], ["a"])  # fmt: skip


@pytest.mark.parametrize("kind", ["none", "unknown"])
def test_run_time_shape_errors_name_the_arguments(kind):
    p = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]], np.float32)
    with pytest.raises(InvalidArgument, match=r"`labels` and `predictions`"):
        _run(np.array([0, 1, 2]), p, kind=kind)
    with pytest.raises(InvalidArgument, match=r"`weights` must be finite and >= 0"):
        _run(np.array([0, 1]), p, np.array([1.0, -1.0]), kind=kind)


def test_eager_use_is_refused_with_where_it_belongs():
    for build in (builders.calibration_error, builders.reliability_diagram):
        with pytest.raises(RuntimeError, match=r"inside a model_fn .*not under eager execution"):
            build([0], [[0.6, 0.4]])


# ----------------------------------------------------------------------------- state


def test_state_is_one_local_float64_variable_summed_across_replicas():
    with tf.Graph().as_default():
        value, update = builders.calibration_error(
            [0], [[0.6, 0.4]], num_bins=7, metrics_collections=["v"], updates_collections=["u"]
        )
        builders.reliability_diagram([0], [[0.6, 0.4]], name="diagram")
        local = tf.compat.v1.local_variables()
        assert tf.compat.v1.global_variables() == []
        assert local == tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.METRIC_VARIABLES)
        assert sorted(v.op.name for v in local) == ["calibration_error/bins", "diagram/bins"]
        assert [v.shape.as_list() for v in local] == [[3, 7], [3, 15]]
        assert {v.dtype.base_dtype for v in local} == {tf.float64}
        for variable in local:
            assert variable.synchronization == tf.VariableSynchronization.ON_READ
            assert variable.aggregation == tf.VariableAggregation.SUM
        assert tf.compat.v1.get_collection("v") == [value]
        assert tf.compat.v1.get_collection("u") == [update]
        assert value.dtype == update.dtype == tf.float64
