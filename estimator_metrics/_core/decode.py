"""Decodes F-beta inputs into flat class ids or 0/1 indicators, with their checks.

Which layout an input has (scores or probabilities, one-hot or ids) is decided from the
arguments and the static shape where they settle it, else from the shape at run time (see
`shapes`). Every decision taken at run time is checked by an `Assert` naming the argument
(`checks`).
"""

from __future__ import annotations

import tensorflow as tf

from estimator_metrics._core import checks as _checks
from estimator_metrics._core import rows as _rows
from estimator_metrics._core import shapes as _shapes
from estimator_metrics._core.shapes import all_of, any_of, at_least, equal, negate
from estimator_metrics._core.state import STATE_DTYPE


def single_label_ids(
    labels: tf.Tensor, predictions: tf.Tensor, num_classes: int | None, threshold: float
) -> tuple[tf.Tensor, tf.Tensor, _shapes.Dims, list]:
    """Flat int64 class ids [N] (true, predicted), the labels' id shape, and the checks.

    predictions: float [..., C] scores (argmax; needs `num_classes`), float probabilities
    of class 1, [B] or [B, 1] (C == 2 or None; thresholded), or integer/bool class ids.
    labels: class ids (any numeric dtype), or one-hot with one axis more than the ids.
    `num_classes=None` means binary from probabilities or ids (C = 2, no scores).
    """
    pred_ids, pred_shape, checks = _prediction_ids(predictions, num_classes, threshold)
    label_ids, label_shape, label_checks = label_ids_for(
        labels, predictions, pred_shape, num_classes or 2
    )
    return label_ids, pred_ids, label_shape, checks + label_checks


def label_ids_for(
    labels: tf.Tensor, predictions: tf.Tensor, pred_shape: _shapes.Dims, num_classes: _shapes.Dim
) -> tuple[tf.Tensor, _shapes.Dims, list]:
    """Flat int64 true ids [N] of `labels` for predicted ids of shape `pred_shape`, the
    labels' id shape (canonical), and the checks.

    labels: class ids in [0, num_classes) (any numeric dtype), or one-hot with one axis
    more than the predicted ids. `num_classes` is an int, or a scalar int32 tensor where only
    the data tell C (the width of probabilities fed with an unknown class axis).
    """
    # One-hot labels have one axis more than the predicted ids, counted with or without a
    # trailing axis of size 1 ([B, 1] ids, or sequences of length 1).
    canonical = _shapes.canonical(pred_shape)
    label_ids, label_shape, checks = _label_ids(
        labels, {_shapes.rank(pred_shape), _shapes.rank(canonical)}, num_classes
    )
    label_shape = _shapes.canonical(label_shape)
    checks += _checks.require(
        _shapes.same(label_shape, canonical),
        "Expected `labels` and `predictions` to hold the same examples: class ids of one "
        "shape (up to a trailing axis of size 1), labels optionally one-hot with one more "
        "axis, float predictions with one more (class) axis",
        {"labels.shape": labels, "predictions.shape": predictions},
    )
    return label_ids, label_shape, checks


def multilabel_indicators(
    labels: tf.Tensor, predictions: tf.Tensor, num_classes: int | None, threshold: float
) -> tuple[tf.Tensor, tf.Tensor, int, _shapes.Dims, list]:
    """float64 0/1 indicators [N, C] (true, predicted), C, the labels' shape, the checks."""
    pred_shape, label_shape = _shapes.dims(predictions), _shapes.dims(labels)
    received = {"labels.shape": labels, "predictions.shape": predictions}
    widths = [s[-1] for s in (pred_shape, label_shape) if isinstance(s, list) and len(s) >= 2]
    known = [w for w in widths if isinstance(w, int)]
    classes = num_classes or (known[0] if known else None)
    if classes is None:
        raise ValueError(
            "Expected `num_classes` with multilabel=True where the last axis of `labels` "
            f"and `predictions` is not known statically; received labels.shape={labels.shape}, "
            f"predictions.shape={predictions.shape}"
        )
    checks = _checks.require(
        all_of(
            at_least(_shapes.rank(pred_shape), 2),
            equal(_shapes.last(pred_shape), classes),
            classes >= 2,
        ),
        f"Expected multilabel `predictions` of shape [B, C] with C = num_classes={classes} "
        "(>= 2) columns",
        received,
    )
    checks += _checks.require(
        _shapes.same(label_shape, pred_shape),
        "Expected multilabel `labels` of the shape of `predictions`",
        received,
    )
    if predictions.dtype.is_floating:
        checks += _checks.assert_probabilities(predictions, "predictions")
        predicted = predictions > threshold
    else:
        checks += _zero_one(predictions, "predictions")
        predicted = predictions
    checks += _zero_one(labels, "labels")
    with tf.control_dependencies(checks):
        true, predicted = (
            _shapes.flat(tf.cast(t, STATE_DTYPE), [classes]) for t in (labels, predicted)
        )
    return true, predicted, classes, label_shape, checks


def _prediction_ids(
    predictions: tf.Tensor, num_classes: int | None, threshold: float
) -> tuple[tf.Tensor, _shapes.Dims, list]:
    """Flat int64 predicted ids, their shape (without a class axis), and the checks."""
    shape = _shapes.dims(predictions)
    if not predictions.dtype.is_floating:
        checks = _class_id_checks(predictions, num_classes or 2, "predictions")
        with tf.control_dependencies(checks):
            return _shapes.flat(tf.cast(predictions, tf.int64)), shape, checks
    rank, width = _shapes.rank(shape), _shapes.last(shape)
    has_axis = at_least(rank, 2)  # A last axis that is not an example axis.
    if num_classes is None:
        expected = (
            "float `predictions` of shape [B] or [B, 1] (probabilities of class 1) "
            "with num_classes=None; pass num_classes=2 if the last axis holds two "
            "class scores, or multilabel=True for one probability per column"
        )
        ok, is_scores = all_of(at_least(rank, 1), any_of(negate(has_axis), equal(width, 1))), False
    elif num_classes == 2:
        expected = (
            "float `predictions` of shape [..., 2] (scores: argmax) or [B] / [B, 1] "
            "(probabilities of class 1) with num_classes=2"
        )
        ok = all_of(at_least(rank, 1), any_of(negate(has_axis), equal(width, 1), equal(width, 2)))
        is_scores = all_of(has_axis, equal(width, 2))
    else:
        expected = (
            f"float `predictions` of shape [..., num_classes={num_classes}] (scores: "
            "argmax) or integer class ids"
        )
        ok, is_scores = all_of(has_axis, equal(width, num_classes)), True
    checks = _checks.require(ok, f"Expected {expected}", {"predictions.shape": predictions})
    if is_scores is True:
        # The shape check first: a reshape to the wrong width may well succeed.
        with tf.control_dependencies(checks):
            ids, check = _rows.row_argmax(tf.reshape(predictions, [-1, num_classes]))
        checks += _checks.assert_check(check, "`predictions` must be finite (no NaN/Inf)")
        with tf.control_dependencies(checks):
            return tf.identity(ids), _shapes.leading(shape, has_axis), checks
    # Scores may be logits (only finite); probabilities must lie in [0, 1]. Where the width
    # decides at run time ([B, None] with num_classes=2), the one Assert follows it.
    if is_scores is False:
        message = "`predictions` must be finite and lie in [0, 1]"
    else:
        message = (
            "`predictions` must be finite scores ([..., 2]) or probabilities in [0, 1] "
            "([B] or [B, 1])"
        )
    check = _checks.either(
        is_scores,
        lambda: _checks.finite(predictions),
        lambda: _checks.unit_interval(predictions),
    )
    checks += _checks.assert_check(check, message)
    with tf.control_dependencies(checks):
        if has_axis is False:  # [B] probabilities.
            ids = tf.cast(_shapes.flat(predictions) > threshold, tf.int64)
        else:  # Rows of the last axis, 1 or 2 wide where only known at run time.
            rows = tf.reshape(
                predictions,
                _shapes.as_vector([-1, _shapes.select(has_axis, lambda: width, lambda: 1)]),
            )
            ids = _shapes.select(
                is_scores,
                lambda: tf.argmax(rows, axis=1),
                lambda: tf.cast(rows[:, 0] > threshold, tf.int64),
            )
    return ids, _shapes.leading(shape, has_axis), checks


def _label_ids(
    labels: tf.Tensor, pred_ranks: set, num_classes: _shapes.Dim
) -> tuple[tf.Tensor, _shapes.Dims, list]:
    """Flat int64 true ids, their shape, and the checks.

    One-hot where `labels` has one axis more than the predicted ids (of any of `pred_ranks`)
    and that axis is C wide; else class ids.
    """
    shape = _shapes.dims(labels)
    width = _shapes.last(shape)
    rank = _shapes.rank(shape)
    one_hot = all_of(any_of(*(equal(rank, r + 1) for r in pred_ranks)), equal(width, num_classes))
    if one_hot is False:
        checks = _class_id_checks(labels, num_classes, "labels")
        with tf.control_dependencies(checks):
            return _shapes.flat(tf.cast(labels, tf.int64)), shape, checks
    # [N, C] one-hot rows; where decided at run time, [N, C] or [N, 1] (ids in column 0).
    if one_hot is True:
        rows = tf.reshape(labels, [-1, num_classes])
        message = "one-hot `labels` must have exactly one 1 per row, 0 elsewhere"
    else:
        rows = tf.reshape(labels, _shapes.as_vector([-1, tf.where(one_hot, width, 1)]))
        message = (
            f"`labels` must be class ids in [0, {_text(num_classes)}) or, with one axis "
            f"more than the predicted ids, one-hot rows of width {_text(num_classes)}"
        )
    # The argmax of one-hot rows serves the check too (the row must hold its 1 there).
    hot = tf.argmax(rows, axis=1)
    check = _checks.either(
        one_hot, lambda: _checks.one_hot(rows, hot), lambda: _id_check(rows[:, 0], num_classes)
    )
    checks = _checks.assert_check(check, message)
    with tf.control_dependencies(checks):
        ids = _shapes.select(
            one_hot, lambda: tf.identity(hot), lambda: tf.cast(rows[:, 0], tf.int64)
        )
    return ids, _shapes.leading(shape, one_hot), checks


def _id_check(ids: tf.Tensor, num_classes: _shapes.Dim) -> _checks.Check:
    """Ids in [0, num_classes) (and whole numbers, if float); the error reports a C known
    only at run time."""
    # int32/int64 ids compare as they are; other dtypes (bool, uint8, floats) in float64,
    # where 0 and num_classes are exact. Float ids also must be whole (so not NaN).
    comparable = ids if ids.dtype in (tf.int32, tf.int64) else tf.cast(ids, tf.float64)
    check = _checks.in_range(
        comparable, 0, num_classes, closed_high=False, whole=ids.dtype.is_floating
    )
    if isinstance(num_classes, int):
        return check
    return _checks.Check(check.valid, [*check.data, "C", num_classes])


def _class_id_checks(ids: tf.Tensor, num_classes: _shapes.Dim, arg: str) -> list:
    message = _checks.range_message(
        arg, 0, _text(num_classes), closed_high=False, whole=ids.dtype.is_floating
    )
    return _checks.assert_check(_id_check(ids, num_classes), message)


def _text(num_classes: _shapes.Dim) -> str:
    """C as messages show it: the number, or "C" where only the data tell it."""
    return str(num_classes) if isinstance(num_classes, int) else "C"


def _zero_one(tensor: tf.Tensor, arg: str) -> list:
    """Checks that every value is 0 or 1."""
    if tensor.dtype.is_bool:
        return []
    return _checks.assert_in_range(
        tf.cast(tensor, tf.float64),
        0,
        1,
        arg,
        closed_high=True,
        whole=True,
        message=f"`{arg}` must hold only 0 and 1",
    )
