"""`average_confidence`: streaming weighted mean of the top probability."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import tensorflow as tf

from estimator_metrics._core import arguments as _arguments
from estimator_metrics._core import checks as _checks
from estimator_metrics._core import inputs as _inputs
from estimator_metrics._core import rows as _rows
from estimator_metrics._core import shapes as _shapes
from estimator_metrics._core import state as _state
from estimator_metrics._core.keys import MetricKeys

AVERAGE_CONFIDENCE = MetricKeys.AVERAGE_CONFIDENCE


def average_confidence(
    predictions: Any,
    weights: Any = None,
    *,
    metrics_collections: Iterable[str] | None = None,
    updates_collections: Iterable[str] | None = None,
    name: str | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Weighted mean over examples of the largest class probability.

    value = sum(w * max_c p[..., c]) / sum(w), accumulated in float64; 0.0
    before any weight. A calibrated model's average confidence equals its
    accuracy, so the pair shows over- or under-confidence at a glance.

    Args:
      predictions: Probabilities [B, C] (or [..., C]) with C >= 2, in [0, 1].
        For a sigmoid output p of shape [B, 1], pass
        `tf.concat([1 - p, p], axis=-1)`.
      weights: Optional non-negative per-example weights: scalar, [B] or
        [B, 1] (the leading axes of `predictions` without the class axis).
      metrics_collections: Collections to add `value` to.
      updates_collections: Collections to add `update_op` to.
      name: Name scope, default "average_confidence".

    Returns:
      `(value, update_op)`: float64 scalar tensors.

    Example:
      >>> import tensorflow as tf
      >>> from estimator_metrics import builders
      >>> with tf.Graph().as_default():
      ...     value, update = builders.average_confidence([[0.9, 0.1], [0.3, 0.7]])
      ...     with tf.compat.v1.Session() as sess:
      ...         sess.run(tf.compat.v1.local_variables_initializer())
      ...         _ = sess.run(update)
      ...         print(round(float(sess.run(value)), 4))
      0.8
    """
    _state.require_graph("average_confidence")
    with tf.compat.v1.name_scope(_arguments.check_name(name, AVERAGE_CONFIDENCE)):
        return _state.streaming_pair(
            [("total", []), ("count", [])],
            confidence_increments(predictions, weights),
            confidence_from_state,
            metrics_collections,
            updates_collections,
        )


@tf.autograph.experimental.do_not_convert  # Graph-building code: nothing to convert.
def confidence_increments(predictions: Any, weights: Any) -> list[tf.Tensor]:
    """One batch's float64 [sum(w * max_c p), sum(w)], after validating it.

    What `average_confidence` adds to its state per update, and
    `keras_metrics.AverageConfidence` per `update_state`.
    """
    predictions = _inputs.to_tensor(predictions, "predictions")
    shape = _shapes.dims(predictions)
    checks = _checks.require(
        _shapes.all_of(
            _shapes.at_least(_shapes.rank(shape), 2), _shapes.at_least(_shapes.last(shape), 2)
        ),
        "Expected `predictions` of shape [B, C] with C >= 2 class probabilities (for a "
        "sigmoid output p pass tf.concat([1 - p, p], axis=-1))",
        {"predictions.shape": predictions},
    )
    if not predictions.dtype.is_floating:
        predictions = tf.cast(predictions, _state.STATE_DTYPE)
    # The row maxima are the metric, and their keys prove [0, 1] where they can (_rows);
    # else the largest of them is also the largest probability, NaN included, so [0, 1]
    # costs one more pass, the minimum, not two. Reduced in their own dtype: float64 holds
    # every float16/32 value exactly, so only the [B] maxima need converting.
    with tf.control_dependencies(checks):
        row_max, check = _rows.unit_row_max(predictions)
    checks += _checks.assert_check(check, "`predictions` must be finite and lie in [0, 1]")
    with tf.control_dependencies(checks):  # identity: a float64 cast would add no op.
        confidence = tf.identity(tf.cast(row_max, _state.STATE_DTYPE))
    example_shape = _shapes.canonical(_shapes.leading(shape, True))
    w, weight_checks = _inputs.broadcast_weights(
        weights, example_shape, "`predictions` (without the class axis)"
    )
    confidence = _shapes.flat(confidence)
    with tf.control_dependencies(weight_checks):
        if w is None:
            return [tf.reduce_sum(confidence), tf.cast(tf.size(confidence), _state.STATE_DTYPE)]
        return [tf.reduce_sum(w * confidence), tf.reduce_sum(w)]


def confidence_from_state(total, count) -> tf.Tensor:
    """The value of the state `total`, `count`; 0.0 while `count` is 0."""
    return tf.math.divide_no_nan(total, count, name="value")
