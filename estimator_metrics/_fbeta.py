"""`fbeta`: streaming F-beta from one per-class confusion state."""

from __future__ import annotations

import functools
import numbers
from typing import Any, Iterable, Optional

import tensorflow as tf

from estimator_metrics import _classes, _inputs, _state

FBETA = "fbeta"
AVERAGES = ("binary", "micro", "macro", "weighted", None)
#: The state: one float64 variable of shape [3, K], rows true positives, false
#: positives, false negatives; K = C classes, or [3] for the positive class alone
#: when average="binary".
COUNTS = "counts"


def fbeta(
    labels: Any,
    predictions: Any,
    beta: float = 1.0,
    num_classes: Optional[int] = None,
    average: Optional[str] = "binary",
    threshold: float = 0.5,
    weights: Any = None,
    multilabel: bool = False,
    metrics_collections: Optional[Iterable[str]] = None,
    updates_collections: Optional[Iterable[str]] = None,
    name: Optional[str] = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Streaming F-beta score as a `(value, update_op)` pair.

    Equals `sklearn.metrics.fbeta_score(y, y_pred, beta=beta, average=average,
    labels=range(C), sample_weight=w, zero_division=0)` over all batches seen.
    State: one float64 variable `counts` [3, C] of per-class true positives,
    false positives and false negatives ([3], class 1 only, for average="binary").

    Modes, by arguments:
      * binary (`average="binary"`, positive class 1): float probabilities
        [B] or [B, 1] give `y_pred = predictions > threshold`; integer or bool
        predictions are 0/1 ids; with `num_classes=2`, float [B, 2] scores
        give `argmax`.
      * multiclass (`num_classes=C`, `average` micro/macro/weighted/None):
        `argmax` of float [B, C] scores, or integer class ids [B].
      * multilabel (`multilabel=True`): 0/1 labels [B, C], predictions [B, C]
        probabilities (`> threshold`) or 0/1 ids.
      Labels are class ids ([B] or [B, 1]), or one-hot [B, C] in the first two.

    Args:
      labels: True classes, see modes.
      predictions: Scores, probabilities or ids, see modes.
      beta: Weight of recall against precision, > 0.
      num_classes: Number of classes C; needed for multiclass.
      average: "binary", "micro", "macro", "weighted", or None (per-class [C]).
      threshold: Probability cut-off in (0, 1) for probability predictions.
      weights: Optional non-negative per-example weights ([B], scalar, ...).
      multilabel: Whether each example may belong to several classes.
      metrics_collections: Collections to add `value` to.
      updates_collections: Collections to add `update_op` to.
      name: Name scope, default "fbeta".

    Returns:
      `(value, update_op)`: float64 tensors, scalars (or [C] for
      `average=None`); 0.0 while there is no data.

    Example:
      >>> import tensorflow as tf
      >>> from estimator_metrics import builders
      >>> with tf.Graph().as_default():
      ...     f1, update = builders.fbeta([1, 0, 1, 1], [0.9, 0.6, 0.4, 0.8])
      ...     with tf.compat.v1.Session() as sess:
      ...         sess.run(tf.compat.v1.local_variables_initializer())
      ...         _ = sess.run(update)
      ...         print(round(float(sess.run(f1)), 4))
      0.6667
    """
    _state.require_graph("fbeta")
    beta = _inputs.positive_float(beta, "beta")
    threshold = _inputs.open_unit_float(threshold, "threshold")
    _check_mode(num_classes, average, multilabel)
    with tf.compat.v1.name_scope(_inputs.check_name(name, FBETA)):
        labels = _inputs.to_tensor(labels, "labels")
        predictions = _inputs.to_tensor(predictions, "predictions")
        if multilabel:
            true, predicted, num_classes, checks = _classes.multilabel_indicators(
                labels, predictions, num_classes and int(num_classes), threshold
            )
            with tf.control_dependencies(checks):
                increment = _multilabel_counts(true, predicted, weights)
        else:
            scores_allowed = num_classes is not None  # Else: binary probabilities.
            num_classes = int(num_classes or 2)
            label_ids, pred_ids, checks = _classes.single_label_ids(
                labels, predictions, num_classes, threshold, scores_allowed=scores_allowed
            )
            with tf.control_dependencies(checks):
                if average == "binary":
                    increment = _positive_class_counts(label_ids, pred_ids, weights)
                else:
                    increment = _single_label_counts(label_ids, pred_ids, weights, num_classes)
        return _state.streaming_pair(
            [(COUNTS, [3] if average == "binary" else [3, num_classes])],
            [increment],
            functools.partial(fbeta_from_counts, beta=beta, average=average),
            metrics_collections,
            updates_collections,
        )


def fbeta_from_counts(counts, *, beta: float, average: Optional[str]) -> tf.Tensor:
    """F-beta from `counts` [3, C] (tp, fp, fn per class), reduced as sklearn's `average`.

    With average="binary", `counts` is [3]: the positive class's tp, fp, fn.
    """
    tp, fp, fn = tf.unstack(tf.convert_to_tensor(counts))
    beta2 = beta * beta
    if average == "micro":
        tp, fp, fn = (tf.reduce_sum(count) for count in (tp, fp, fn))
    scores = tf.math.divide_no_nan((1 + beta2) * tp, (1 + beta2) * tp + beta2 * fn + fp)
    if average in (None, "micro", "binary"):
        return tf.identity(scores, name="value")
    if average == "macro":
        return tf.reduce_mean(scores, name="value")
    support = tp + fn  # "weighted"
    return tf.math.divide_no_nan(
        tf.reduce_sum(scores * support), tf.reduce_sum(support), name="value"
    )


def _positive_class_counts(label_ids, pred_ids, weights) -> tf.Tensor:
    """Weighted [tp, fp, fn] of class 1 from 0/1 class ids: three sums in one reduction."""
    true, predicted = (tf.reshape(tf.cast(ids, _state.STATE_DTYPE), [-1])
                       for ids in (label_ids, pred_ids))
    both = true * predicted
    indicators = tf.stack([both, predicted - both, true - both])  # [3, N], exact 0/1
    if weights is not None:
        w, weight_checks = _inputs.broadcast_weights(weights, label_ids)
        with tf.control_dependencies(weight_checks):
            indicators *= tf.reshape(w, [-1])
    return tf.reduce_sum(indicators, axis=1)


def _single_label_counts(label_ids, pred_ids, weights, num_classes: int) -> tf.Tensor:
    """Weighted per-class [tp, fp, fn] increments [3, C] from class ids."""
    w, weight_checks = _inputs.broadcast_weights(weights, label_ids)
    with tf.control_dependencies(weight_checks):
        label_ids, pred_ids, w = (tf.reshape(t, [-1]) for t in (label_ids, pred_ids, w))
    hit = tf.cast(tf.equal(label_ids, pred_ids), _state.STATE_DTYPE)
    return tf.stack([
        tf.math.unsorted_segment_sum(w * hit, label_ids, num_classes),
        tf.math.unsorted_segment_sum(w * (1 - hit), pred_ids, num_classes),
        tf.math.unsorted_segment_sum(w * (1 - hit), label_ids, num_classes),
    ])


def _multilabel_counts(true, predicted, weights) -> tf.Tensor:
    """Weighted per-class [tp, fp, fn] increments [3, C] from 0/1 indicators [N, C]."""
    w, weight_checks = _inputs.broadcast_weights(weights, true)
    with tf.control_dependencies(weight_checks):
        return tf.stack([
            tf.reduce_sum(w * true * predicted, axis=0),
            tf.reduce_sum(w * (1 - true) * predicted, axis=0),
            tf.reduce_sum(w * true * (1 - predicted), axis=0),
        ])


def _check_mode(num_classes: Optional[int], average: Optional[str], multilabel: bool) -> None:
    """ValueError for argument combinations that cannot define one F-beta."""
    if not isinstance(multilabel, bool):
        raise TypeError(f"Expected `multilabel` to be a bool, received {multilabel!r}")
    if average not in AVERAGES:
        raise ValueError(
            "Expected `average` to be one of 'binary', 'micro', 'macro', 'weighted' "
            f"or None, received average={average!r}"
        )
    if num_classes is not None and (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, numbers.Integral)
        or num_classes < 2
    ):
        raise ValueError(
            f"Expected `num_classes` to be an integer >= 2 or None, received "
            f"num_classes={num_classes!r}"
        )
    if multilabel and average == "binary":
        raise ValueError(
            "Expected `average` in 'micro', 'macro', 'weighted' or None with "
            "multilabel=True, received average='binary'"
        )
    if not multilabel and average == "binary" and num_classes not in (None, 2):
        raise ValueError(
            "Expected num_classes=None or 2 with average='binary' (positive class 1), "
            f"received num_classes={num_classes}; choose average='micro', 'macro', "
            "'weighted' or None for multiclass"
        )
    if not multilabel and average != "binary" and num_classes is None:
        raise ValueError(
            f"Expected `num_classes` (the number of classes) with average={average!r}, "
            "received num_classes=None"
        )
