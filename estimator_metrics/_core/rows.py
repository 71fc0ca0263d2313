"""Row argmax and row max of float batches with their value checks, in one read where it can.

F-beta from scores needs the argmax of every row and, since `tf.argmax` ignores NaN (a row
with a NaN gets the argmax of its other entries), a second read of the batch to refuse NaN
and Inf. For scores with no negative sign bit (softmax and sigmoid outputs, any
probabilities) one read does both. The bits of a float with its sign bit clear, read as an
unsigned integer of the same width, order as the floats do, +Inf and NaN above every finite
value; every value with its sign bit set (negatives, -0.0, -Inf, negative NaN) lies above
those. So the largest key of a row, at its first position (as `argmax` and NumPy break ties,
and as `top_k` documents), is the float argmax whenever that key is below the key of +Inf,
and then no value of the row is negative, -0.0, infinite or NaN. `top_k(k=1)` over the
integer keys finds it, and is cheaper than a float `argmax` followed by a check. On wide
rows `tf.argmax` over the same keys finds the same position (first on ties) and the row's
largest key is gathered from there: one read as well, which TensorFlow's ArgMax spreads
over the intra-op threads, where `top_k(k=1)` reads every row on one thread. So from
KEY_ARGMAX_FROM classes on, where that read outweighs the few small ops the gather adds,
the keys take ArgMax, below that `top_k`: by CPU time `top_k` is the cheaper read at every
width, by the wall clock of a session with more than one thread ArgMax is, once the rows
are wide enough. Both read a row at a third to a half of `reduce_max`'s speed, so from
GROUPED_FROM classes on, where the width has a divisor near its square root, a row is
searched by groups of that width: `reduce_max` over the groups reads the batch (vectorized,
spread over the threads), and `top_k` finds the first group holding the row's largest key
and, in that one group, gathered, its first position. Every way gives the same ids and the
same largest keys, so the same verdicts.

Average confidence needs each row's maximum and the check that every value lies in [0, 1],
which would take a second read for the minimum. The largest key of every row at most the
key of 1.0 proves the row in [+0.0, 1]; the row maxima are those keys read back as floats.

Rows that fail the test (logits with negative entries, or bad data) take the float argmax
and a sum over the batch through a `cond`. Which path is tried first depends on the op that
made the scores: softmax and the like go to the keys, logits (a dense layer's `BiasAdd`, ...)
to the float argmax, anything else (placeholders, `tf.data`) after a probe of the first
row; few classes go to the float argmax, where the conds cost more than the keys save. Which
path runs never changes a result: each is exact where it answers, and the check either
proves every value finite or computes the sum that decides. Softmax (and a few ops like it,
SIGN_FREE) never sets the sign bit of a value that is not NaN, so where its keys fail the
batch holds NaN or Inf and is refused whichever path ran: there the keys need no fallback
and no `cond`, whose Switch and Merge nodes would run at every update. What each choice
measured is in benchmarks/results.md (notes 9, 10, 11 and 12).
"""

from __future__ import annotations

import math

import tensorflow as tf

from estimator_metrics._core import checks as _checks

_UNSIGNED = {2: tf.uint16, 4: tf.uint32, 8: tf.uint64}
#: Producers of values that are never negative: from KEYED_FROM classes on, their rows
#: try the keys at once (one `cond`, to fall back where a row fails). Below KEYED_FROM
#: classes the `cond` costs more than the keys save. `unit_row_max` always tries the keys
#: from KEYED_FROM on: its values must be probabilities.
NON_NEGATIVE = frozenset({"Softmax", "Sigmoid", "Relu", "Relu6", "Exp", "Abs", "Square"})
KEYED_FROM = 16
#: Producers whose values never have the sign bit set unless they are NaN (exp(x) >= +0.0
#: divided by a positive sum; |x|; x * x): a row whose keys fail holds NaN or Inf, which
#: is refused on every path, so their rows need no fallback (no `cond`). Relu is not
#: among them: relu(-0.0) is -0.0, a valid score the keys cannot order.
SIGN_FREE = frozenset({"Softmax", "Exp", "Abs", "Square"})
#: Producers of logits, negative as often as not: their rows take the float argmax.
SIGNED = frozenset(
    {"BiasAdd", "MatMul", "BatchMatMulV2", "BatchMatMulV3", "Einsum", "LogSoftmax", "Neg"}
)
#: Any other producer (a placeholder, a variable, `tf.data`): from PROBED_FROM classes on,
#: a probe of the first row picks the path. The probe is a second `cond`, which logits pay
#: for on their way to the float argmax; from here on probabilities save more than that.
PROBED_FROM = 64
#: From this many classes on, the keys' largest entry of a row is found by ArgMax (spread
#: over the intra-op threads) and a gather of the B maxima, below it by `top_k(k=1)` (one
#: thread per op, fewer ops): decided from the static width, the same ops at every C above.
KEY_ARGMAX_FROM = 4096
#: From this many classes on, where the width has a divisor near its square root, a row's
#: largest key is found by groups (`group_width`): one `reduce_max` over groups of about
#: sqrt(C) keys reads the batch, and `top_k` searches the group maxima and the one group
#: that holds the row's largest key (about 2 sqrt(C) keys a row).
GROUPED_FROM = 512
#: How far from sqrt(C) a group's width may lie, either way, as a factor.
GROUP_SPREAD = 2.5
#: Ops passed through to find the producer: they keep every value's sign.
_SIGN_KEEPING = frozenset({"Identity", "Reshape", "Squeeze", "ExpandDims"})


@tf.autograph.experimental.do_not_convert  # Graph-building code: nothing to convert.
def row_argmax(rows: tf.Tensor) -> tuple[tf.Tensor, _checks.Check]:
    """int64 argmax [N] of float `rows` [N, C] (first on ties) and the check they are finite.

    The op that made the values (found through reshapes) only picks the path tried first;
    every path gives the same ids and the same verdict. The check's data are the sum over
    `rows` where it was computed (the error reports it).
    """
    producer = _producer(rows)
    width = rows.shape[-1]
    if producer in SIGNED or width < (KEYED_FROM if producer in NON_NEGATIVE else PROBED_FROM):
        return _by_float(rows)
    unsigned = _UNSIGNED[rows.dtype.size]
    keys = tf.bitcast(rows, unsigned)
    # The key of +Inf: every smaller key is a finite value >= +0.0.
    bound = tf.bitcast(tf.constant(float("inf"), rows.dtype), unsigned)

    def keyed() -> tuple:
        row_keys, ids = _largest_keys(keys)
        # Empty rows: the max of no keys is 0, below the bound; nothing to refuse.
        largest = tf.reduce_max(row_keys)
        return ids, largest < bound, largest

    if producer in SIGN_FREE:  # A subset of NON_NEGATIVE (tests): from KEYED_FROM on.
        ids, proven, largest = keyed()
        # Refused only for NaN or Inf, which the largest key read back as a float shows.
        return ids, _checks.Check(proven, ["received", tf.bitcast(largest, rows.dtype)])

    def by_keys() -> tuple:
        ids, proven, _ = keyed()
        return tf.cond(proven, lambda: (ids, proven, tf.zeros([], rows.dtype)), by_float)

    def by_float() -> tuple:
        ids, check = _by_float(rows)
        return ids, check.valid, check.data[1]

    if producer in NON_NEGATIVE:
        ids, finite, total = by_keys()
    else:  # A probe of the first row sends logits to the float argmax at once.
        ids, finite, total = tf.cond(tf.reduce_max(keys[:1]) < bound, by_keys, by_float)
    return ids, _checks.Check(finite, ["received sum", total])


@tf.autograph.experimental.do_not_convert  # Graph-building code: nothing to convert.
def unit_row_max(values: tf.Tensor) -> tuple[tf.Tensor, _checks.Check]:
    """Maximum over the last axis of float `values` [..., C], and the check that every value
    lies in [0, 1] (finite; the data are the smallest and largest value where computed)."""
    row_max, _, check = _unit_rows(values, with_argmax=False)
    return row_max, check


@tf.autograph.experimental.do_not_convert  # Graph-building code: nothing to convert.
def unit_row_top(values: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, _checks.Check]:
    """`unit_row_max` and the int64 argmax of each row (first on ties, as `row_argmax`).

    One `top_k(k=1)` finds both in one read, of the keys or of the floats; `tf.argmax`
    beside `reduce_max` would read the batch twice.
    """
    return _unit_rows(values, with_argmax=True)


def _unit_rows(values: tf.Tensor, with_argmax: bool) -> tuple:
    """(row maxima, int64 argmax or None, the [0, 1] check) of float `values` [..., C]."""
    width = values.shape[-1]
    if width is None or width < KEYED_FROM:
        return _unit_rows_by_float(values, with_argmax)
    unsigned = _UNSIGNED[values.dtype.size]
    keys = tf.bitcast(values, unsigned)
    if with_argmax:
        row_keys, ids = _largest_keys(keys)
    else:
        row_keys, ids = tf.reduce_max(keys, axis=-1), None
    # Keys up to that of 1.0 are the floats in [+0.0, 1]; no rows at all give 0.
    proven = tf.reduce_max(row_keys) <= tf.bitcast(tf.constant(1.0, values.dtype), unsigned)
    found = () if ids is None else (ids,)  # `cond` takes no None among its outputs.

    def by_keys() -> tuple:
        zero = tf.zeros([], values.dtype)
        return (tf.bitcast(row_keys, values.dtype), *found, proven, zero, zero)

    def by_float() -> tuple:
        row_max, float_ids, check = _unit_rows_by_float(values, with_argmax)
        return (row_max, *([] if ids is None else [float_ids]), check.valid, *check.data[1::2])

    row_max, *rest = tf.cond(proven, by_keys, by_float)
    if ids is not None:
        ids, *rest = rest
    valid, smallest, largest = rest
    return row_max, ids, _checks.Check(valid, ["received min", smallest, "max", largest])


def _largest_keys(keys: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """The largest of unsigned `keys` [..., C] along the last axis, and its int64 position
    (the first, on ties): by groups of `group_width(C)` where C has such a divisor, else by
    ArgMax and a gather from KEY_ARGMAX_FROM classes on (the rank known), else by
    `top_k(k=1)`."""
    width, rank = keys.shape[-1], keys.shape.rank
    if rank is not None and width is not None:
        group = group_width(width)
        if group is not None:
            return _largest_keys_by_groups(keys, group)
        if width >= KEY_ARGMAX_FROM:
            ids = tf.argmax(keys, axis=-1)
            return tf.gather(keys, ids[..., None], batch_dims=rank - 1)[..., 0], ids
    top = tf.math.top_k(keys, k=1)
    return top.values[..., 0], tf.cast(top.indices[..., 0], tf.int64)


def group_width(width: int) -> int | None:
    """The width of the groups a row of `width` keys is searched in: the divisor of
    `width` closest to its square root (within GROUP_SPREAD either way), from GROUPED_FROM
    classes on; None where there is none (a prime width, say)."""
    if width < GROUPED_FROM:
        return None
    root = math.sqrt(width)
    small = [g for g in range(2, math.isqrt(width) + 1) if width % g == 0]
    near = [
        g
        for g in small + [width // g for g in small]
        if root / GROUP_SPREAD <= g <= root * GROUP_SPREAD
    ]
    return min(near, key=lambda g: (abs(math.log(g / root)), -g), default=None)


def _largest_keys_by_groups(keys: tf.Tensor, group: int) -> tuple[tf.Tensor, tf.Tensor]:
    """`_largest_keys` of `keys` [..., C] by groups of `group` keys: one `reduce_max` over
    the groups reads the batch (Eigen's, vectorized and spread over the intra-op threads);
    `top_k(k=1)` over the [M, C / group] group maxima finds each row's first group holding
    its largest key, and over that group's keys, gathered ([M, group]), the first position
    in it: the first position of the row's largest key, as `top_k` over the whole row."""
    grouped = tf.reshape(keys, [-1, keys.shape[-1] // group, group])  # [M, G, group]
    top = tf.math.top_k(tf.reduce_max(grouped, axis=-1), k=1)
    first_group = top.indices[:, 0]
    members = tf.gather(grouped, first_group, batch_dims=1)  # [M, group]
    within = tf.math.top_k(members, k=1).indices[:, 0]
    largest, ids = top.values[:, 0], tf.cast(first_group * group + within, tf.int64)
    if keys.shape.rank == 2:
        return largest, ids
    leading = tf.shape(keys)[:-1]
    return tf.reshape(largest, leading), tf.reshape(ids, leading)


def _unit_rows_by_float(values: tf.Tensor, with_argmax: bool) -> tuple:
    """The row maxima (by `top_k` with the argmax, else `reduce_max`), and [0, 1] by the
    minimum over `values` and the largest row maximum (the largest value where no value is
    NaN; a NaN anywhere makes the minimum NaN, whatever `top_k` made of its row)."""
    if with_argmax:
        top = tf.math.top_k(values, k=1)
        row_max, ids = top.values[..., 0], tf.cast(top.indices[..., 0], tf.int64)
    else:
        row_max, ids = tf.reduce_max(values, axis=-1), None
    smallest, largest = tf.reduce_min(values), tf.reduce_max(row_max)
    valid = tf.logical_and(smallest >= 0, largest <= 1)
    return row_max, ids, _checks.Check(valid, ["received min", smallest, "max", largest])


def _by_float(rows: tf.Tensor) -> tuple[tf.Tensor, _checks.Check]:
    """`tf.argmax` and, since it ignores NaN, a finite check of the sum over `rows`."""
    return tf.argmax(rows, axis=1), _checks.finite(rows)


def _producer(tensor: tf.Tensor) -> str:
    """The type of the op that made `tensor`'s values, through sign-keeping ops; "" if
    unknown (eager tensors have no op)."""
    op = getattr(tensor, "op", None)
    for _ in range(8):
        if op is None or op.type not in _SIGN_KEEPING or not op.inputs:
            break
        op = op.inputs[0].op
    return "" if op is None else op.type
