"""Run-time value checks: one `Assert` per argument, built from reductions, naming it.

Each `*_valid` function returns a scalar bool over a whole tensor; the `assert_*`
functions wrap one in an `Assert` whose message names the argument and reports the
smallest and largest value seen. Where a layout is only decided at run time, two
conditions are combined with `either` into one `Assert`.
"""

from __future__ import annotations

import tensorflow as tf

from estimator_metrics._core import shapes as _shapes


def finite_valid(tensor: tf.Tensor) -> tf.Tensor:
    # reduce_all(is_finite), which Eigen vectorises and spreads over threads, rather than
    # tf.debugging.assert_all_finite (CheckNumerics: one scalar loop, about 4x slower on
    # [1024, 1000] scores, as slow as the argmax).
    if not tensor.dtype.is_floating:
        return tf.constant(True)
    return tf.reduce_all(tf.math.is_finite(tensor))


def unit_interval_valid(tensor: tf.Tensor) -> tf.Tensor:
    """Every value in [0, 1]: one elementwise pass; NaN fails both comparisons."""
    return tf.reduce_all(tf.logical_and(tensor >= 0, tensor <= 1))


def range_valid(tensor: tf.Tensor, low, high, *, closed_high: bool, whole: bool) -> tuple:
    """(low <= every value <= high (< high if not `closed_high`), whole numbers if `whole`;
    the smallest value; the largest), so an `Assert` can report the extremes it checked."""
    upper = tf.math.less_equal if closed_high else tf.math.less
    smallest, largest = tf.reduce_min(tensor), tf.reduce_max(tensor)  # +-inf/extremes if empty
    valid = tf.logical_and(
        smallest >= tf.cast(low, tensor.dtype), upper(largest, tf.cast(high, tensor.dtype))
    )
    if whole:  # NaN is not whole.
        valid = tf.logical_and(valid, tf.reduce_all(tf.equal(tensor, tf.round(tensor))))
    return valid, smallest, largest


def one_hot_valid(rows: tf.Tensor) -> tf.Tensor:
    """Every row of [N, C] `rows` is 0s and one 1: min >= 0, each row's sum and max are 1."""
    rows = tf.cast(rows, tf.float64)
    return tf.logical_and(
        tf.reduce_min(rows) >= 0,
        tf.reduce_all(
            tf.logical_and(
                tf.equal(tf.reduce_sum(rows, axis=1), 1), tf.equal(tf.reduce_max(rows, axis=1), 1)
            )
        ),
    )


def range_message(arg: str, low, high, *, closed_high: bool, whole: bool) -> str:
    bound = "]" if closed_high else ")"
    return f"`{arg}` must {'be whole numbers in' if whole else 'lie in'} [{low}, {high}{bound}"


def assert_valid(valid: tf.Tensor, message: str, tensor: tf.Tensor, extremes=None) -> list:
    """[One `Assert` of `valid`] whose error gives `message` and `tensor`'s min and max
    (`extremes`, where the check already computed them)."""
    if extremes is None:
        if tensor.dtype.is_bool:
            tensor = tf.cast(tensor, tf.int32)
        extremes = tf.reduce_min(tensor), tf.reduce_max(tensor)
    return [_shapes.assert_that(valid, [message, "received min", extremes[0], "max", extremes[1]])]


def assert_finite(tensor: tf.Tensor, arg: str) -> list:
    if not tensor.dtype.is_floating:
        return []
    return [_shapes.assert_that(finite_valid(tensor), [f"`{arg}` must be finite (no NaN/Inf)"])]


def assert_probabilities(tensor: tf.Tensor, arg: str) -> list:
    """Every value finite and in [0, 1]; e.g. logits passed where probabilities belong fail."""
    return assert_valid(
        unit_interval_valid(tensor), f"`{arg}` must be finite and lie in [0, 1]", tensor
    )


def assert_in_range(
    tensor: tf.Tensor,
    low,
    high,
    arg: str,
    *,
    closed_high: bool,
    whole: bool = False,
    message: str = "",
) -> list:
    valid, *extremes = range_valid(tensor, low, high, closed_high=closed_high, whole=whole)
    return assert_valid(
        valid,
        message or range_message(arg, low, high, closed_high=closed_high, whole=whole),
        tensor,
        extremes,
    )
