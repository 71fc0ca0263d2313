"""Input checks shared by the builders: conversion, shape alignment, weights.

Static problems raise ValueError/TypeError while the graph is built; what can
only be known from the data becomes a `tf.debugging` assertion that raises
InvalidArgumentError when the update runs. Every message names the argument.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Optional

import tensorflow as tf

from estimator_metrics._state import STATE_DTYPE


def to_tensor(value: Any, arg: str) -> tf.Tensor:
    """Converts `value` to a numeric or bool tensor of known rank."""
    try:
        tensor = tf.convert_to_tensor(value)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"Expected `{arg}` to be convertible to a tensor, received "
            f"{type(value).__name__}: {err}"
        ) from err
    if not (tensor.dtype.is_floating or tensor.dtype.is_integer or tensor.dtype.is_bool):
        raise TypeError(
            f"Expected `{arg}` to have a numeric or bool dtype, received "
            f"dtype={tensor.dtype.name}"
        )
    if tensor.shape.rank is None:
        raise ValueError(
            f"Expected `{arg}` to have a statically known rank, received shape "
            f"{tensor.shape}; give the input_fn's tensors a fixed rank."
        )
    return tensor


def align(labels: tf.Tensor, predictions: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, list]:
    """Squeezes a trailing size-1 axis so [B] meets [B, 1] elementwise.

    Returns the aligned pair and the assertions that their shapes agree at run
    time. Never broadcasts [B] against [B, 1] to [B, B].
    """
    shapes = f"labels.shape={labels.shape} and predictions.shape={predictions.shape}"
    if labels.shape.rank == predictions.shape.rank + 1:
        labels = _squeeze_last(labels, "labels")
    elif predictions.shape.rank == labels.shape.rank + 1:
        predictions = _squeeze_last(predictions, "predictions")
    if not labels.shape.is_compatible_with(predictions.shape):
        raise ValueError(
            "Expected `labels` and `predictions` to have the same shape (up to a "
            f"trailing axis of size 1), received {shapes}"
        )
    checks = []
    if not (labels.shape.is_fully_defined() and predictions.shape.is_fully_defined()):
        checks.append(
            tf.debugging.assert_equal(
                tf.shape(labels),
                tf.shape(predictions),
                message="`labels` and `predictions` must have the same shape",
            )
        )
    return labels, predictions, checks


def _squeeze_last(tensor: tf.Tensor, arg: str) -> tf.Tensor:
    if tensor.shape[-1] not in (1, None):
        return tensor  # Not squeezable: the shape check reports it.
    return tf.squeeze(tensor, axis=-1, name=f"squeeze_{arg}")


def broadcast_weights(weights: Any, values: tf.Tensor) -> tuple[tf.Tensor, list]:
    """Float64 weights of `values`' shape, plus their run-time checks.

    `weights` may be a scalar, have `values`' shape, or cover its leading axes
    (e.g. [B] per-example weights for [B, C] values); a trailing axis of size 1
    is squeezed first. Weights must be finite and non-negative.
    """
    if weights is None:
        return tf.ones_like(values, dtype=STATE_DTYPE), []
    weights = to_tensor(weights, "weights")
    shown = weights.shape
    if weights.shape.rank == values.shape.rank + 1:
        weights = _squeeze_last(weights, "weights")
    rank = values.shape.rank
    if weights.shape.rank > rank:
        raise ValueError(
            f"Expected `weights` of rank <= {rank} matching the leading axes of "
            f"shape {values.shape}, received weights.shape={shown}"
        )
    for _ in range(rank - weights.shape.rank):
        weights = tf.expand_dims(weights, -1)
    expected = values.shape
    static = weights.shape
    for w_dim, v_dim in zip(static.as_list(), expected.as_list()):
        if w_dim not in (None, 1) and v_dim is not None and w_dim != v_dim:
            raise ValueError(
                f"Expected `weights` to be a scalar or to match the leading axes "
                f"of shape {expected}, received weights.shape={shown}"
            )
    weights = tf.cast(weights, STATE_DTYPE)
    # One pass, one Assert: NaN fails `>= 0` and +Inf fails `< inf`.
    valid = tf.reduce_all(tf.logical_and(weights >= 0, weights < math.inf))
    checks = _assert_reporting_extremes(valid, "`weights` must be finite and >= 0", weights)
    with tf.control_dependencies(checks):
        broadcast = tf.broadcast_to(weights, tf.shape(values))
    return broadcast, checks


def assert_finite(tensor: tf.Tensor, arg: str) -> list:
    """Run-time check that a float tensor holds no NaN or Inf.

    `reduce_all(is_finite(...))`, which Eigen vectorises and spreads over threads, rather
    than `tf.debugging.assert_all_finite` (CheckNumerics: one scalar loop, about 4x slower on
    [1024, 1000] scores, as slow as the argmax).
    """
    if not tensor.dtype.is_floating:
        return []
    finite = tf.reduce_all(tf.math.is_finite(tensor))
    return [_assert(finite, [f"`{arg}` must be finite (no NaN/Inf)"])]


def assert_in_range(
    tensor: tf.Tensor, low, high, arg: str, *, closed_high: bool, whole: bool = False
) -> list:
    """Run-time check that low <= tensor <= high (or < high); reports min and max.

    With `whole`, every value must also be a whole number (which NaN is not).
    """
    bound = "]" if closed_high else ")"
    kind = "whole numbers in" if whole else "lie in"
    message = f"`{arg}` must {'be ' if whole else ''}{kind} [{low}, {high}{bound}"
    upper = tf.math.less_equal if closed_high else tf.math.less
    smallest, largest = tf.reduce_min(tensor), tf.reduce_max(tensor)  # +-inf/extremes if empty
    valid = tf.logical_and(
        smallest >= tf.cast(low, tensor.dtype), upper(largest, tf.cast(high, tensor.dtype))
    )
    if whole:
        valid = tf.logical_and(valid, tf.reduce_all(tf.equal(tensor, tf.round(tensor))))
    return _assert_reporting_extremes(valid, message, tensor, smallest, largest)


def _assert_reporting_extremes(valid, message: str, tensor, smallest=None, largest=None) -> list:
    """[One `Assert` of `valid`] whose error gives `message` and `tensor`'s min and max."""
    smallest = tf.reduce_min(tensor) if smallest is None else smallest
    largest = tf.reduce_max(tensor) if largest is None else largest
    return [_assert(valid, [message, "received min", smallest, "max", largest])]


def _assert(condition: tf.Tensor, data: list):
    """One `Assert` op on a scalar condition (None when executed eagerly).

    Not `tf.debugging.assert_*`/`Assert`: for float data those wrap each check in a `cond`
    (so that a GPU tensor is copied to the host only on failure), whose Switch/Merge nodes
    run at every step; here the data are a message and scalars, so there is nothing to
    guard. That saves tens of microseconds per `Estimator.evaluate` step
    (benchmarks/results.md).
    """
    return tf.raw_ops.Assert(condition=condition, data=data, summarize=1)


def assert_probabilities(tensor: tf.Tensor, arg: str) -> list:
    """Run-time check that every value is finite and within [0, 1]; reports min and max.

    One elementwise pass and one `Assert`: NaN fails both comparisons, +-Inf one of them
    (min and max only inform the message; they need not see a NaN).
    """
    valid = tf.reduce_all(tf.logical_and(tensor >= 0, tensor <= 1))
    return _assert_reporting_extremes(valid, f"`{arg}` must be finite and lie in [0, 1]", tensor)


def check_name(name: Optional[str], default: str) -> str:
    """The name scope of a builder: `name` or the builder's default."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"Expected `name` to be a str or None, received {type(name).__name__}")
    return name or default


def positive_float(value: Any, arg: str) -> float:
    """A finite float > 0, or ValueError naming `arg` (TypeError if not a number)."""
    _require_real(value, arg)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"Expected `{arg}` > 0, received {arg}={value!r}")
    return float(value)


def open_unit_float(value: Any, arg: str) -> float:
    """A float strictly between 0 and 1, or ValueError naming `arg`."""
    _require_real(value, arg)
    if not 0 < value < 1:
        raise ValueError(f"Expected `{arg}` in the open interval (0, 1), received {arg}={value!r}")
    return float(value)


def _require_real(value: Any, arg: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"Expected `{arg}` to be a real number, received {type(value).__name__}: {value!r}"
        )
