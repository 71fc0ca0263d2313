"""Streaming metric state: exact local variables and replica-safe reads."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import tensorflow as tf

#: dtype of every accumulator and of every metric value we return.
STATE_DTYPE = tf.float64

_STATE_COLLECTIONS = (
    tf.compat.v1.GraphKeys.LOCAL_VARIABLES,
    tf.compat.v1.GraphKeys.METRIC_VARIABLES,
)


def require_graph(builder: str) -> None:
    """Raises RuntimeError when `builder` is called under eager execution."""
    if tf.executing_eagerly():
        raise RuntimeError(
            f"estimator_metrics.builders.{builder} builds graph metric ops for "
            "EstimatorSpec(eval_metric_ops=...); call it inside a model_fn (or a "
            "tf.Graph), not under eager execution. For eager code use a Keras "
            "metric (see estimator_metrics.keras_metrics)."
        )


def metric_variable(shape: Sequence[int], name: str) -> tf.Variable:
    """A zero-initialised float64 accumulator in LOCAL_ and METRIC_VARIABLES.

    Like `tf.compat.v1.metrics`, the variable is ON_READ/SUM, so under a
    `tf.distribute` strategy every replica accumulates its own copy and a read
    in cross-replica context returns the sum. Unlike `tf.compat.v1.metrics`,
    it is float64: integer weights stay exact up to 2**53.
    """
    return tf.compat.v1.Variable(
        lambda: tf.zeros(shape, STATE_DTYPE),
        trainable=False,
        collections=list(_STATE_COLLECTIONS),
        validate_shape=True,
        synchronization=tf.VariableSynchronization.ON_READ,
        aggregation=tf.VariableAggregation.SUM,
        name=name,
    )


def streaming_pair(
    state: Sequence[tuple[str, Sequence[int]]],
    increments: Sequence[tf.Tensor],
    compute: Callable[..., tf.Tensor],
    metrics_collections: Iterable[str] | None,
    updates_collections: Iterable[str] | None,
    updated: Callable[..., tf.Tensor] | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """The `(value, update_op)` pair of a metric over float64 accumulators.

    Args:
      state: `(name, shape)` of each accumulator, created with
        `metric_variable`.
      increments: One batch's addition to each accumulator.
      compute: Maps the accumulators (in order) to the metric value.
      metrics_collections: Collections to add `value` to.
      updates_collections: Collections to add `update_op` to.
      updated: Maps the updated accumulators to what `update_op` returns, where
        that is not `compute` (a value too costly to compute at every step).

    Returns:
      `value`, `compute` of the (replica-summed) state, and `update_op`,
      which adds the increments and returns `compute` (or `updated`) of the
      updated state.
    """
    pairs = streaming_pairs(
        state,
        increments,
        lambda *accumulators: {"value": compute(*accumulators)},
        metrics_collections,
        updates_collections,
        updated=None
        if updated is None
        else lambda *accumulators: {"value": updated(*accumulators)},
    )
    return pairs["value"]


def streaming_pairs(
    state: Sequence[tuple[str, Sequence[int]]],
    increments: Sequence[tf.Tensor],
    compute: Callable[..., Mapping[str, tf.Tensor]],
    metrics_collections: Iterable[str] | None,
    updates_collections: Iterable[str] | None,
    updated: Callable[..., Mapping[str, tf.Tensor]] | None = None,
) -> dict[str, tuple[tf.Tensor, tf.Tensor]]:
    """`(value, update_op)` pairs of several metrics over the same float64 accumulators.

    One set of variables and one update add the increments; every pair reads them. As
    `streaming_pair`, with `compute` mapping the accumulators to `{key: value}`: `value`
    of each key is computed from the replica-summed state, its `update_op` from the
    updated local state, both by the one call to `compute` (or `updated`) each of them
    needs.
    """
    variables = [metric_variable(shape, var_name) for var_name, shape in state]
    values = _read_values(compute, variables, metrics_collections)
    updates = dict((updated or compute)(*_accumulate(variables, increments)))
    if updates_collections:
        for update_op in updates.values():
            tf.compat.v1.add_to_collections(updates_collections, update_op)
    return {key: (values[key], updates[key]) for key in values}


def _accumulate(
    variables: Sequence[tf.Variable], increments: Sequence[tf.Tensor]
) -> list[tf.Tensor]:
    """Adds each increment to its variable; returns the updated local values."""
    return [tf.convert_to_tensor(var.assign_add(inc)) for var, inc in zip(variables, increments)]


def _read_values(
    compute: Callable[..., Mapping[str, tf.Tensor]],
    variables: Sequence[tf.Variable],
    metrics_collections: Iterable[str] | None,
) -> dict[str, tf.Tensor]:
    """`compute(*variables)` in cross-replica context, so replicas are summed.

    Mirrors `tf.compat.v1.metrics`: the values are built inside one `merge_call` (a no-op
    without a strategy) and each is added to `metrics_collections`.
    """

    def in_cross_replica(_strategy, *state):
        values = dict(compute(*state))
        if metrics_collections:
            for value in values.values():
                tf.compat.v1.add_to_collections(metrics_collections, value)
        return values

    replica_context = tf.distribute.get_replica_context()
    if replica_context is None:  # Already in cross-replica context.
        return in_cross_replica(tf.distribute.get_strategy(), *variables)
    return replica_context.merge_call(in_cross_replica, args=tuple(variables))
