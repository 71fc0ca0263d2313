"""Input checks shared by the builders: conversion, shape alignment, weights.

Static problems raise ValueError/TypeError while the graph is built; what can
only be known from the data becomes a `tf.debugging` assertion that raises
InvalidArgumentError when the update runs. Every message names the argument.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import tensorflow as tf

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
    checks = _shapes.require(
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
        _shapes.require(fits, f"Expected `weights` to be {expected}", received)
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
    checks = [_shapes.assert_that(valid, data)]
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


def check_name(name: str | None, default: str) -> str:
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
