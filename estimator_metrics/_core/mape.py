"""`mape`: streaming weighted mean absolute percentage error, pooled or per output column."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Union

import tensorflow as tf

from estimator_metrics._core import arguments as _arguments
from estimator_metrics._core import checks as _checks
from estimator_metrics._core import inputs as _inputs
from estimator_metrics._core import shapes as _shapes
from estimator_metrics._core import state as _state
from estimator_metrics._core.keys import MetricKeys

MAPE = MetricKeys.MAPE
#: A checked `multioutput`: "uniform_average", "raw_values", or the column weights.
Multioutput = Union[str, tuple[float, ...]]


def mape(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    *,
    epsilon: float = 1e-7,
    multioutput: str | Sequence[float] = "uniform_average",
    metrics_collections: Iterable[str] | None = None,
    updates_collections: Iterable[str] | None = None,
    name: str | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Mean absolute percentage error, in percent, as a `(value, update_op)` pair.

    value = 100 * sum(w * |y - p| / max(|y|, epsilon)) / sum(w), accumulated in float64
    over every batch the `update_op` sees; 0.0 before any weight. Equals 100 *
    `sklearn.metrics.mean_absolute_percentage_error(y, p, sample_weight=weights,
    multioutput=multioutput)` wherever |y| >= epsilon (scikit-learn's floor is float64's
    machine epsilon): over [B, K] labels, "uniform_average" is the mean of the K columns'
    errors, "raw_values" the K errors, and an array of K weights their weighted mean.

    Args:
      labels: Targets y, shape [B] or [B, ...]; [B] and [B, 1] are aligned. With
        multioutput other than "uniform_average", the last axis holds the K outputs
        ([B] and [B, 1]: K = 1).
      predictions: Predictions p, the shape of `labels` (up to a trailing 1).
      weights: Optional non-negative weights: a scalar, of length 1, `labels`' shape, or
        its leading axes (e.g. [B] per example).
      epsilon: Floor of |y| in the denominator (Keras uses 1e-7), > 0.
      multioutput: "uniform_average" (the weighted mean over every value: the mean of the
        columns' errors with per-example weights, scikit-learn's only kind), "raw_values"
        (one error per column, [K]; K must be static), or K non-negative column weights.
        The state is two [K] vectors (two scalars for "uniform_average").
      metrics_collections: Collections to add `value` to.
      updates_collections: Collections to add `update_op` to.
      name: Name scope, default "mape".

    Returns:
      `(value, update_op)`: float64 tensors, scalars ([K] for "raw_values"); running
      `value` never changes state, running `update_op` adds one batch and returns the value.

    Raises:
      ValueError: `epsilon` <= 0, a `multioutput` that is none of the three, static shapes
        that cannot fit (labels against predictions, weights, K column weights against K
        columns). Where the shapes are known only at run time, the update raises
        `tf.errors.InvalidArgumentError` naming the argument (`multioutput` included).
      TypeError: An option or input of the wrong type.
      RuntimeError: Called under eager execution.

    Example:
      >>> import tensorflow as tf
      >>> from estimator_metrics import builders
      >>> with tf.Graph().as_default():
      ...     value, update = builders.mape([100.0, 200.0], [[110.0], [150.0]])
      ...     per_column, column_update = builders.mape(
      ...         [[100.0, 10.0], [200.0, 20.0]], [[110.0, 10.0], [150.0, 25.0]],
      ...         multioutput="raw_values",
      ...     )
      ...     with tf.compat.v1.Session() as sess:
      ...         sess.run(tf.compat.v1.local_variables_initializer())
      ...         _ = sess.run([update, column_update])
      ...         print(round(float(sess.run(value)), 4), sess.run(per_column).round(4))
      17.5 [17.5 12.5]
    """
    _state.require_graph("mape")
    epsilon = mape_epsilon(epsilon)
    multioutput = mape_multioutput(multioutput)
    with tf.compat.v1.name_scope(_arguments.check_name(name, MAPE)):
        increments = mape_increments(
            labels, predictions, weights, epsilon=epsilon, multioutput=multioutput
        )
        return _state.streaming_pair(
            [(key, increment.shape.as_list()) for key, increment in zip(STATE, increments)],
            increments,
            lambda total, count: mape_from_state(total, count, multioutput),
            metrics_collections,
            updates_collections,
        )


#: The state's variables, in the order of `mape_increments`: [K] (or scalars) each.
STATE = ("total", "count")


def mape_epsilon(epsilon: Any) -> float:
    """`epsilon` checked (a finite float > 0), or ValueError/TypeError naming it."""
    return _arguments.positive_float(epsilon, "epsilon")


def mape_multioutput(multioutput: Any) -> Multioutput:
    """`multioutput` checked: a name, or K column weights as a tuple of floats."""
    return _arguments.multioutput(multioutput)


@tf.autograph.experimental.do_not_convert  # Graph-building code: nothing to convert.
def mape_increments(
    labels: Any,
    predictions: Any,
    weights: Any,
    *,
    epsilon: float,
    multioutput: Multioutput = "uniform_average",
) -> list[tf.Tensor]:
    """One batch's float64 [sum(w * |y - p| / max(|y|, epsilon)), sum(w)], after its checks:
    scalars for "uniform_average", else [K] sums per output column (K static).

    What `mape` adds to its state per update, and `keras_metrics.MAPE` per `update_state`.
    """
    labels = _inputs.to_tensor(labels, "labels")
    predictions = _inputs.to_tensor(predictions, "predictions")
    columns = None
    if multioutput != "uniform_average":
        columns = _columns(labels, predictions, multioutput)
    y, p, shape, checks = _inputs.align(labels, predictions)
    if columns is not None:
        checks += _column_checks(shape, columns, multioutput, labels, predictions)
    y, p = tf.cast(y, _state.STATE_DTYPE), tf.cast(p, _state.STATE_DTYPE)
    w, weight_checks = _inputs.broadcast_weights(weights, shape, "`labels`")
    with tf.control_dependencies(checks + weight_checks):
        errors = tf.abs(y - p) / tf.maximum(tf.abs(y), epsilon)
        if w is not None:
            errors *= w
        if columns is not None:  # Sums over the examples of each column.
            errors = tf.reshape(errors, [-1, columns])
            w = None if w is None else tf.reshape(w, [-1, columns])
        total = tf.reduce_sum(errors, axis=0)
    # No pass of its own for NaN/Inf: a non-finite label or prediction makes its error NaN
    # or Inf (Inf/Inf, x/Inf... are NaN; 0 * NaN too, so zero weights hide nothing), hence
    # the total. A float64 total overflows only past 1.8e308, out of reach of float32 inputs.
    everything = total if columns is None else tf.reduce_sum(total)
    finite = _checks.Check(tf.math.is_finite(everything), ["received sum of errors", everything])
    checks = _checks.assert_check(finite, "`labels` and `predictions` must be finite (no NaN/Inf)")
    with tf.control_dependencies(checks):
        if w is not None:
            return [tf.identity(total), tf.reduce_sum(w, axis=0)]
        if columns is None:
            return [tf.identity(total), tf.cast(tf.size(errors), _state.STATE_DTYPE)]
        rows = tf.cast(tf.shape(errors)[0], _state.STATE_DTYPE)
        return [tf.identity(total), tf.fill([columns], rows)]


def mape_from_state(total, count, multioutput: Multioutput = "uniform_average") -> tf.Tensor:
    """The value, in percent, of the state `total`, `count`; 0.0 (per column) while `count`
    is 0. Column weights average the columns' errors."""
    percent = tf.constant(100.0, total.dtype)
    if isinstance(multioutput, str):
        return tf.math.multiply(percent, tf.math.divide_no_nan(total, count), name="value")
    errors = percent * tf.math.divide_no_nan(total, count)
    weights = tf.constant(multioutput, total.dtype)
    return tf.math.divide(tf.reduce_sum(errors * weights), sum(multioutput), name="value")


def _columns(labels: tf.Tensor, predictions: tf.Tensor, multioutput: Multioutput) -> int:
    """K: the number of column weights, or the static width of `labels` or `predictions`."""
    if not isinstance(multioutput, str):
        return len(multioutput)
    for tensor in (labels, predictions):
        width = _static_columns(tensor)
        if width is not None:
            return width
    raise ValueError(
        "Expected `labels` or `predictions` with a static last axis (the K output columns) "
        f"with multioutput={multioutput!r}; received labels.shape={labels.shape}, "
        f"predictions.shape={predictions.shape}"
    )


def _static_columns(tensor: tf.Tensor) -> int | None:
    """The number of output columns a static shape settles: 1 for [B] or [B, 1], else the
    last dimension; None where it is unknown."""
    if tensor.shape.rank is None:
        return None
    dims = tensor.shape.as_list()
    if len(dims) >= 2 and dims[-1] == 1:
        dims = dims[:-1]
    return 1 if len(dims) < 2 else dims[-1]


def _column_checks(
    shape: _shapes.Dims,
    columns: int,
    multioutput: Multioutput,
    labels: tf.Tensor,
    predictions: tf.Tensor,
) -> list:
    """The aligned `shape` has `columns` output columns: ValueError or an Assert."""
    rank = _shapes.rank(shape)
    width = _shapes.select(_shapes.at_least(rank, 2), lambda: _shapes.last(shape), lambda: 1)
    if isinstance(multioutput, str):
        expected = (
            f"Expected `labels` and `predictions` of K={columns} output columns (the last "
            f"axis) with multioutput={multioutput!r}"
        )
    else:
        expected = (
            f"Expected `multioutput` weights of length K, the number of output columns (the "
            f"last axis of `labels` and `predictions`, 1 for [B]), received "
            f"len(multioutput)={columns}"
        )
    received = {"labels.shape": labels, "predictions.shape": predictions}
    return _checks.require(_shapes.equal(width, columns), expected, received)
