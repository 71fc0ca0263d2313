"""`mape`: streaming weighted mean absolute percentage error."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import tensorflow as tf

from estimator_metrics._core import arguments as _arguments
from estimator_metrics._core import checks as _checks
from estimator_metrics._core import inputs as _inputs
from estimator_metrics._core import state as _state
from estimator_metrics._core.keys import MetricKeys

MAPE = MetricKeys.MAPE


def mape(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    *,
    epsilon: float = 1e-7,
    metrics_collections: Iterable[str] | None = None,
    updates_collections: Iterable[str] | None = None,
    name: str | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Mean absolute percentage error, in percent, as a `(value, update_op)` pair.

    value = 100 * sum(w * |y - p| / max(|y|, epsilon)) / sum(w), accumulated
    in float64 over every batch the `update_op` sees; 0.0 before any weight.

    Args:
      labels: Targets y, shape [B] or [B, ...]; [B] and [B, 1] are aligned.
      predictions: Predictions p, the shape of `labels` (up to a trailing 1).
      weights: Optional non-negative weights: a scalar, of length 1, `labels`' shape, or
        its leading axes (e.g. [B] per example).
      epsilon: Floor of |y| in the denominator (Keras uses 1e-7), > 0.
      metrics_collections: Collections to add `value` to.
      updates_collections: Collections to add `update_op` to.
      name: Name scope, default "mape".

    Returns:
      `(value, update_op)`: float64 scalar tensors; running `value` never
      changes state, running `update_op` adds one batch and returns the value.

    Example:
      >>> import tensorflow as tf
      >>> from estimator_metrics import builders
      >>> with tf.Graph().as_default():
      ...     value, update = builders.mape([100.0, 200.0], [[110.0], [150.0]])
      ...     with tf.compat.v1.Session() as sess:
      ...         sess.run(tf.compat.v1.local_variables_initializer())
      ...         _ = sess.run(update)
      ...         print(round(float(sess.run(value)), 4))
      17.5
    """
    _state.require_graph("mape")
    epsilon = mape_epsilon(epsilon)
    with tf.compat.v1.name_scope(_arguments.check_name(name, MAPE)):
        return _state.streaming_pair(
            [("total", []), ("count", [])],
            mape_increments(labels, predictions, weights, epsilon=epsilon),
            mape_from_state,
            metrics_collections,
            updates_collections,
        )


def mape_epsilon(epsilon: Any) -> float:
    """`epsilon` checked (a finite float > 0), or ValueError/TypeError naming it."""
    return _arguments.positive_float(epsilon, "epsilon")


@tf.autograph.experimental.do_not_convert  # Graph-building code: nothing to convert.
def mape_increments(
    labels: Any, predictions: Any, weights: Any, *, epsilon: float
) -> list[tf.Tensor]:
    """One batch's float64 [sum(w * |y - p| / max(|y|, epsilon)), sum(w)], after its checks.

    What `mape` adds to its state per update, and `keras_metrics.MAPE` per `update_state`.
    """
    labels = _inputs.to_tensor(labels, "labels")
    predictions = _inputs.to_tensor(predictions, "predictions")
    labels, predictions, shape, checks = _inputs.align(labels, predictions)
    labels = tf.cast(labels, _state.STATE_DTYPE)
    predictions = tf.cast(predictions, _state.STATE_DTYPE)
    w, weight_checks = _inputs.broadcast_weights(weights, shape, "`labels`")
    with tf.control_dependencies(checks + weight_checks):
        errors = tf.abs(labels - predictions) / tf.maximum(tf.abs(labels), epsilon)
        total = tf.reduce_sum(errors if w is None else w * errors)
    # No pass of its own for NaN/Inf: a non-finite label or prediction makes its error NaN
    # or Inf (Inf/Inf, x/Inf... are NaN; 0 * NaN too, so zero weights hide nothing), hence
    # the total. A float64 total overflows only past 1.8e308, out of reach of float32 inputs.
    finite = _checks.Check(tf.math.is_finite(total), ["received sum of errors", total])
    checks = _checks.assert_check(finite, "`labels` and `predictions` must be finite (no NaN/Inf)")
    with tf.control_dependencies(checks):
        if w is None:
            return [tf.identity(total), tf.cast(tf.size(errors), _state.STATE_DTYPE)]
        return [tf.identity(total), tf.reduce_sum(w)]


def mape_from_state(total, count) -> tf.Tensor:
    """The value, in percent, of the state `total`, `count`; 0.0 while `count` is 0."""
    return tf.math.multiply(
        tf.constant(100.0, total.dtype), tf.math.divide_no_nan(total, count), name="value"
    )
