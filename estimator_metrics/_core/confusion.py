"""The state precision, recall and F-beta share: checked options, one counting update.

Every metric of the family keeps the same float64 variable `counts` and adds the same
increment to it per update; they differ only in what they compute from it (`scores`). So
`precision_recall_fbeta` builds one variable and one counting update for all three.

`counts` is [3, C] per class (rows true positives, false positives, false negatives), [3]
for average="binary" (class 1 alone), and for average="samples" [3, 3]: per metric (rows
precision, recall, F-beta) the weighted sum of the per-example scores where they are
defined, the weight of those examples, and the weight of the examples where they are not
(`zero_division` decides what those count for when the value is read).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import tensorflow as tf

from estimator_metrics._core import arguments as _arguments
from estimator_metrics._core import decode as _decode
from estimator_metrics._core import inputs as _inputs
from estimator_metrics._core import shapes as _shapes
from estimator_metrics._core.state import STATE_DTYPE

#: The name of the state variable.
COUNTS = "counts"


@dataclasses.dataclass(frozen=True)
class ConfusionOptions:
    """The checked options of one confusion metric, made by `confusion_options`.

    `num_classes` is None for binary metrics without `num_classes` (the state is [3]
    whatever C), and for multilabel without `num_classes` until the data's static width
    settles C (`settle`); until then `classes` is checked for everything but its range and
    distinctness. `beta` is F-beta's; precision and recall keep the default, 1.
    """

    beta: float
    num_classes: int | None
    average: str | None
    classes: tuple[int, ...] | None
    threshold: float
    multilabel: bool
    zero_division: float
    #: `classes` as given, for error messages.
    given_classes: Any = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def state_shape(self) -> list[int] | None:
        """The shape of `counts`: [3] (binary), [3, 3] (samples), [3, C], or None while C is
        unknown."""
        if self.average == "binary":
            return [3]
        if self.average == "samples":
            return [3, 3]
        return None if self.num_classes is None else [3, self.num_classes]

    def settle(self, num_classes: int) -> ConfusionOptions:
        """These options with C = `num_classes` where they lacked it, and `classes` checked
        against it (ValueError)."""
        if self.num_classes is not None or not self.multilabel:
            return self
        classes = _arguments.check_class_range(self.classes, num_classes, self.given_classes)
        return dataclasses.replace(self, num_classes=num_classes, classes=classes)


def confusion_options(
    *,
    beta: Any = 1.0,
    num_classes: Any,
    average: Any,
    classes: Any,
    threshold: Any,
    multilabel: Any,
    zero_division: Any,
) -> ConfusionOptions:
    """`ConfusionOptions` after checking every option (ValueError/TypeError naming it)."""
    beta = _arguments.positive_float(beta, "beta")
    threshold = _arguments.open_unit_float(threshold, "threshold")
    _arguments.check_mode(num_classes, average, multilabel)
    zero_division = _arguments.zero_division(zero_division)
    num_classes = None if num_classes is None else int(num_classes)
    ids = _arguments.class_ids(classes, average)
    if num_classes is not None or not multilabel:
        ids = _arguments.check_class_range(ids, num_classes, classes)
    return ConfusionOptions(
        beta, num_classes, average, ids, threshold, multilabel, zero_division, classes
    )


@tf.autograph.experimental.do_not_convert  # Graph-building code: nothing to convert.
def confusion_increment(
    labels: Any, predictions: Any, weights: Any, options: ConfusionOptions
) -> tuple[tf.Tensor, ConfusionOptions]:
    """One batch's float64 increment of `counts`, after its checks, and the options settled.

    The increment has the static shape `state_shape` of the settled options, which have C
    where the batch's width showed it (multilabel without `num_classes`; ValueError if it
    is unknown statically). What every builder of the family adds to its state per update,
    and every twin per `update_state`.
    """
    labels = _inputs.to_tensor(labels, "labels")
    predictions = _inputs.to_tensor(predictions, "predictions")
    if options.multilabel:
        true, predicted, num_classes, shape, checks = _decode.multilabel_indicators(
            labels, predictions, options.num_classes, options.threshold
        )
        options = options.settle(num_classes)
        if options.average == "samples":  # sample_weight weighs whole examples.
            w, weight_checks = _inputs.broadcast_weights(
                weights,
                _shapes.leading(shape, True),
                "`labels` without its class axis (average='samples' weighs examples)",
            )
            with tf.control_dependencies(checks + weight_checks):
                return _sample_sums(true, predicted, w, options), options
        w, weight_checks = _inputs.broadcast_weights(
            weights, shape, "`labels`", inner=[num_classes]
        )
        with tf.control_dependencies(checks + weight_checks):
            return _indicator_counts(true, predicted, w), options
    label_ids, pred_ids, shape, checks = _decode.single_label_ids(
        labels, predictions, options.num_classes, options.threshold
    )
    w, weight_checks = _inputs.broadcast_weights(weights, shape, "`labels`")
    with tf.control_dependencies(checks + weight_checks):
        if options.average == "binary":
            return _positive_class_counts(label_ids, pred_ids, w), options
        return _single_label_counts(label_ids, pred_ids, w, options.num_classes), options


def _positive_class_counts(label_ids, pred_ids, weights) -> tf.Tensor:
    """Weighted [tp, fp, fn] of class 1 from flat 0/1 class ids: three sums in one reduction."""
    true, predicted = (tf.cast(ids, STATE_DTYPE) for ids in (label_ids, pred_ids))
    both = true * predicted
    indicators = tf.stack([both, predicted - both, true - both])  # [3, N], exact 0/1
    if weights is not None:
        indicators *= weights
    return tf.reduce_sum(indicators, axis=1)


def _single_label_counts(label_ids, pred_ids, weights, num_classes: int) -> tf.Tensor:
    """Weighted per-class [tp, fp, fn] increments [3, C] from flat class ids."""
    hit = tf.cast(tf.equal(label_ids, pred_ids), STATE_DTYPE)
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


def _sample_sums(true, predicted, weights, options: ConfusionOptions) -> tf.Tensor:
    """[3, 3]: per metric, sum(w * score) and sum(w) over the examples where it is defined,
    and sum(w) over those where it is not, from 0/1 indicators [N, C] and weights [N].

    Per example, over the columns of `classes` (all without): precision tp / |predicted|,
    recall tp / |true|, F-beta (1 + b²) tp / (b² |true| + |predicted|), each defined where
    its denominator is not 0. A weight 0 example adds nothing whichever it is.
    """
    if options.classes is not None:
        true, predicted = (tf.gather(t, list(options.classes), axis=1) for t in (true, predicted))
    tp = tf.reduce_sum(true * predicted, axis=1)
    n_true, n_predicted = tf.reduce_sum(true, axis=1), tf.reduce_sum(predicted, axis=1)
    beta2 = options.beta * options.beta
    numerators = tf.stack([tp, tp, (1 + beta2) * tp])  # [3, N]
    denominators = tf.stack([n_predicted, n_true, beta2 * n_true + n_predicted])
    defined = tf.cast(denominators > 0, STATE_DTYPE)
    parts = [tf.math.divide_no_nan(numerators, denominators), defined, 1 - defined]
    if weights is not None:
        parts = [part * weights for part in parts]
    return tf.stack([tf.reduce_sum(part, axis=1) for part in parts], axis=1)
