"""Bad input: build-time ValueError/TypeError, run-time InvalidArgumentError."""

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics import builders

InvalidArgument = tf.errors.InvalidArgumentError


def _run_update(build, *feeds):
    """Builds with placeholders of a free batch axis, runs one update."""
    with tf.Graph().as_default():
        inputs = [
            tf.compat.v1.placeholder(tf.as_dtype(np.asarray(a).dtype), [None, *np.shape(a)[1:]])
            for a in feeds
        ]
        _, update = build(*inputs)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            return sess.run(update, dict(zip(inputs, feeds)))


def _build(build):
    with tf.Graph().as_default():
        return build()


# ---------------------------------------------------------------- build time


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"beta": -1.0}, r"Expected `beta` > 0, received beta=-1.0"),
        ({"beta": 0}, r"Expected `beta` > 0, received beta=0"),
        ({"beta": float("nan")}, r"Expected `beta` > 0, received beta=nan"),
        (
            {"average": "sideways", "num_classes": 3},
            r"Expected `average` to be one of 'binary', 'micro', 'macro', 'weighted', 'samples' "
            r"or None, received average='sideways'",
        ),
        (
            {"average": "samples", "num_classes": 3},
            r"Expected multilabel=True with average='samples' \(each example's predicted set of "
            r"classes against its true set\), received multilabel=False",
        ),
        (
            {"threshold": 1.0},
            r"Expected `threshold` in the open interval \(0, 1\), received threshold=1.0",
        ),
        ({"threshold": 0}, r"received threshold=0"),
        (
            {"average": "macro"},
            r"Expected `num_classes` .* with average='macro', received num_classes=None",
        ),
        ({"average": None}, r"with average=None, received num_classes=None"),
        (
            {"num_classes": 3},
            r"Expected num_classes=None or 2 with average='binary'.*received num_classes=3",
        ),
        (
            {"num_classes": 1, "average": "macro"},
            r"Expected `num_classes` to be an integer >= 2 or None, received num_classes=1",
        ),
        ({"num_classes": 2.5, "average": "macro"}, r"received num_classes=2.5"),
        ({"multilabel": True}, r"with multilabel=True, received average='binary'"),
        ({"zero_division": 0.5}, r"Expected `zero_division` to be 0, 1 or float\('nan'\), "),
    ],
)
def test_fbeta_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _build(lambda: builders.fbeta([[0, 1]], [[0.2, 0.9]], **kwargs))


@pytest.mark.parametrize(
    "build, error, message",
    [
        (
            lambda: builders.fbeta([1], [1], beta="2"),
            TypeError,
            r"Expected `beta` to be a real number, received str: '2'",
        ),
        (lambda: builders.fbeta([1], [1], multilabel=1), TypeError, r"`multilabel` to be a bool"),
        (
            lambda: builders.mape([1.0], [1.0], epsilon=0.0),
            ValueError,
            r"Expected `epsilon` > 0, received epsilon=0.0",
        ),
        (
            lambda: builders.mape(["a"], [1.0]),
            TypeError,
            r"Expected `labels` to have a numeric or bool dtype, received dtype=string",
        ),
        (
            lambda: builders.mape([1.0], object()),
            TypeError,
            r"Expected `predictions` to be convertible to a tensor, received object",
        ),
        (lambda: builders.mape([1.0], [1.0], name=3), TypeError, r"`name` to be a str"),
    ],
)
def test_argument_types(build, error, message):
    with pytest.raises(error, match=message):
        _build(build)


@pytest.mark.parametrize(
    "build, message",
    [
        (
            lambda: builders.mape(tf.zeros([3]), tf.zeros([4])),
            r"Expected `labels` and `predictions` to have the same shape .*received "
            r"labels.shape=\(3,\), predictions.shape=\(4,\)",
        ),
        (
            lambda: builders.mape(tf.zeros([3, 2]), tf.zeros([3])),
            r"labels.shape=\(3, 2\), predictions.shape=\(3,\)",
        ),
        (
            lambda: builders.mape(tf.zeros([3]), tf.zeros([3]), weights=tf.ones([4])),
            r"Expected `weights` to be a scalar, of length 1, or match the leading axes of "
            r"`labels`; received weights.shape=\(4,\), values shape=\(3,\)",
        ),
        (
            lambda: builders.mape(tf.zeros([3]), tf.zeros([3]), weights=tf.ones([3, 2, 2])),
            r"Expected `weights` to be a scalar.*received weights.shape=\(3, 2, 2\), values "
            r"shape=\(3,\)",
        ),
        (
            lambda: builders.fbeta(
                tf.zeros([4], tf.int32), tf.zeros([4, 7]), num_classes=5, average="macro"
            ),
            r"Expected float `predictions` of shape \[..., num_classes=5\] .*received "
            r"predictions.shape=\(4, 7\)",
        ),
        (
            lambda: builders.fbeta(tf.zeros([4], tf.int32), tf.zeros([4, 2])),
            r"Expected float `predictions` of shape \[B\] or \[B, 1\] \(probabilities of class 1\) "
            r"with num_classes=None; pass num_classes=2 if the last axis holds two class scores.*"
            r"received predictions.shape=\(4, 2\)",
        ),
        (
            lambda: builders.fbeta(
                tf.zeros([4, 3]), tf.zeros([4, 3]), num_classes=4, average="micro", multilabel=True
            ),
            r"Expected multilabel `predictions` of shape \[B, C\] with C = num_classes=4 .*"
            r"received labels.shape=\(4, 3\), predictions.shape=\(4, 3\)",
        ),
        (
            lambda: builders.fbeta(tf.zeros([4]), tf.zeros([4]), average="micro", multilabel=True),
            r"Expected `num_classes` with multilabel=True where the last axis of `labels` and "
            r"`predictions` is not known statically; received labels.shape=\(4,\)",
        ),
        (
            lambda: builders.average_confidence(tf.zeros([4, 1])),
            r"with C >= 2 class probabilities \(for a sigmoid output p pass "
            r"tf.concat\(\[1 - p, p\], axis=-1\)\); received predictions.shape=\(4, 1\)",
        ),
        (lambda: builders.average_confidence(tf.zeros([4])), r"predictions.shape=\(4,\)"),
        (
            lambda: builders.average_confidence(tf.zeros([3, 0])),
            r"C >= 2 class probabilities.*received predictions.shape=\(3, 0\)",
        ),
    ],
)
def test_static_shape_errors_name_the_shapes(build, message):
    with pytest.raises(ValueError, match=message):
        _build(build)


# ------------------------------------------------------------------ run time


@pytest.mark.parametrize(
    "build, feeds, message",
    [
        (
            lambda y, p: builders.mape(y, p),
            ([1.0, 2.0], [1.0, 2.0, 3.0]),
            r"Expected `labels` and `predictions` to have the same shape \(up to a trailing axis "
            r"of size 1\); received\] \[labels.shape=\] \[2\] \[predictions.shape=\] \[3\]",
        ),
        (
            lambda y, p, w: builders.mape(y, p, weights=w),
            ([1.0, 2.0], [1.0, 2.0], [1.0, 1.0, 1.0]),
            r"`weights` must be finite and >= 0, and a scalar, of length 1, or match the leading "
            r"axes of `labels`.*\[weights.shape=\] \[3\] \[values shape=\] \[2\]",
        ),
        (
            lambda y, p: builders.mape(y, p),
            ([1.0, 2.0], [1.0, np.nan]),
            r"`labels` and `predictions` must be finite \(no NaN/Inf\)\] "
            r"\[received sum of errors\] \[nan\]",
        ),
        (
            lambda y, p: builders.mape(y, p),
            ([np.inf, 2.0], [1.0, 1.0]),
            "`labels` and `predictions` must be finite",
        ),
        (
            lambda y, p, w: builders.mape(y, p, weights=w),
            ([1.0, 2.0], [np.inf, 2.0], [0.0, 1.0]),  # A zero weight hides no Inf.
            "`labels` and `predictions` must be finite",
        ),
        (
            lambda y, p, w: builders.mape(y, p, weights=w),
            ([1.0], [1.0], [-0.5]),
            r"`weights` must be finite and >= 0",
        ),
        (
            lambda y, p, w: builders.mape(y, p, weights=w),
            ([1.0], [1.0], [np.nan]),
            r"`weights` must be finite and >= 0",
        ),
        (
            lambda y, p: builders.fbeta(y, p, num_classes=3, average="macro"),
            (np.array([0, 3]), np.array([0, 1])),
            r"`labels` must lie in \[0, 3\)",
        ),
        (
            lambda y, p: builders.fbeta(y, p, num_classes=3, average="macro"),
            (np.array([0, 1]), np.array([-1, 1])),
            r"`predictions` must lie in \[0, 3\)",
        ),
        (
            lambda y, p: builders.fbeta(y, p),
            (np.array([0, 2]), np.array([0.1, 0.9], np.float32)),
            r"`labels` must lie in \[0, 2\)",
        ),
        (
            lambda y, p: builders.fbeta(y, p),
            (np.array([0.5, 1.0]), np.array([0.1, 0.9])),
            r"`labels` must be whole numbers in \[0, 2\)",
        ),
        (
            lambda y, p: builders.fbeta(y, p),
            (np.array([0, 1]), np.array([0.1, 1.5])),
            r"`predictions` must be finite and lie in \[0, 1\]",
        ),
        (
            lambda y, p: builders.fbeta(y, p),
            (np.array([0, 1]), np.array([0.1, np.nan])),
            r"`predictions` must be finite and lie in \[0, 1\]",
        ),
        (
            lambda y, p: builders.fbeta(y, p),
            (np.array([0, 1]), np.array([0.1, np.inf])),
            r"`predictions` must be finite and lie in \[0, 1\]",
        ),
        (
            lambda y, p: builders.fbeta(y, p),
            (np.array([0.0, np.nan]), np.array([0.1, 0.9])),
            r"`labels` must be whole numbers in \[0, 2\)",
        ),
        (
            lambda y, p: builders.fbeta(y, p, num_classes=3, average="macro"),
            (np.array([0.0, np.inf]), np.array([0, 1])),
            r"`labels` must be whole numbers in \[0, 3\)",
        ),
        (
            lambda y, p: builders.fbeta(y, p, num_classes=3, average=None),
            (np.array([0, 1]), np.array([[0.1, np.inf, 0.0], [1.0, 0.0, 0.0]])),
            "`predictions` must be finite",
        ),
        (
            lambda y, p: builders.fbeta(y, p, num_classes=3, average="micro"),
            (np.array([[0, 1, 1], [1, 0, 0]], np.float32), np.array([[0.1, 0.8, 0.1]] * 2)),
            "one-hot `labels` must have exactly one 1 per row",
        ),
        (
            lambda y, p: builders.fbeta(y, p, average="micro", multilabel=True),
            (np.array([[0, 2]]), np.array([[0.1, 0.8]])),
            "`labels` must hold only 0 and 1",
        ),
        (
            lambda y, p: builders.fbeta(y, p, average="micro", multilabel=True),
            (np.array([[0, 1]]), np.array([[0, 3]])),
            "`predictions` must hold only 0 and 1",
        ),
        (
            lambda y, p, w: builders.fbeta(y, p, weights=w),
            (np.array([0, 1]), np.array([0, 1]), np.array([1.0, -1.0])),
            r"`weights` must be finite and >= 0",
        ),
        (
            lambda y, p, w: builders.fbeta(y, p, weights=w),
            (np.array([0, 1]), np.array([0.2, 0.7]), np.array([1.0, np.inf])),
            r"`weights` must be finite and >= 0",
        ),
        (
            lambda y, p, w: builders.fbeta(y, p, num_classes=3, average="weighted", weights=w),
            (np.array([0, 1]), np.array([0, 2]), np.array([np.nan, 1.0])),
            r"`weights` must be finite and >= 0",
        ),
        (
            lambda p: builders.average_confidence(p),
            (np.array([[0.5, np.nan]]),),
            r"`predictions` must be finite and lie in \[0, 1\]",
        ),
        (
            lambda p: builders.average_confidence(p),
            (np.array([[0.5, 1.5]]),),
            r"`predictions` must be finite and lie in \[0, 1\]",
        ),
        (
            lambda p, w: builders.average_confidence(p, weights=w),
            (np.array([[0.5, 0.5]]), np.array([-1.0])),
            r"`weights` must be finite and >= 0",
        ),
    ],
)
def test_data_errors_raise_invalid_argument_at_run_time(build, feeds, message):
    with pytest.raises(InvalidArgument, match=message):
        _run_update(build, *feeds)


def test_logits_passed_as_binary_probabilities_are_refused_not_thresholded():
    # A common bug: logits instead of probabilities; > 0.5 would be silently wrong.
    with pytest.raises(InvalidArgument, match=r"`predictions` must be finite and lie in \[0, 1\]"):
        _run_update(lambda y, p: builders.fbeta(y, p), np.array([1, 0]), np.array([2.3, -1.2]))


def test_valid_dynamic_shapes_pass_the_same_checks():
    value = _run_update(
        lambda y, p, w: builders.fbeta(y, p, num_classes=3, average="macro", weights=w),
        np.array([[0], [2]]),
        np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]),
        np.array([1.0, 2.0]),
    )
    assert value == pytest.approx(2 / 3)
