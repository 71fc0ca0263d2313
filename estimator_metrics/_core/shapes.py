"""Shape arithmetic: static where the shapes allow, tensors where only the data can tell.

A *condition* (`Cond`) is a Python bool when static shapes settle it and a scalar bool tensor
when only the data can (`checks.require` turns a False bool into a ValueError and a tensor
into an `Assert`). A *shape* (`Dims`) is a list of dimensions (a Python int, or a scalar
tensor where the static dimension is unknown) when the rank is known, else a 1-D int32
tensor. So one code path serves `[4, 3]`, `[None, 3]`, `[None, None]` and `shape=None` inputs
alike, and emits run-time ops only for what the static shape leaves open. No checks here.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple, Union

import tensorflow as tf

# Union, not `X | Y`: these aliases are evaluated at import, and Python 3.9 has no `|` on types.
Cond = Union[bool, tf.Tensor]
Dim = Union[int, tf.Tensor]
Dims = Union[list, tf.Tensor]


# ------------------------------------------------------------------------------ conditions


def all_of(*conds: Cond) -> Cond:
    """Conjunction: a bool when every part is static or one static part is False."""
    if any(cond is False for cond in conds):
        return False
    dynamic = [cond for cond in conds if cond is not True]
    return functools.reduce(tf.logical_and, dynamic) if dynamic else True


def any_of(*conds: Cond) -> Cond:
    """Disjunction: a bool when every part is static or one static part is True."""
    if any(cond is True for cond in conds):
        return True
    dynamic = [cond for cond in conds if cond is not False]
    return functools.reduce(tf.logical_or, dynamic) if dynamic else False


def negate(cond: Cond) -> Cond:
    return (not cond) if isinstance(cond, bool) else tf.logical_not(cond)


def equal(a: Dim, b: Dim) -> Cond:
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    return tf.equal(a, b)


def at_least(a: Dim, b: int) -> Cond:
    return a >= b if isinstance(a, int) else tf.greater_equal(a, b)


def select(cond: Cond, if_true, if_false) -> tf.Tensor:
    """`if_true()` or `if_false()` (same shape and dtype): only the one a static `cond`
    picks is built; for a tensor `cond`, both, and `tf.where` picks at run time."""
    if isinstance(cond, bool):
        return if_true() if cond else if_false()
    return tf.where(cond, if_true(), if_false())


class Given(NamedTuple):
    """A shape (`Dims`) to report in `checks.require`'s messages as it is, not a tensor's shape."""

    dims: list | tf.Tensor


def static_text(value) -> str:
    """A tensor's static shape, or a `Given` shape, as text: (None, 3)."""
    if isinstance(value, Given):
        if isinstance(value.dims, list):
            return str(tf.TensorShape([d if isinstance(d, int) else None for d in value.dims]))
        return "<unknown>"
    return str(value.shape)


def shape_vector(value) -> tf.Tensor:
    """A tensor's run-time shape, or a `Given` shape, as a vector."""
    return as_vector(value.dims) if isinstance(value, Given) else tf.shape(value)


# ---------------------------------------------------------------------------------- shapes


def dims(tensor: tf.Tensor) -> Dims:
    """`tensor`'s shape: static dimensions as ints, the others from `tf.shape` at run time."""
    static = tensor.shape
    if static.rank is None:
        return tf.shape(tensor)
    if static.is_fully_defined():
        return static.as_list()
    dynamic = tf.shape(tensor)
    return [dim if dim is not None else dynamic[i] for i, dim in enumerate(static.as_list())]


def rank(shape: Dims) -> Dim:
    return len(shape) if isinstance(shape, list) else tf.size(shape)


def last(shape: Dims) -> Dim:
    """The last dimension; 0 for a scalar (never a valid class axis)."""
    if isinstance(shape, list):
        return shape[-1] if shape else 0
    return tf.concat([[0], shape], 0)[tf.size(shape)]


def leading(shape: Dims, drop: Cond) -> Dims:
    """`shape` without its last dimension where `drop` (which implies rank >= 1)."""
    if drop is False:
        return shape
    if drop is True and isinstance(shape, list):
        return shape[:-1]
    vector = as_vector(shape)
    return vector[: tf.size(vector) - tf.cast(drop, tf.int32)]


def canonical(shape: Dims) -> Dims:
    """`shape` without a trailing axis of size 1 at rank >= 2: [B, 1] and [B] agree."""
    return leading(shape, all_of(at_least(rank(shape), 2), equal(last(shape), 1)))


def as_vector(shape: Dims) -> tf.Tensor:
    """`shape` as a 1-D int32 tensor (a constant when static)."""
    if not isinstance(shape, list):
        return shape
    if all(isinstance(dim, int) for dim in shape):
        return tf.constant(shape, tf.int32, shape=[len(shape)])
    return tf.stack([tf.cast(dim, tf.int32) for dim in shape])


def same(a: Dims, b: Dims) -> Cond:
    """Whether two shapes are equal."""
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return False
        return all_of(*(equal(x, y) for x, y in zip(a, b)))
    a, b = as_vector(a), as_vector(b)
    size = tf.maximum(tf.size(a), tf.size(b))
    # Padded with -1 (no real dimension) so vectors of different lengths compare unequal.
    a_pad, b_pad = (tf.pad(v, [[0, size - tf.size(v)]], constant_values=-1) for v in (a, b))
    return tf.logical_and(tf.equal(tf.size(a), tf.size(b)), tf.reduce_all(tf.equal(a_pad, b_pad)))


def covers_leading(weights: Dims, values: Dims) -> Cond:
    """Whether `weights` broadcasts over `values` aligned on the leading axes.

    Each weights dimension is 1 or the values' dimension; missing trailing ones are 1.
    """
    if isinstance(weights, list) and isinstance(values, list):
        if len(weights) > len(values):
            return False
        return all_of(
            *(
                any_of(equal(w, 1), equal(w, v)) for w, v in zip(weights, values)
            )  # weights: leading axes
        )
    w, v = as_vector(weights), as_vector(values)
    fits = tf.size(w) <= tf.size(v)
    padded = tf.concat([w, tf.ones([tf.maximum(tf.size(v) - tf.size(w), 0)], tf.int32)], 0)
    padded = padded[: tf.size(v)]
    return tf.logical_and(
        fits, tf.reduce_all(tf.logical_or(tf.equal(padded, 1), tf.equal(padded, v)))
    )


def pad_to_rank(shape: Dims, target: Dims) -> Dims:
    """`shape` followed by 1s up to `target`'s rank (assumes rank(shape) <= rank(target))."""
    if isinstance(shape, list) and isinstance(target, list):
        return shape + [1] * (len(target) - len(shape))
    vector, size = as_vector(shape), tf.size(as_vector(target))
    return tf.concat([vector, tf.ones([tf.maximum(size - tf.size(vector), 0)], tf.int32)], 0)


def flat(tensor: tf.Tensor, inner: Sequence[int] = ()) -> tf.Tensor:
    """`tensor` as [N, *inner]."""
    return tf.reshape(tensor, [-1, *inner])
