"""Keras metric objects as correct `(value, update_op)` pairs for Estimator.

Stock `EstimatorSpec` turns a Keras metric into
`(metric.result(), metric.updates[0])`: only the last op of the first
`update_state` call, so a metric updated twice counts once and metrics whose
update assigns several variables (FBetaScore, F1Score, R2Score) come out as
0.0 or NaN. `from_keras` runs the whole `update_state` in a `tf.function`,
whose automatic control dependencies run every assignment in program order.
"""

from __future__ import annotations

import functools
import inspect
import re
import types
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Union

import tensorflow as tf

__all__ = ["from_keras", "per_class"]

MetricLike = Union[tf.keras.metrics.Metric, Callable[[tf.Tensor, tf.Tensor], tf.Tensor]]


class _GraphState:
    """What `from_keras` remembers about one graph, stored on the graph itself.

    `wrappers`: the MeanMetricWrapper made for each plain function (one state per function
    per graph); `calls`: the update calls made so far on each metric. Both are kept by
    identity (a callable need not be hashable) and die with the graph: a module-level
    registry would keep every graph of a continuous evaluation alive.
    """

    ATTRIBUTE = "_estimator_metrics_adapter_state"

    def __init__(self):
        self.wrappers: list[tuple[Callable, tf.keras.metrics.Metric]] = []
        self.calls: list[tuple[tf.keras.metrics.Metric, list]] = []

    @classmethod
    def of(cls, graph: tf.Graph) -> _GraphState:
        # An attribute, not a graph collection: collections are exported with the
        # MetaGraphDef of every checkpoint, and this one cannot be serialized.
        if not hasattr(graph, cls.ATTRIBUTE):
            setattr(graph, cls.ATTRIBUTE, cls())
        return getattr(graph, cls.ATTRIBUTE)

    def wrapper(self, function: Callable, make: Callable[[], tf.keras.metrics.Metric]):
        for known, wrapper in self.wrappers:
            if known is function:
                return wrapper
        self.wrappers.append((function, make()))
        return self.wrappers[-1][1]

    def calls_of(self, metric: tf.keras.metrics.Metric) -> list:
        for known, calls in self.calls:
            if known is metric:
                return calls
        self.calls.append((metric, []))
        return self.calls[-1][1]


def from_keras(
    metric: MetricLike,
    labels: Any,
    predictions: Any,
    sample_weight: Any = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """A Keras metric as an Estimator `(value, update_op)` pair.

    Every call adds one `update_state(labels, predictions, sample_weight)`.
    The returned `update_op` runs this call's update and every earlier one on
    the same metric, so the last pair alone counts all of them (and pairs
    listed together still run each update once per step, as Estimator runs
    all update ops of a step together); `value` is `metric.result()` over
    everything accumulated.
    The metric's variables are moved to LOCAL_VARIABLES and METRIC_VARIABLES
    (never GLOBAL_VARIABLES), including those a metric builds lazily on its
    first update, so checkpoints are untouched.

    Args:
      metric: A `tf.keras.metrics.Metric` created inside this `model_fn` (or
        metric function), or a callable `fn(y_true, y_pred)` returning
        per-example values, averaged with `sample_weight` as Keras'
        `MeanMetricWrapper` does.
      labels: `y_true` of `update_state`.
      predictions: `y_pred` of `update_state`.
      sample_weight: Optional `sample_weight` of `update_state`.

    Returns:
      `(value, update_op)`: `metric.result()` (replica-summed under a
      `tf.distribute` strategy), and a tensor that runs the updates of this and
      earlier calls on `metric` and is the result after them, as the update op
      of `tf.compat.v1.metrics` is (so `tf.identity(pair[1])` and
      `tf.compat.v1.summary.scalar(name, pair[1])` work).

    Raises:
      TypeError: `metric` is neither a Keras metric instance nor a callable.
      ValueError: the metric's variables live in another graph (it was made
        outside this model_fn, or reused from an earlier model_fn call).
      RuntimeError: called under eager execution.

    Example:
      A metric updated twice counts both calls (stock `EstimatorSpec` would
      count only the first; with `F1Score`/`FBetaScore` it would give 0.0):

      >>> import tensorflow as tf
      >>> from estimator_metrics import adapter
      >>> with tf.Graph().as_default():
      ...     mae = tf.keras.metrics.MeanAbsoluteError()
      ...     _ = adapter.from_keras(mae, [[0.], [0.]], [[1.], [3.]])
      ...     value, update = adapter.from_keras(mae, [[0.]], [[8.]])
      ...     with tf.compat.v1.Session() as sess:
      ...         sess.run(tf.compat.v1.local_variables_initializer())
      ...         _ = sess.run(update)
      ...         print(sess.run(value))
      4.0
    """
    if tf.executing_eagerly():
        raise RuntimeError(
            "adapter.from_keras builds graph ops for EstimatorSpec(eval_metric_ops=...); "
            "call it inside a model_fn (or a tf.estimator.add_metrics / TPUEstimator "
            "metric function), not under eager execution. In eager code call "
            "metric.update_state(...) and metric.result() directly."
        )
    graph = tf.compat.v1.get_default_graph()
    metric = _as_metric(metric, graph)
    _check_graph(metric, graph)
    update_state = _raw_update_state(metric)
    # A first, never-run call creates lazily built variables here, in the outer
    # graph: created inside the tf.function below they would need lifting,
    # which fails under MirroredStrategy (UnliftableError).
    inputs = update_inputs(metric, labels, predictions)
    _graph_update_state(metric)(*inputs, sample_weight=sample_weight)
    _check_graph(metric, graph)
    _make_local([_tf_variable(v) for v in metric.variables], graph)
    with tf.compat.v1.name_scope(_scope_name(metric.name) + "_update"):
        calls = _GraphState.of(graph).calls_of(metric)
        with tf.control_dependencies(calls[-1:]):  # Calls run in program order.
            calls.append(_run_update(update_state, inputs, sample_weight))
        # Every call made so far: the last pair alone counts all of them, and
        # listing several pairs still runs each call once per step. A tensor, as
        # tf.compat.v1.metrics returns: the value after this step's updates.
        with tf.control_dependencies(calls):
            update_op = tf.nest.map_structure(
                lambda t: tf.identity(t, name="update_op"), _result(metric)
            )
    return _result(metric), update_op


def per_class(
    name: str, pair: tuple[tf.Tensor, Any], class_names: Sequence[str] | None = None
) -> dict[str, tuple[tf.Tensor, Any]]:
    """One scalar `eval_metric_ops` entry per element of a vector metric.

    Estimator writes only scalar metrics to TensorBoard; a per-class value
    (`F1Score(average=None)`, `builders.fbeta(..., average=None)`) of shape
    [C] becomes entries "name/0" ... "name/C-1" (or "name/<class name>"),
    all sharing the one update op, which Estimator runs once per step.

    Example:
      >>> import tensorflow as tf
      >>> from estimator_metrics import adapter, builders
      >>> with tf.Graph().as_default():
      ...     pair = builders.fbeta([0, 1], [0, 1], num_classes=2, average=None)
      ...     sorted(adapter.per_class("f1", pair, class_names=["no", "yes"]))
      ['f1/no', 'f1/yes']
    """
    value, update_op = pair
    value = tf.convert_to_tensor(value)
    if value.shape.rank != 1 or value.shape[0] is None:
        raise ValueError(
            f"Expected the value of {name!r} to be a vector of statically known "
            f"length, received shape {value.shape}"
        )
    size = value.shape[0]
    keys = list(class_names) if class_names is not None else [str(i) for i in range(size)]
    if len(keys) != size:
        raise ValueError(f"Expected {size} class_names for {name!r}, received {len(keys)}: {keys}")
    repeated = sorted({key for key in keys if keys.count(key) > 1}, key=keys.index)
    if repeated:  # Each would overwrite the entry of an earlier class.
        raise ValueError(
            f"Expected distinct class_names for {name!r}, received {keys} (repeated: {repeated})"
        )
    return {f"{name}/{key}": (value[i], update_op) for i, key in enumerate(keys)}


def _as_metric(metric: MetricLike, graph: tf.Graph) -> tf.keras.metrics.Metric:
    if isinstance(metric, tf.keras.metrics.Metric):
        return metric
    if isinstance(metric, type):
        raise TypeError(
            f"Expected a Keras metric instance or a callable fn(y_true, y_pred), "
            f"received the class {metric.__name__}; instantiate it, e.g. {metric.__name__}()"
        )
    if not callable(metric):
        raise TypeError(
            "Expected a tf.keras.metrics.Metric instance or a callable fn(y_true, "
            f"y_pred), received {type(metric).__name__}: {metric!r}"
        )
    name = _scope_name(getattr(metric, "__name__", None) or type(metric).__name__)
    return _GraphState.of(graph).wrapper(
        metric, lambda: tf.keras.metrics.MeanMetricWrapper(metric, name=name)
    )


def _scope_name(name: str) -> str:
    """`name` as a valid root name scope (ASCII, no leading "_" or "-")."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name).lstrip("_-") or "metric"


def _tf_variable(variable):
    """The tf.Variable that holds a metric variable's state: Keras 3 wraps it in a
    `keras.Variable` (the TensorFlow one is its `.value`); Keras 2's is a tf.Variable."""
    if isinstance(variable, tf.Variable):
        return variable
    return getattr(variable, "value", variable)


def _fetchable(value):
    """`value` as something a Session can fetch: Keras 3's TruePositives & co. return their
    `keras.Variable` itself as the result, which Session.run refuses."""
    if isinstance(value, (tf.Tensor, tf.Variable, tf.Operation)):
        return value
    return tf.convert_to_tensor(value)


def _variable_graph(variable) -> tf.Graph | None:
    try:
        return _tf_variable(variable).graph
    except (AttributeError, RuntimeError):  # Eager variables have no graph.
        return None


def _check_graph(metric: tf.keras.metrics.Metric, graph: tf.Graph) -> None:
    foreign = [v.name for v in metric.variables if _variable_graph(v) is not graph]
    if foreign:
        raise ValueError(
            f"The metric {metric.name!r} ({type(metric).__name__}) has variables "
            f"{foreign} in another graph: it was created outside this model_fn, or "
            "reused from an earlier model_fn call (Estimator builds a new graph for "
            "every train, evaluate and predict). Create the metric object inside "
            "model_fn (or inside the metric function)."
        )


def _make_local(variables, graph: tf.Graph) -> None:
    """LOCAL_ and METRIC_VARIABLES, out of GLOBAL_ and TRAINABLE_VARIABLES."""
    keys = tf.compat.v1.GraphKeys
    for key in (keys.GLOBAL_VARIABLES, keys.TRAINABLE_VARIABLES):
        collection = graph.get_collection_ref(key)
        collection[:] = [v for v in collection if not any(v is m for m in variables)]
    for key in (keys.LOCAL_VARIABLES, keys.METRIC_VARIABLES):
        collection = graph.get_collection_ref(key)
        collection.extend(v for v in variables if not any(v is c for c in collection))


def _raw_update_state(metric: tf.keras.metrics.Metric) -> Callable:
    """The class's own `update_state`, bound, without Keras' instance wrapper.

    Keras wraps a custom metric made in graph mode in a `tf.function` that
    rejects a returned Operation (TF1-style metrics) and creates variables
    inside the function; we run the method in our own `tf.function` instead.
    """
    return type(metric).update_state.__get__(metric, type(metric))


def _graph_update_state(metric: tf.keras.metrics.Metric) -> Callable:
    """`update_state` converted by AutoGraph, to call directly in a graph.

    AutoGraph reads the method's source; where there is none (a class defined with `exec`,
    in an interactive session, or shipped as .pyc only) the method is called as it is.
    """
    method = type(metric).update_state
    if not isinstance(method, types.FunctionType) or not _has_source(method):
        return _raw_update_state(metric)
    return functools.partial(tf.autograph.to_graph(method), metric)


def _has_source(function: Callable) -> bool:
    try:
        inspect.getsource(function)
    except (OSError, TypeError):
        return False
    return True


def _result(metric: tf.keras.metrics.Metric):
    """`metric.result()`, or where it branches in Python on a tensor, its AutoGraph form.

    Keras converts `result` only inside a `tf.function`; in a graph, R2Score(num_regressors
    > 0) raises OperatorNotAllowedInGraphError (stock Estimator fails the same way). Then
    the class's `result` is converted (its `if` on a tensor becomes a `cond`) and, as Keras
    does, computed in cross-replica context so replicas' state is summed.
    """
    try:
        return tf.nest.map_structure(_fetchable, metric.result())
    except tf.errors.OperatorNotAllowedInGraphError:
        method = type(metric).result
        if not isinstance(method, types.FunctionType) or not _has_source(method):
            raise
    converted = tf.autograph.to_graph(method)

    def compute(*_):
        with warnings.catch_warnings():  # Warnings of branches traced, not taken.
            warnings.simplefilter("ignore", UserWarning)
            return converted(metric)

    replica_context = tf.distribute.get_replica_context()
    if replica_context is None:  # Already in cross-replica context.
        return compute()
    return replica_context.merge_call(compute)


def update_inputs(metric: tf.keras.metrics.Metric, labels, predictions) -> tuple:
    """`(labels, predictions)`, or `(predictions,)` for `update_state(values)`.

    Reduce-style metrics (Mean, Sum, ...) take one input: it comes from
    `predictions`, and `labels` must then be None rather than dropped.
    """
    parameters = inspect.signature(type(metric).update_state).parameters
    positional = [
        name
        for name, parameter in list(parameters.items())[1:]
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        and name != "sample_weight"
    ]
    if len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in parameters.values()):
        return labels, predictions
    if labels is not None:
        raise ValueError(
            f"{type(metric).__name__}.update_state takes one input "
            f"({positional[0] if positional else 'values'}): pass "
            f"it as `predictions` with labels=None, received labels={labels!r}"
        )
    return (predictions,)


def _run_update(update_state: Callable, inputs: tuple, sample_weight) -> tf.Operation:
    """Runs `update_state` once, with every side effect, in program order."""

    # A new function per call: each trace binds the variables (and, under a
    # strategy, the replica) of this call.
    @tf.function
    def update(inputs, weight):
        update_state(*inputs, sample_weight=weight)  # Result ignored.
        # The call's output exists only once the whole body, with every
        # stateful op, has run.
        return tf.constant(True)

    return update(inputs, sample_weight).op
