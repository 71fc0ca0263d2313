"""`fbeta`: streaming F-beta from one per-class confusion state."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import tensorflow as tf

from estimator_metrics._core import arguments as _arguments
from estimator_metrics._core import decode as _decode
from estimator_metrics._core import inputs as _inputs
from estimator_metrics._core import state as _state
from estimator_metrics._core.keys import MetricKeys

FBETA = MetricKeys.FBETA
AVERAGES = _arguments.AVERAGES
#: The state: one float64 variable of shape [3, K], rows true positives, false
#: positives, false negatives; K = C classes, or [3] for the positive class alone
#: when average="binary".
COUNTS = "counts"


def fbeta(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    *,
    beta: float = 1.0,
    num_classes: int | None = None,
    average: str | None = "binary",
    classes: Sequence[int] | None = None,
    threshold: float = 0.5,
    multilabel: bool = False,
    metrics_collections: Iterable[str] | None = None,
    updates_collections: Iterable[str] | None = None,
    name: str | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Streaming F-beta score as a `(value, update_op)` pair.

    Equals `sklearn.metrics.fbeta_score(y, y_pred, beta=beta, average=average,
    labels=classes or range(C), sample_weight=weights, zero_division=0)` over all batches
    seen. State: one float64 variable `counts` [3, C] of per-class true positives, false
    positives and false negatives ([3], class 1 only, for average="binary").

    Modes, by arguments:
      * binary (`average="binary"`, positive class 1): float probabilities
        [B] or [B, 1] give `y_pred = predictions > threshold`; integer or bool
        predictions are 0/1 ids; with `num_classes=2`, float [B, 2] scores
        give `argmax`.
      * multiclass (`num_classes=C`, `average` micro/macro/weighted/None):
        `argmax` of float [..., C] scores, or integer class ids [...].
      * multilabel (`multilabel=True`): 0/1 labels [B, C], predictions [B, C]
        probabilities (`> threshold`) or 0/1 ids.
      Labels are class ids ([B] or [B, 1], [B, T] for sequences), or one-hot with one axis
      more than the predicted ids, in the first two. Shapes the static graph leaves open
      (`None` dimensions, unknown rank) are read when the update runs, and checked.

    Args:
      labels: True classes, see modes.
      predictions: Scores, probabilities or ids, see modes.
      weights: Optional non-negative weights: a scalar, of length 1, or the shape of the
        class ids or its leading axes ([B] per example).
      beta: Weight of recall against precision, > 0.
      num_classes: Number of classes C; needed for multiclass.
      average: "binary", "micro", "macro", "weighted", or None (per-class [C]).
      classes: Optional class ids to report on (scikit-learn's `labels=`, tf_metrics'
        `pos_indices`): micro sums only their counts, macro and weighted average only
        them, None returns their scores in this order. Not with average="binary".
      threshold: Probability cut-off in (0, 1) for probability predictions.
      multilabel: Whether each example may belong to several classes.
      metrics_collections: Collections to add `value` to.
      updates_collections: Collections to add `update_op` to.
      name: Name scope, default "fbeta".

    Returns:
      `(value, update_op)`: float64 tensors, scalars (or [C], [len(classes)], for
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
    options = fbeta_options(
        beta=beta,
        num_classes=num_classes,
        average=average,
        classes=classes,
        threshold=threshold,
        multilabel=multilabel,
    )
    with tf.compat.v1.name_scope(_arguments.check_name(name, FBETA)):
        increment = fbeta_increment(labels, predictions, weights, options)
        options = options.for_increment(increment)
        return _state.streaming_pair(
            [(COUNTS, increment.shape.as_list())],
            [increment],
            options.from_counts,
            metrics_collections,
            updates_collections,
        )


@dataclasses.dataclass(frozen=True)
class FBetaOptions:
    """The checked options of one F-beta, made by `fbeta_options`.

    `num_classes` is None for binary F-beta without `num_classes` (the state is [3]
    whatever C), and for multilabel without `num_classes` until the data's static width
    settles C (`for_increment`); until then `classes` is checked for everything but its
    range and distinctness.
    """

    beta: float
    num_classes: int | None
    average: str | None
    classes: tuple[int, ...] | None
    threshold: float
    multilabel: bool
    #: `classes` as given, for error messages.
    given_classes: Any = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def state_shape(self) -> list[int] | None:
        """The shape of `counts`: [3] (binary), [3, C], or None while C is unknown."""
        if self.average == "binary":
            return [3]
        return None if self.num_classes is None else [3, self.num_classes]

    def for_increment(self, increment: tf.Tensor) -> FBetaOptions:
        """These options with C read from `increment` [3, C] where they lacked it, and
        `classes` checked against it (ValueError)."""
        if self.state_shape is not None:
            return self
        num_classes = increment.shape[-1]
        classes = _arguments.check_class_range(self.classes, num_classes, self.given_classes)
        return dataclasses.replace(self, num_classes=num_classes, classes=classes)

    def from_counts(self, counts) -> tf.Tensor:
        """The F-beta of the state `counts`, by these options."""
        return fbeta_from_counts(counts, beta=self.beta, average=self.average, classes=self.classes)


def fbeta_options(
    *,
    beta: Any,
    num_classes: Any,
    average: Any,
    classes: Any,
    threshold: Any,
    multilabel: Any,
) -> FBetaOptions:
    """`FBetaOptions` after checking every option (ValueError/TypeError naming it)."""
    beta = _arguments.positive_float(beta, "beta")
    threshold = _arguments.open_unit_float(threshold, "threshold")
    _arguments.check_mode(num_classes, average, multilabel)
    num_classes = None if num_classes is None else int(num_classes)
    ids = _arguments.class_ids(classes, average)
    if num_classes is not None or not multilabel:
        ids = _arguments.check_class_range(ids, num_classes, classes)
    return FBetaOptions(beta, num_classes, average, ids, threshold, multilabel, classes)


@tf.autograph.experimental.do_not_convert  # Graph-building code: nothing to convert.
def fbeta_increment(labels: Any, predictions: Any, weights: Any, options: FBetaOptions):
    """One batch's float64 counts increment, after its checks.

    [3] (tp, fp, fn of class 1) for average="binary", else [3, C] per class; the shape is
    static. What `fbeta` adds to its state per update, and `keras_metrics.FBeta` per
    `update_state`.
    """
    labels = _inputs.to_tensor(labels, "labels")
    predictions = _inputs.to_tensor(predictions, "predictions")
    if options.multilabel:
        true, predicted, num_classes, shape, checks = _decode.multilabel_indicators(
            labels, predictions, options.num_classes, options.threshold
        )
        w, weight_checks = _inputs.broadcast_weights(
            weights, shape, "`labels`", inner=[num_classes]
        )
        with tf.control_dependencies(checks + weight_checks):
            return _indicator_counts(true, predicted, w)
    label_ids, pred_ids, shape, checks = _decode.single_label_ids(
        labels, predictions, options.num_classes, options.threshold
    )
    w, weight_checks = _inputs.broadcast_weights(weights, shape, "`labels`")
    with tf.control_dependencies(checks + weight_checks):
        if options.average == "binary":
            return _positive_class_counts(label_ids, pred_ids, w)
        return _single_label_counts(label_ids, pred_ids, w, options.num_classes)


def fbeta_from_counts(
    counts, *, beta: float, average: str | None, classes: Sequence[int] | None = None
) -> tf.Tensor:
    """F-beta from `counts` [3, C] (tp, fp, fn per class), reduced as sklearn's `average`.

    With average="binary", `counts` is [3]: the positive class's tp, fp, fn. With
    `classes`, only those columns count, in that order.
    """
    counts = tf.convert_to_tensor(counts)
    if classes is not None:
        counts = tf.gather(counts, list(classes), axis=1)
    tp, fp, fn = tf.unstack(counts)
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
    """Weighted [tp, fp, fn] of class 1 from flat 0/1 class ids: three sums in one reduction."""
    true, predicted = (tf.cast(ids, _state.STATE_DTYPE) for ids in (label_ids, pred_ids))
    both = true * predicted
    indicators = tf.stack([both, predicted - both, true - both])  # [3, N], exact 0/1
    if weights is not None:
        indicators *= weights
    return tf.reduce_sum(indicators, axis=1)


def _single_label_counts(label_ids, pred_ids, weights, num_classes: int) -> tf.Tensor:
    """Weighted per-class [tp, fp, fn] increments [3, C] from flat class ids."""
    hit = tf.cast(tf.equal(label_ids, pred_ids), _state.STATE_DTYPE)
    hit_w, miss_w = (hit, 1 - hit) if weights is None else (weights * hit, weights * (1 - hit))
    return tf.stack(
        [
            tf.math.unsorted_segment_sum(hit_w, label_ids, num_classes),
            tf.math.unsorted_segment_sum(miss_w, pred_ids, num_classes),
            tf.math.unsorted_segment_sum(miss_w, label_ids, num_classes),
        ]
    )


def _indicator_counts(true, predicted, weights) -> tf.Tensor:
    """Weighted per-class [tp, fp, fn] increments [3, C] from 0/1 indicators [N, C]."""
    both = true * predicted
    indicators = tf.stack([both, predicted - both, true - both])  # [3, N, C], exact 0/1
    if weights is not None:
        indicators *= weights
    return tf.reduce_sum(indicators, axis=1)
