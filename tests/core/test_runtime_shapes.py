"""Shapes known only at run time: the number is right, or the update fails naming the argument.

Inputs come through placeholders whose dimensions are `None` (as `tf.data`, `padded_batch`
and `tf.io.parse_example` hand them over) or whose shape is unknown altogether
(`placeholder(shape=None)`, `tf.numpy_function`); every value is checked against
scikit-learn/NumPy, every refusal against the message it must carry.
"""

import numpy as np
import pytest
import tensorflow as tf
from sklearn import metrics

from estimator_metrics import adapter, builders
from estimator_metrics._core import parity
from estimator_metrics.keras_metrics import AverageConfidence

InvalidArgument = tf.errors.InvalidArgumentError


def fbeta_score(y, y_pred, *, beta=1.0, **kwargs):
    return metrics.fbeta_score(y, y_pred, beta=beta, **kwargs)


ALL_NONE = "none"  # Every dimension None, the rank known.
UNKNOWN = "unknown"  # shape=None: not even the rank is known.
LAYOUTS = (ALL_NONE, UNKNOWN)


def run(build, batches, layout=ALL_NONE):
    """The value after updating over `batches` (tuples of arrays) fed to `layout` placeholders."""
    return parity.run_stream(build, batches, static=layout).after


Y = np.array([1, 0, 0, 0])
ONE_HOT = np.eye(2, dtype=np.float32)[Y]
TWO_COLUMNS = np.array([[0.2, 0.8], [0.3, 0.7], [0.6, 0.4], [0.9, 0.1]], np.float32)


# ------------------------------------------------- one-hot labels, two-column scores (item 1)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    "average, expected", [("binary", 2 / 3), ("macro", (0.8 + 2 / 3) / 2), (None, [0.8, 2 / 3])]
)
def test_one_hot_labels_with_two_column_scores_of_unknown_width(layout, average, expected):
    # The numbers, which are scikit-learn's.
    np.testing.assert_allclose(fbeta_score(Y, TWO_COLUMNS.argmax(1), average=average), expected)
    value = run(
        lambda y, p: builders.fbeta(y, p, num_classes=2, average=average),
        [(ONE_HOT, TWO_COLUMNS)],
        layout,
    )
    np.testing.assert_allclose(value, expected, rtol=1e-12)


def test_two_column_float_predictions_without_num_classes_are_refused_statically():
    # Static [4, 2] with num_classes=None used to be scored elementwise (accuracy, 0.75).
    with (
        tf.Graph().as_default(),
        pytest.raises(
            ValueError,
            match=(
                r"Expected float `predictions` of shape \[B\] or \[B, 1\].*pass num_classes=2.*"
                r"received predictions.shape=\(4, 2\)"
            ),
        ),
    ):
        builders.fbeta(ONE_HOT, TWO_COLUMNS)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_two_column_predictions_without_num_classes_are_refused_at_run_time(layout):
    with pytest.raises(
        InvalidArgument,
        match=r"Expected float `predictions` of shape \[B\] or "
        r"\[B, 1\] \(probabilities of class 1\) with num_classes=None",
    ):
        run(lambda y, p: builders.fbeta(y, p), [(ONE_HOT, TWO_COLUMNS)], layout)


@pytest.mark.parametrize("layout", ("static",) + LAYOUTS)
def test_one_hot_labels_against_one_probability_column(layout):
    # README: binary with num_classes=2 takes one-hot [B, 2] labels and [B, 1] probabilities.
    column = TWO_COLUMNS[:, 1:]
    build = lambda y, p: builders.fbeta(y, p, num_classes=2)
    if layout == "static":
        with tf.Graph().as_default():
            value, update = build(tf.constant(ONE_HOT), tf.constant(column))
            with tf.compat.v1.Session() as session:
                session.run(tf.compat.v1.local_variables_initializer())
                session.run(update)
                value = session.run(value)
    else:
        value = run(build, [(ONE_HOT, column)], layout)
    np.testing.assert_allclose(value, fbeta_score(Y, column[:, 0] > 0.5), rtol=1e-12)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_logits_are_scores_where_the_class_axis_is_two_wide_at_run_time(layout):
    logits = np.log(TWO_COLUMNS) * 3.0  # Outside [0, 1]; must not be refused as probabilities.
    value = run(lambda y, p: builders.fbeta(y, p, num_classes=2), [(Y, logits)], layout)
    np.testing.assert_allclose(value, 2 / 3, rtol=1e-12)
    with pytest.raises(
        InvalidArgument,
        match=r"`predictions` must be finite scores \(\[\.\.\., "
        r"2\]\) or probabilities in \[0, 1\]",
    ):
        run(lambda y, p: builders.fbeta(y, p, num_classes=2), [(Y, logits[:, 1:])], layout)


# ------------------------------------------------------- every dimension None: computed


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("one_hot", [False, True])
def test_multiclass_scores_with_num_classes_and_every_dimension_unknown(rng, layout, one_hot):
    batches, ys, ps, ws = [], [], [], []
    for size in (7, 0, 12):
        y = rng.integers(0, 5, size)
        p = rng.normal(size=(size, 5)).astype(np.float32)  # Logits.
        w = rng.uniform(0, 2, size)
        batches.append((np.eye(5)[y] if one_hot else y, p, w))
        ys.append(y), ps.append(p), ws.append(w)
    y, p, w = (np.concatenate(a) for a in (ys, ps, ws))
    value = run(
        lambda y, p, w: builders.fbeta(y, p, w, num_classes=5, average="macro"), batches, layout
    )
    expected = fbeta_score(
        y, p.argmax(1), average="macro", labels=range(5), sample_weight=w, zero_division=0
    )
    np.testing.assert_allclose(value, expected, rtol=1e-12)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sequences_of_scores_and_tag_ids(rng, layout):
    # NER: labels [B, T] tag ids, predictions [B, T, C] scores, weights [B, T] (a mask).
    y = rng.integers(0, 4, (3, 6))
    p = rng.normal(size=(3, 6, 4)).astype(np.float32)
    mask = (rng.uniform(size=(3, 6)) > 0.3).astype(np.float32)
    value = run(
        lambda y, p, w: builders.fbeta(y, p, w, num_classes=4, average="micro"),
        [(y, p, mask)],
        layout,
    )
    expected = fbeta_score(
        y.ravel(), p.argmax(-1).ravel(), average="micro", sample_weight=mask.ravel()
    )
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    per_sentence = np.array([1.0, 0.0, 2.0])  # [B] weights over [B, T] ids.
    value = run(
        lambda y, p, w: builders.fbeta(y, p, w, num_classes=4, average="micro"),
        [(y, p, per_sentence)],
        layout,
    )
    expected = fbeta_score(
        y.ravel(), p.argmax(-1).ravel(), average="micro", sample_weight=np.repeat(per_sentence, 6)
    )
    np.testing.assert_allclose(value, expected, rtol=1e-12)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("labels_shape", ["[B]", "[B, 1]"])
def test_binary_probabilities_and_ids_of_unknown_shape(rng, layout, labels_shape):
    y = rng.integers(0, 2, 20)
    p = rng.uniform(size=(20, 1)).astype(np.float32)
    labels = y if labels_shape == "[B]" else y[:, None]
    value = run(lambda y, p: builders.fbeta(y, p, beta=2.0), [(labels, p)], layout)
    np.testing.assert_allclose(value, fbeta_score(y, p[:, 0] > 0.5, beta=2.0), rtol=1e-12)
    value = run(
        lambda y, p: builders.fbeta(y, p), [(labels, (p[:, 0] > 0.5).astype(np.int64))], layout
    )
    np.testing.assert_allclose(value, fbeta_score(y, p[:, 0] > 0.5), rtol=1e-12)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_mape_of_b_against_b1_and_length_1_weights(rng, layout):
    y = rng.uniform(1, 5, 9)
    p = (y * rng.uniform(0.8, 1.2, 9))[:, None]
    value = run(lambda y, p, w: builders.mape(y, p, w), [(y, p, np.array([3.0]))], layout)
    np.testing.assert_allclose(value, 100 * np.mean(np.abs(y - p[:, 0]) / y), rtol=1e-12)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_average_confidence_of_unknown_shape(rng, layout):
    p = rng.dirichlet(np.ones(3), size=8)
    w = rng.uniform(size=8)
    value = run(lambda p, w: builders.average_confidence(p, w), [(p, w)], layout)
    np.testing.assert_allclose(value, np.sum(w * p.max(1)) / w.sum(), rtol=1e-12)


# -------------------------------------------------------- refused, naming the argument


@pytest.mark.parametrize("layout", LAYOUTS)
def test_multilabel_width_is_checked_against_num_classes_at_run_time(rng, layout):
    # Item 2: six columns fed where num_classes=3; once silently two rows of three.
    y = rng.integers(0, 2, (4, 6))
    p = rng.uniform(size=(4, 6)).astype(np.float32)
    build = lambda y, p: builders.fbeta(y, p, num_classes=3, average="macro", multilabel=True)
    with pytest.raises(
        InvalidArgument,
        match=r"Expected multilabel `predictions` of shape "
        r"\[B, C\] with C = num_classes=3.*predictions.shape=\] \[4 6\]",
    ):
        run(build, [(y, p)], layout)
    value = run(
        lambda y, p: builders.fbeta(y, p, num_classes=6, average="macro", multilabel=True),
        [(y, p)],
        layout,
    )
    np.testing.assert_allclose(
        value, fbeta_score(y, p > 0.5, average="macro", zero_division=0), rtol=1e-12
    )


def test_multilabel_without_a_known_width_asks_for_num_classes():
    with tf.Graph().as_default():
        y = tf.compat.v1.placeholder(tf.int64, [None, None])
        p = tf.compat.v1.placeholder(tf.float32, [None, None])
        with pytest.raises(ValueError, match=r"Expected `num_classes` with multilabel=True"):
            builders.fbeta(y, p, average="micro", multilabel=True)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("columns", [0, 1])
def test_average_confidence_needs_two_columns_at_run_time(layout, columns):
    # Items 3 and 5: [B, 0] gave -inf, a [B, 1] sigmoid column gave mean(p).
    p = np.full((3, columns), 0.7, np.float32)
    with pytest.raises(
        InvalidArgument,
        match=r"Expected `predictions` of shape \[B, C\] with C "
        r">= 2 class probabilities.*predictions.shape=\] \[3 " + str(columns),
    ):
        run(lambda p: builders.average_confidence(p), [(p,)], layout)


@pytest.mark.parametrize("columns", [0, 1])
def test_average_confidence_needs_two_columns_statically_and_in_keras(columns):
    p = np.full((3, columns), 0.7, np.float32)
    with tf.Graph().as_default(), pytest.raises(ValueError, match=r"C >= 2 class probabilities"):
        builders.average_confidence(p)
    with pytest.raises(ValueError, match=r"C >= 2 class probabilities"):
        AverageConfidence().update_state(None, p)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_scores_narrower_than_num_classes_are_refused(layout):
    with pytest.raises(
        InvalidArgument,
        match=r"Expected float `predictions` of shape \[\.\.\., "
        r"num_classes=5\].*predictions.shape=\] \[4 2\]",
    ):
        run(
            lambda y, p: builders.fbeta(y, p, num_classes=5, average="micro"),
            [(Y, TWO_COLUMNS)],
            layout,
        )


@pytest.mark.parametrize("layout", LAYOUTS)
def test_one_hot_width_other_than_num_classes_is_refused(layout):
    labels = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    with pytest.raises(
        InvalidArgument,
        match=r"`labels` must be class ids in \[0, 5\) or, with "
        r"one axis more than the predicted ids, one-hot rows of width 5|`labels` "
        r"must lie in \[0, 5\)|Expected `labels` and `predictions` to hold the "
        r"same examples",
    ):
        run(
            lambda y, p: builders.fbeta(y, p, num_classes=5, average="micro"),
            [(labels, np.zeros((4, 5), np.float32))],
            layout,
        )


@pytest.mark.parametrize("layout", LAYOUTS)
def test_mape_shapes_that_differ_at_run_time_name_both_inputs(layout):
    with pytest.raises(
        InvalidArgument,
        match=r"Expected `labels` and `predictions` to have the "
        r"same shape \(up to a trailing axis of size 1\); received\] "
        r"\[labels.shape=\] \[4\] \[predictions.shape=\] \[4 3\]",
    ):
        run(lambda y, p: builders.mape(y, p), [(np.ones(4), np.ones((4, 3)))], layout)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_weights_whose_length_differs_at_run_time_are_named(layout):
    with pytest.raises(
        InvalidArgument,
        match=r"`weights` must be finite and >= 0, and a scalar, "
        r"of length 1, or match the leading axes of `labels`.*\[weights.shape=\] "
        r"\[3\] \[values shape=\] \[4\]",
    ):
        run(lambda y, p, w: builders.mape(y, p, w), [(np.ones(4), np.ones(4), np.ones(3))], layout)


def test_per_class_refuses_repeated_class_names():
    # Item 4: ["a", "a", "b"] gave two entries, dropping a class.
    with tf.Graph().as_default():
        pair = builders.fbeta([0, 1, 2], [0, 1, 2], num_classes=3, average=None)
        with pytest.raises(
            ValueError,
            match=r"Expected distinct class_names for 'f1', received "
            r"\['a', 'a', 'b'\] \(repeated: \['a'\]\)",
        ):
            adapter.per_class("f1", pair, class_names=["a", "a", "b"])
