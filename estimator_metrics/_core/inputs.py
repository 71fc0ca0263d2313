"""The tensors every builder takes: conversion, alignment of labels and predictions, weights.

Static problems raise ValueError/TypeError while the graph is built; what can only be known
from the data becomes an `Assert` (`checks`) that raises InvalidArgumentError when the update
runs. Every message names the argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from estimator_metrics._core import checks as _checks
from estimator_metrics._core import shapes as _shapes
from estimator_metrics._core.state import STATE_DTYPE


def to_tensor(value: Any, arg: str) -> tf.Tensor:
    """Converts `value` to a numeric or bool tensor (of any, even unknown, shape)."""
    try:
        tensor = tf.convert_to_tensor(value)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"Expected `{arg}` to be convertible to a tensor, received "
            f"{type(value).__name__}: {err}"
        ) from err
    if not (tensor.dtype.is_floating or tensor.dtype.is_integer or tensor.dtype.is_bool):
        raise TypeError(
            f"Expected `{arg}` to have a numeric or bool dtype, received dtype={tensor.dtype.name}"
        )
    return tensor


def align(
    labels: tf.Tensor, predictions: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor, _shapes.Dims, list]:
    """Both inputs flattened to [N] after checking their shapes agree elementwise.

    [B] meets [B, 1] (a trailing axis of size 1 is ignored at rank >= 2), never broadcast
    to [B, B]. Returns the flat pair, the common (canonical) shape for `broadcast_weights`,
    and the checks: a ValueError now if the static shapes disagree, else an `Assert` where
    the static shapes leave it open.
    """
    shape = _shapes.canonical(_shapes.dims(labels))
    checks = _checks.require(
        _shapes.same(shape, _shapes.canonical(_shapes.dims(predictions))),
        "Expected `labels` and `predictions` to have the same shape (up to a trailing axis "
        "of size 1)",
        {"labels.shape": labels, "predictions.shape": predictions},
    )
    with tf.control_dependencies(checks):
        return _shapes.flat(labels), _shapes.flat(predictions), shape, checks


def broadcast_weights(
    weights: Any, shape: _shapes.Dims, values: str, inner: Sequence[int] = ()
) -> tuple[tf.Tensor | None, list]:
    """Float64 weights for values of `shape`, flattened to [N, *inner]; None if no weights.

    `weights` may be a scalar, of length 1, match `shape`, or cover its leading axes (e.g.
    [B] per-example weights for [B, T] values); a trailing axis of size 1 is ignored, and a
    dimension of 1 broadcasts, as in `tf.compat.v1.metrics`. They must be finite and >= 0.
    `values` says, for the error message, what `shape` is the shape of.
    """
    if weights is None:
        return None, []
    weights = to_tensor(weights, "weights")
    weight_shape = _shapes.canonical(_shapes.dims(weights))
    expected = f"a scalar, of length 1, or match the leading axes of {values}"
    fits = _shapes.covers_leading(weight_shape, shape)
    received = {"weights.shape": weights, "values shape": _shapes.Given(shape)}
    if isinstance(fits, bool):
        _checks.require(fits, f"Expected `weights` to be {expected}", received)
    as_float = tf.cast(weights, STATE_DTYPE)
    # min >= 0 catches negatives and -inf, a finite sum catches NaN and +inf: two reductions,
    # no elementwise boolean pass (the sum is exact enough: weights are cast to float64).
    smallest, total = tf.reduce_min(as_float), tf.reduce_sum(as_float)
    valid = tf.logical_and(smallest >= 0, tf.math.is_finite(total))
    data = ["`weights` must be finite and >= 0; received min", smallest, "sum", total]
    if not isinstance(fits, bool):  # One Assert for the argument: its values and its shape.
        valid = tf.logical_and(valid, fits)
        data = [
            f"`weights` must be finite and >= 0, and {expected}; received min",
            smallest,
            "sum",
            total,
        ]
        for name, value in received.items():
            data += [f"{name}=", _shapes.shape_vector(value)]
    checks = [_checks.assert_that(valid, data)]
    with tf.control_dependencies(checks):
        same_rank = (
            isinstance(weight_shape, list)
            and isinstance(shape, list)
            and len(weight_shape) == len(shape) == weights.shape.rank
        )
        padded = (
            as_float
            if same_rank
            else tf.reshape(as_float, _shapes.as_vector(_shapes.pad_to_rank(weight_shape, shape)))
        )
        return _shapes.flat(tf.broadcast_to(padded, _shapes.as_vector(shape)), inner), checks
