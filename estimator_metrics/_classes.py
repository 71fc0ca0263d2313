"""Turns F-beta inputs into class ids or 0/1 indicators, with their checks."""

from __future__ import annotations

from typing import Optional

import tensorflow as tf

from estimator_metrics import _inputs
from estimator_metrics._state import STATE_DTYPE


def single_label_ids(
    labels: tf.Tensor,
    predictions: tf.Tensor,
    num_classes: int,
    threshold: float,
    scores_allowed: bool,
) -> tuple[tf.Tensor, tf.Tensor, list]:
    """int64 class ids (true, predicted) of equal shape, and their checks.

    predictions: float [..., C] scores (argmax; when `scores_allowed`), float
    probabilities of the positive class (C == 2; thresholded), or integer/bool
    class ids. labels: class ids (any numeric dtype), or one-hot [..., C].
    """
    checks = []
    is_scores = (
        predictions.dtype.is_floating
        and scores_allowed
        and predictions.shape.rank >= 1
        and predictions.shape[-1] == num_classes
    )
    if is_scores:
        checks += _inputs.assert_finite(predictions, "predictions")
        with tf.control_dependencies(checks):
            pred_ids = tf.argmax(predictions, axis=-1)
    elif predictions.dtype.is_floating:
        if num_classes != 2:
            raise ValueError(
                f"Expected float `predictions` of shape [..., num_classes={num_classes}] "
                f"(scores) or integer class ids, received predictions.shape="
                f"{predictions.shape} with dtype={predictions.dtype.name}"
            )
        pred_ids, prob_checks = threshold_probabilities(predictions, threshold)
        checks += prob_checks
    else:
        pred_ids = predictions
    if _is_one_hot(labels, pred_ids, num_classes):
        label_ids, one_hot_checks = _one_hot_to_ids(labels)
        checks += one_hot_checks
    else:
        label_ids = labels
    label_ids, pred_ids, shape_checks = _inputs.align(label_ids, pred_ids)
    checks += shape_checks
    label_ids, label_checks = _class_ids(label_ids, num_classes, "labels")
    if predictions.dtype.is_floating:  # argmax or threshold: int64 in [0, C) by construction.
        pred_checks = []
    else:
        pred_ids, pred_checks = _class_ids(pred_ids, num_classes, "predictions")
    return label_ids, pred_ids, checks + label_checks + pred_checks


def multilabel_indicators(
    labels: tf.Tensor, predictions: tf.Tensor, num_classes: Optional[int], threshold: float
) -> tuple[tf.Tensor, tf.Tensor, int, list]:
    """float64 0/1 indicators [N, C] (true, predicted), C, and their checks."""
    labels, predictions, checks = _inputs.align(labels, predictions)
    num_labels = predictions.shape[-1] if predictions.shape.rank else None
    if predictions.shape.rank < 2 or (num_classes or num_labels) is None:
        raise ValueError(
            "Expected multilabel `labels` and `predictions` of shape [B, C] with C "
            f"known statically or given as `num_classes`, received labels.shape="
            f"{labels.shape}, predictions.shape={predictions.shape}, num_classes={num_classes}"
        )
    if num_classes is not None and num_labels not in (None, num_classes):
        raise ValueError(
            f"Expected multilabel `predictions` with last axis num_classes={num_classes}, "
            f"received predictions.shape={predictions.shape}"
        )
    num_classes = num_classes or num_labels
    if predictions.dtype.is_floating:
        predicted, prob_checks = threshold_probabilities(predictions, threshold)
        checks += prob_checks
    else:
        predicted = predictions
    true, label_checks = _zero_one(labels, "labels")
    predicted, pred_checks = _zero_one(predicted, "predictions")
    checks += label_checks + pred_checks
    with tf.control_dependencies(checks):
        true = tf.reshape(tf.cast(true, STATE_DTYPE), [-1, num_classes])
        predicted = tf.reshape(tf.cast(predicted, STATE_DTYPE), [-1, num_classes])
    return true, predicted, num_classes, checks


def threshold_probabilities(probabilities: tf.Tensor, threshold: float) -> tuple[tf.Tensor, list]:
    """int64 `probabilities > threshold`, after checking they are in [0, 1]."""
    checks = _inputs.assert_probabilities(probabilities, "predictions")
    with tf.control_dependencies(checks):
        return tf.cast(probabilities > threshold, tf.int64), checks


def _is_one_hot(labels: tf.Tensor, pred_ids: tf.Tensor, num_classes: int) -> bool:
    return (
        labels.shape.rank == pred_ids.shape.rank + 1
        and labels.shape[-1] == num_classes
        and num_classes > 1
    )


def _one_hot_to_ids(labels: tf.Tensor) -> tuple[tf.Tensor, list]:
    values, checks = _zero_one(labels, "labels")
    row_sums = tf.reduce_sum(tf.cast(values, tf.float64), axis=-1)
    checks.append(
        tf.debugging.assert_equal(
            row_sums,
            tf.ones_like(row_sums),
            message="one-hot `labels` must have exactly one 1 per row",
        )
    )
    with tf.control_dependencies(checks):
        return tf.argmax(values, axis=-1), checks


def _zero_one(tensor: tf.Tensor, arg: str) -> tuple[tf.Tensor, list]:
    """Checks that every value is 0 or 1."""
    if tensor.dtype.is_bool:
        return tensor, []
    as_float = tf.cast(tensor, tf.float64)
    ok = tf.reduce_all(tf.logical_or(tf.equal(as_float, 0.0), tf.equal(as_float, 1.0)))
    check = tf.debugging.Assert(
        ok, [f"`{arg}` must hold only 0 and 1, received:", tensor], summarize=20
    )
    return tensor, [check]


def _class_ids(ids: tf.Tensor, num_classes: int, arg: str) -> tuple[tf.Tensor, list]:
    """int64 ids after checking they are in [0, num_classes) (and whole, if float)."""
    # int32/int64 ids compare as they are; other dtypes (bool, uint8, floats) in float64,
    # where 0 and num_classes are exact. Float ids also must be whole (so not NaN).
    comparable = ids if ids.dtype in (tf.int32, tf.int64) else tf.cast(ids, tf.float64)
    checks = _inputs.assert_in_range(
        comparable, 0, num_classes, arg, closed_high=False, whole=ids.dtype.is_floating
    )
    with tf.control_dependencies(checks):
        return tf.cast(ids, tf.int64), checks
