"""Run-time checks: every `Assert` of the metrics is made here, one per argument, naming it.

Two kinds. `require` checks a *condition* on shapes (`shapes.Cond`): a ValueError while the
graph is built where the static shapes already settle it false, else an `Assert` whose
error reports the shapes as fed. A `Check` is a scalar condition over a whole tensor's
values and the scalars its error reports (the smallest and largest value, or the sum);
`assert_check` makes its `Assert`. Value conditions come from reductions (min, max, sum),
never from an elementwise boolean pass: a reduction reads the batch once and writes
nothing, and what it computes is also what the message reports, so a check costs one or
two passes over the data and no more. They rely on TensorFlow's `reduce_min`/`reduce_max`
propagating NaN (a NaN anywhere makes them NaN, and NaN fails every comparison), which
the tests that feed NaN check on every supported line; `argmax`, which ignores NaN, is
never trusted for it.
"""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf

from estimator_metrics._core import shapes as _shapes


def require(cond: _shapes.Cond, message: str, received: dict) -> list:
    """Checks `cond`: [] if statically true, ValueError if statically false, else [Assert].

    `message` says what was expected and names the argument; both errors append the shapes
    in `received` (`{"labels.shape": tensor or Given(dims), ...}`), static or as fed.
    """
    if cond is True:
        return []
    if cond is False:
        shown = ", ".join(
            f"{name}={_shapes.static_text(value)}" for name, value in received.items()
        )
        raise ValueError(f"{message}; received {shown}")
    data = [message + "; received"]
    for name, value in received.items():
        data += [f"{name}=", _shapes.shape_vector(value)]
    return [assert_that(cond, data)]


def assert_that(condition: tf.Tensor, data: list):
    """One `Assert` op on a scalar condition (None when executed eagerly).

    Every run-time check goes through here (the benchmarks' checks-off diagnostic replaces
    it). Not `tf.debugging.assert_*`/`Assert`: for float data those wrap each check in a
    `cond` (so that a GPU tensor is copied to the host only on failure), whose Switch/Merge
    nodes run at every step; here the data are messages, shapes and scalars, so there is
    nothing to guard. That saves tens of microseconds per `Estimator.evaluate` step
    (benchmarks/results.md).
    """
    return tf.raw_ops.Assert(condition=condition, data=data, summarize=8)


class Check(NamedTuple):
    """A scalar bool over a whole tensor, and the scalars (with labels) its error reports."""

    valid: tf.Tensor
    data: list


def finite(tensor: tf.Tensor) -> Check:
    """No NaN or Inf: one sum, which either makes NaN or +-Inf (or +Inf and -Inf, NaN).

    A float32 sum overflows only past 3.4e38, far beyond any score or logit; such an input
    is refused, never silently used.
    """
    if not tensor.dtype.is_floating:
        return Check(tf.constant(True), [])
    total = tf.reduce_sum(tensor)
    return Check(tf.math.is_finite(total), ["received sum", total])


def in_range(tensor: tf.Tensor, low, high, *, closed_high: bool, whole: bool = False) -> Check:
    """low <= every value <= high (< high if not `closed_high`); whole numbers if `whole`.

    Two reductions; NaN fails both comparisons. Only `whole` (float class ids, a [B]
    tensor) needs an elementwise pass.
    """
    upper = tf.math.less_equal if closed_high else tf.math.less
    smallest, largest = tf.reduce_min(tensor), tf.reduce_max(tensor)  # +-inf/extremes if empty
    valid = tf.logical_and(
        smallest >= tf.cast(low, tensor.dtype), upper(largest, tf.cast(high, tensor.dtype))
    )
    if whole:  # NaN is not whole.
        valid = tf.logical_and(valid, tf.reduce_all(tf.equal(tensor, tf.round(tensor))))
    return Check(valid, ["received min", smallest, "max", largest])


def unit_interval(tensor: tf.Tensor) -> Check:
    """Every value finite and in [0, 1]: probabilities (logits passed instead fail)."""
    return in_range(tensor, 0, 1, closed_high=True)


def one_hot(rows: tf.Tensor, ids: tf.Tensor) -> Check:
    """Every row of [N, C] `rows` is 0s and one 1, given `ids` = argmax of each row.

    min >= 0, each row sums to 1 and holds 1 at its argmax: then the rest of the row sums
    to 0 and is >= 0, so it is 0. Two reductions (NaN propagates through both) and a
    gather of N values.
    """
    rows = tf.cast(rows, tf.float64)
    at_argmax = tf.gather(rows, ids, axis=1, batch_dims=1)
    valid = tf.logical_and(
        tf.reduce_min(rows) >= 0,
        tf.reduce_all(
            tf.logical_and(tf.equal(tf.reduce_sum(rows, axis=1), 1), tf.equal(at_argmax, 1))
        ),
    )
    return Check(valid, [])


def either(cond: _shapes.Cond, if_true, if_false) -> Check:
    """The check of the layout `cond` picks: only the one built where static, else both,
    with `tf.where` choosing the condition at run time and the error reporting both."""
    if isinstance(cond, bool):
        return if_true() if cond else if_false()
    a, b = if_true(), if_false()
    return Check(tf.where(cond, a.valid, b.valid), a.data + b.data)


def assert_check(check: Check, message: str) -> list:
    """[One `Assert`] of `check`, whose error gives `message` and what the check computed."""
    return [assert_that(check.valid, [message, *check.data])]


def range_message(arg: str, low, high, *, closed_high: bool, whole: bool) -> str:
    bound = "]" if closed_high else ")"
    return f"`{arg}` must {'be whole numbers in' if whole else 'lie in'} [{low}, {high}{bound}"


def assert_finite(tensor: tf.Tensor, arg: str) -> list:
    if not tensor.dtype.is_floating:
        return []
    return assert_check(finite(tensor), f"`{arg}` must be finite (no NaN/Inf)")


def assert_probabilities(tensor: tf.Tensor, arg: str) -> list:
    """Every value finite and in [0, 1]; e.g. logits passed where probabilities belong fail."""
    return assert_check(unit_interval(tensor), f"`{arg}` must be finite and lie in [0, 1]")


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
    check = in_range(tensor, low, high, closed_high=closed_high, whole=whole)
    return assert_check(
        check, message or range_message(arg, low, high, closed_high=closed_high, whole=whole)
    )
