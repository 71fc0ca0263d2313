"""Precision, recall and F-beta from the shared confusion state, as scikit-learn 1.9 has them.

Per class (or summed first, for "micro"; per example, for "samples"): precision
tp / (tp + fp), recall tp / (tp + fn), F-beta (1 + b²) tp / ((1 + b²) tp + b² fn + fp).
Each is undefined where its denominator is 0 (F-beta: no true positive, false positive or
false negative at all) and then takes `zero_division`: 0, 1, or NaN. "macro" averages the
classes, "weighted" weighs them by their support tp + fn (where every support is 0, the
plain mean), "samples" weighs the examples by their weights (where every weight is 0, the
plain mean, which is `zero_division`: such examples count nothing). With NaN, undefined
values are left out of every average, and an average of nothing is NaN, as scikit-learn's
`_nanaverage` does. Before any data every value is undefined: `zero_division` again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import tensorflow as tf

from estimator_metrics._core import arguments as _arguments
from estimator_metrics._core import state as _state
from estimator_metrics._core.confusion import (
    COUNTS,
    ConfusionOptions,
    confusion_increment,
    confusion_options,
)
from estimator_metrics._core.keys import MetricKeys
from estimator_metrics._core.state import STATE_DTYPE

PRECISION, RECALL, FBETA = MetricKeys.PRECISION, MetricKeys.RECALL, MetricKeys.FBETA
#: The family, in the order of the rows of the "samples" state.
METRICS = (PRECISION, RECALL, FBETA)


def scores(
    counts: tf.Tensor, options: ConfusionOptions, names: Mapping[str, str]
) -> dict[str, tf.Tensor]:
    """{metric: value} for each metric of `names` (keys of METRICS) from the state `counts`.

    Each value is float64, a scalar or, for average=None, one per class of `classes` (all
    C without), and its tensor is named `names[metric]`. What is shared (the counts of
    `classes`, their sums) is built once for all of them.
    """
    counts = tf.convert_to_tensor(counts)
    zero_division = options.zero_division
    if options.average == "samples":
        return {
            metric: _sample_average(counts[METRICS.index(metric)], zero_division, name)
            for metric, name in names.items()
        }
    if options.classes is not None:
        counts = tf.gather(counts, list(options.classes), axis=1)
    tp, fp, fn = tf.unstack(counts)
    if options.average == "micro":
        tp, fp, fn = (tf.reduce_sum(count) for count in (tp, fp, fn))
    beta2 = options.beta * options.beta
    support = tp + fn if options.average == "weighted" else None
    fractions = {
        PRECISION: lambda: (tp, tp + fp),
        RECALL: lambda: (tp, tp + fn),
        FBETA: lambda: ((1 + beta2) * tp, (1 + beta2) * tp + beta2 * fn + fp),
    }
    return {
        metric: _average(
            _divide(*fractions[metric](), zero_division),
            support,
            options.average,
            zero_division,
            name,
        )
        for metric, name in names.items()
    }


def undefined(options: ConfusionOptions, shape: list[int]) -> tf.Tensor:
    """Every value of a state that has seen nothing: `zero_division`, of `shape`."""
    return tf.fill(shape, tf.constant(options.zero_division, STATE_DTYPE))


def _divide(numerator: tf.Tensor, denominator: tf.Tensor, zero_division: float) -> tf.Tensor:
    """numerator / denominator, `zero_division` where the denominator is 0."""
    quotient = tf.math.divide_no_nan(numerator, denominator)
    if zero_division == 0:  # divide_no_nan's own 0: no more ops than before zero_division.
        return quotient
    return tf.where(denominator > 0, quotient, tf.constant(zero_division, STATE_DTYPE))


def _average(
    values: tf.Tensor,
    support: tf.Tensor | None,
    average: str | None,
    zero_division: float,
    name: str,
) -> tf.Tensor:
    """`values` per class reduced by `average` ("micro" and "binary" are reduced already);
    `support` (tp + fn per class) for "weighted"."""
    if average in (None, "micro", "binary"):
        return tf.identity(values, name=name)
    if math.isnan(zero_division):
        return _nan_average(values, support, name)
    if average == "macro":
        return tf.reduce_mean(values, name=name)
    total = tf.reduce_sum(support)  # "weighted"
    weighted = tf.math.divide_no_nan(tf.reduce_sum(values * support), total)
    if zero_division == 0:  # Where every support is 0, every value is 0: so is their mean.
        return tf.identity(weighted, name=name)
    return tf.where(total > 0, weighted, tf.reduce_mean(values), name=name)


def _nan_average(values: tf.Tensor, weights: tf.Tensor | None, name: str) -> tf.Tensor:
    """The mean of the values that are not NaN, weighted by `weights` unless those are all 0;
    NaN if every value is."""
    defined = tf.logical_not(tf.math.is_nan(values))
    kept = tf.where(defined, values, tf.zeros_like(values))
    count = tf.reduce_sum(tf.cast(defined, STATE_DTYPE))
    mean = _nan_where(count > 0, tf.math.divide_no_nan(tf.reduce_sum(kept), count))
    if weights is None:
        return tf.identity(mean, name=name)
    weights = tf.where(defined, weights, tf.zeros_like(weights))
    total = tf.reduce_sum(weights)
    weighted = tf.math.divide_no_nan(tf.reduce_sum(kept * weights), total)
    return tf.where(total > 0, weighted, mean, name=name)


def _sample_average(sums: tf.Tensor, zero_division: float, name: str) -> tf.Tensor:
    """The weighted mean of one metric's per-example scores from its [3] "samples" state:
    sum(w * score) and sum(w) where it is defined, sum(w) where it is not."""
    total, defined, undefined_weight = tf.unstack(sums)
    if math.isnan(zero_division):
        return _nan_where(defined > 0, tf.math.divide_no_nan(total, defined), name=name)
    weight = defined + undefined_weight
    mean = tf.math.divide_no_nan(total + zero_division * undefined_weight, weight)
    return tf.where(weight > 0, mean, tf.constant(zero_division, STATE_DTYPE), name=name)


def _nan_where(condition: tf.Tensor, value: tf.Tensor, name: str | None = None) -> tf.Tensor:
    """`value` where `condition`, else NaN."""
    return tf.where(condition, value, tf.constant(math.nan, STATE_DTYPE), name=name)


def streaming_scores(
    labels: Any,
    predictions: Any,
    weights: Any,
    options: ConfusionOptions,
    names: Mapping[str, str],
    metrics_collections: Iterable[str] | None,
    updates_collections: Iterable[str] | None,
) -> dict[str, tuple[tf.Tensor, tf.Tensor]]:
    """{metric: (value, update_op)} for each metric of `names` over one `counts` variable.

    One variable and one counting update serve every metric asked for: each update op is
    its score of the one updated state. `names[metric]` names its value tensors.
    """
    increment, options = confusion_increment(labels, predictions, weights, options)
    return _state.streaming_pairs(
        [(COUNTS, options.state_shape)],
        [increment],
        lambda counts: scores(counts, options, names),
        metrics_collections,
        updates_collections,
    )


def streaming_score(
    metric: str,
    labels: Any,
    predictions: Any,
    weights: Any,
    *,
    metrics_collections: Iterable[str] | None,
    updates_collections: Iterable[str] | None,
    name: str | None,
    **options: Any,
) -> tuple[tf.Tensor, tf.Tensor]:
    """The builder of one metric of the family (`fbeta`, `precision`, `recall`): its options
    checked, then its `(value, update_op)` in the name scope `name` (default: `metric`)."""
    _state.require_graph(metric)
    checked = confusion_options(**options)
    with tf.compat.v1.name_scope(_arguments.check_name(name, metric)):
        pairs = streaming_scores(
            labels,
            predictions,
            weights,
            checked,
            {metric: "value"},
            metrics_collections,
            updates_collections,
        )
    return pairs[metric]
