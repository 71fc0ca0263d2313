"""migrate: the metric uses of a module - calls of metric APIs and Keras objects in metric dicts.

Uses found (`Use.kind`): v1 `tf.metrics.*` / `tf.compat.v1.metrics.*`
calls, `tf.contrib.metrics.*`, third-party `tf_metrics.*`,
`tf.contrib.learn.MetricSpec`, our `adapter.from_keras` / `builders.*`,
`tf.contrib.estimator.add_metrics`, and Keras metric objects placed in a
metric dict (a dict display, `d[k] = m`, `d.update(k=m)`, `dict(k=m)`) of a
function with a role.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import libcst as cst

from estimator_metrics.migrate import _names as names
from estimator_metrics.migrate._model import Kind
from estimator_metrics.migrate._module import Function, Module


@dataclasses.dataclass(eq=False)
class Use:
    """One metric use found in a function."""

    kind: Kind
    node: cst.CSTNode  # The call, or the value placed in a metric dict.
    function: Function
    name: str  # Metric function or class name.
    variable: str | None = None  # Keras: the name bound to the metric object.
    ctor: cst.Call | None = None  # Keras: the constructor call.
    updates: list = dataclasses.field(default_factory=list)  # Keras: update_state calls.
    in_loop: bool = False  # Keras: an update_state call runs in a loop.
    manual_pair: bool = False  # Keras: placed as (m.result(), m.update_state(...)).


def uses(module: Module) -> Iterator[Use]:
    for function in module.functions:
        for node in function.nodes:
            if isinstance(node, cst.Call):
                yield from _call_use(module, node, function)
        if function.roles:
            yield from _keras_placements(module, function)


def _call_use(module: Module, call: cst.Call, function: Function) -> Iterator[Use]:
    func = call.func
    checks = (
        (Kind.V1, names.v1_metric),
        (Kind.CONTRIB, names.contrib_metric),
        (Kind.TF_METRICS, names.tf_metrics_function),
        (Kind.CONTRIB_LEARN, names.contrib_learn),
    )
    for kind, classify in checks:
        name = module.path_of(func, classify)
        if name:
            yield Use(kind, call, function, name)
            return
    api = module.path_of(func, names.estimator_metrics_api)
    if api == "from_keras":
        yield Use(Kind.OURS, call, function, _adapter_class(module, call, function))
    elif api and api != "per_class":
        yield Use(Kind.OURS, call, function, f"builders.{api}")
    elif module.path_of(func, lambda p: names.add_metrics_kind(p) == "contrib"):
        yield Use(Kind.ADD_METRICS, call, function, "add_metrics")


def _adapter_class(module: Module, call: cst.Call, function: Function) -> str:
    metric = call.args[0].value if call.args else None
    if isinstance(metric, cst.Name):
        metric = module.latest_assignment(metric.value, function, call) or metric
    cls = keras_ctor(module, metric)
    return f"tf.keras.metrics.{cls} through adapter.from_keras" if cls else ("adapter.from_keras")


def keras_ctor(module: Module, node: cst.CSTNode | None) -> str | None:
    if isinstance(node, cst.Call):
        return module.path_of(node.func, names.keras_metric_class)
    return None


def placed_values(module: Module, function: Function) -> Iterator[cst.BaseExpression]:
    """Values put in a dict: displays, `d[k] = v`, `d.update(k=v)`, `dict(k=v)`."""
    for node in function.nodes:
        if isinstance(node, cst.Dict):
            yield from (e.value for e in node.elements if isinstance(e, cst.DictElement))
        elif isinstance(node, cst.Assign) and any(
            isinstance(t.target, cst.Subscript) for t in node.targets
        ):
            yield node.value
        elif (
            isinstance(node, cst.Call)
            and any(a.keyword for a in node.args)
            and (
                (isinstance(node.func, cst.Attribute) and node.func.attr.value == "update")
                or (isinstance(node.func, cst.Name) and node.func.value == "dict")
            )
        ):
            yield from (a.value for a in node.args if a.keyword)


def _keras_placements(module: Module, function: Function) -> Iterator[Use]:
    for value in placed_values(module, function):
        if isinstance(value, cst.Call):
            cls = keras_ctor(module, value)
            if cls:
                yield Use(Kind.KERAS, value, function, cls, ctor=value)
            continue
        pair = _manual_pair(value)
        name_node = pair if pair is not None else value
        if not isinstance(name_node, cst.Name):
            continue
        ctor = module.latest_assignment(name_node.value, function, value)
        cls = keras_ctor(module, ctor)
        if cls is None:
            continue
        updates = _updates(name_node.value, function)
        yield Use(
            Kind.KERAS,
            value,
            function,
            cls,
            variable=name_node.value,
            ctor=ctor,
            updates=updates,
            in_loop=any(module.in_loop(call, function) for call in updates),
            manual_pair=pair is not None,
        )


def _updates(variable: str, function: Function) -> list:
    return [
        node
        for node in function.nodes
        if isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "update_state"
        and isinstance(node.func.value, cst.Name)
        and node.func.value.value == variable
    ]


def _manual_pair(value: cst.CSTNode) -> cst.Name | None:
    """`m` of `(m.result(), m.update_state(...))`."""
    if not isinstance(value, cst.Tuple) or len(value.elements) != 2:
        return None
    calls = [e.value for e in value.elements]
    if not all(
        isinstance(c, cst.Call)
        and isinstance(c.func, cst.Attribute)
        and isinstance(c.func.value, cst.Name)
        for c in calls
    ):
        return None
    first, second = (c.func for c in calls)
    if first.value.value != second.value.value:
        return None
    if (first.attr.value, second.attr.value) == ("result", "update_state"):
        return first.value
    return None
