"""migrate: the metric uses of a module.

Uses found (`Use.kind`): calls of a metric API (`tf.metrics.*`,
`tf.compat.v1.metrics.*`, `tf.contrib.metrics.*`, `tf_slim.metrics.*`,
third-party `tf_metrics.*`, `tf.contrib.learn.MetricSpec`,
`tf.contrib.estimator.add_metrics`, our `adapter.from_keras` / `builders.*`);
metric functions named without a call and the calls made through those names
(`_indirect`); classes deriving from `MetricSpec`; Keras metric objects placed
in a metric dict (a dict display or comprehension, `d[k] = m`, `d.update(k=m)`,
`dict(k=m)`) of a function with a role, also ones made by a factory of the
module or taken from a list; and metrics built by hand from v1 pairs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import libcst as cst

from estimator_metrics.migrate import _names as names
from estimator_metrics.migrate._model import Kind
from estimator_metrics.migrate._module import Function, Module

_LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


@dataclasses.dataclass(eq=False)
class Use:
    """One metric use found in a function."""

    kind: Kind
    node: cst.CSTNode  # Where it is reported: the call, the name, the placed object.
    function: Function
    key: str  # Its row in the rule table, e.g. "tf.compat.v1.metrics.auc".
    name: str = ""  # Keras: the class name; ours: what it wraps.
    #: The call whose arguments the rule reads (None: none seen).
    call: cst.Call | None = None
    label: str = ""  # The report's metric column.
    why_not: str = ""  # A metric named without a call: how it is called, or that it is not seen.
    match: Any = None  # Hand-built: the `_handbuilt` match.
    variable: str | None = None  # Keras: the name bound to the metric object.
    ctor: cst.Call | None = None  # Keras: the constructor call.
    updates: list = dataclasses.field(default_factory=list)  # Keras: update_state calls.
    in_loop: bool = False  # Keras: an update_state call runs in a loop.
    manual_pair: bool = False  # Keras: placed as (m.result(), m.update_state(...)).
    made_by: str = ""  # Keras: "a factory (line N)" or "a list (line N)": not fixable.

    def __post_init__(self):
        self.label = self.label or self.key


def uses(module: Module) -> Iterator[Use]:
    """Direct uses: calls of metric APIs, MetricSpec subclasses, Keras objects placed."""
    for function in module.functions:
        for node in function.nodes:
            if isinstance(node, cst.Call):
                yield from _call_use(module, node, function)
            elif isinstance(node, cst.ClassDef):
                yield from _subclass(module, node, function)
        if function.roles:
            yield from _keras_placements(module, function)


def _call_use(module: Module, call: cst.Call, function: Function) -> Iterator[Use]:
    key = module.path_of(call.func, names.metric_api)
    if key is None:
        return
    if key == names.TFP_ECE and not function.roles:
        # A one-shot function, right over all the logits at once: in eager or NumPy
        # evaluation code (a function without an Estimator role) there is nothing to migrate.
        return
    if key == "estimator_metrics.adapter.from_keras":
        yield Use(Kind.CALL, call, function, key, _adapter_class(module, call, function), call)
    elif key.startswith("estimator_metrics.builders."):
        yield Use(Kind.CALL, call, function, key, key.replace("estimator_metrics.", ""), call)
    else:
        yield Use(Kind.CALL, call, function, key, call=call)


def _subclass(module: Module, node: cst.ClassDef, function: Function) -> Iterator[Use]:
    if _derives_from_metric_spec(module, node, 0):
        key = "tf.contrib.learn.MetricSpec"
        yield Use(Kind.SUBCLASS, node, function, key, node.name.value)


def _derives_from_metric_spec(module: Module, node: cst.ClassDef, depth: int) -> bool:
    """Whether a base of the class, or of a class of the module it derives from, is
    MetricSpec."""
    for base in node.bases:
        if module.path_of(base.value, names.metric_api) == "tf.contrib.learn.MetricSpec":
            return True
        if isinstance(base.value, cst.Name) and depth < 3:
            for assignment in module.assignments(base.value):
                parent = getattr(assignment, "node", None)
                if isinstance(parent, cst.ClassDef) and _derives_from_metric_spec(
                    module, parent, depth + 1
                ):
                    return True
    return False


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
    """Values put in a dict: displays and comprehensions, `d[k] = v`, `d.update(k=v)`,
    `dict(k=v)`."""
    for node in function.nodes:
        if isinstance(node, cst.Dict):
            yield from (e.value for e in node.elements if isinstance(e, cst.DictElement))
        elif isinstance(node, cst.DictComp) or (
            isinstance(node, cst.Assign)
            and any(isinstance(t.target, cst.Subscript) for t in node.targets)
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


def _keras(cls: str) -> str:
    return f"tf.keras.metrics.{cls}"


def _keras_placements(module: Module, function: Function) -> Iterator[Use]:
    for value in placed_values(module, function):
        if isinstance(value, cst.Call):
            cls = keras_ctor(module, value)
            if cls:
                yield Use(Kind.KERAS, value, function, _keras(cls), cls, ctor=value)
            else:
                yield from _from_factory(module, function, value, value)
            continue
        pair = _manual_pair(value)
        name_node = pair if pair is not None else value
        if not isinstance(name_node, cst.Name):
            continue
        ctor = module.latest_assignment(name_node.value, function, value)
        cls = keras_ctor(module, ctor)
        if cls is None:
            if isinstance(ctor, cst.Call):
                yield from _from_factory(module, function, ctor, value)
            elif ctor is None and pair is None:
                yield from _from_list(module, function, name_node, value)
            continue
        updates = _updates(name_node.value, function)
        yield Use(
            Kind.KERAS,
            value,
            function,
            _keras(cls),
            cls,
            variable=name_node.value,
            ctor=ctor,
            updates=updates,
            in_loop=any(module.in_loop(call, function) for call in updates),
            manual_pair=pair is not None,
        )


def _from_factory(module: Module, function: Function, call: cst.Call, placed) -> Iterator[Use]:
    """A Keras object returned by a function of the module (`make_auc()`)."""
    for factory in module.functions_named(call.func):
        for node in factory.nodes:
            if isinstance(node, cst.Return) and node.value is not None:
                value = node.value
                if isinstance(value, cst.Name):
                    value = module.latest_assignment(value.value, factory, node) or value
                cls = keras_ctor(module, value)
                if cls:
                    variable = placed.value if isinstance(placed, cst.Name) else None
                    updates = _updates(variable, function) if variable else []
                    yield Use(
                        Kind.KERAS,
                        placed,
                        function,
                        _keras(cls),
                        cls,
                        variable=variable,
                        ctor=value,
                        updates=updates,
                        in_loop=any(module.in_loop(u, function) for u in updates),
                        made_by=f"made by `{factory.qualname}` (line {module.line(value)})",
                    )
                    return


def _from_list(module: Module, function: Function, name: cst.Name, placed) -> Iterator[Use]:
    """Keras objects taken from a list or tuple: `for m in [AUC(), Recall()]: d[k] = m`."""
    for assignment in module.assignments(name):
        target = getattr(assignment, "node", None)
        loop = module.parents.get(target)
        if isinstance(loop, (cst.For, cst.CompFor)) and loop.target is target:
            elements = _elements(module, loop.iter)
            # Updated in this loop or in another over the same list.
            iterated = module.code(loop.iter)
            loops = [
                node
                for node in function.nodes
                if isinstance(node, (cst.For, cst.CompFor))
                and isinstance(node.target, cst.Name)
                and module.code(node.iter) == iterated
            ]
            updates = [u for other in loops for u in _updates(other.target.value, function)]
            for element in elements:
                cls = keras_ctor(module, element)
                if cls:
                    yield Use(
                        Kind.KERAS,
                        element,
                        function,
                        _keras(cls),
                        cls,
                        variable=name.value,
                        ctor=element,
                        updates=updates,
                        in_loop=any(_repeated(module, u, loops, function) for u in updates),
                        made_by=f"taken from a list (line {module.line(element)})",
                    )


def _elements(module: Module, iterable: cst.CSTNode, depth: int = 0) -> list:
    """The elements of a list/tuple display, through a name or a factory that returns one."""
    if depth > 3:
        return []
    if isinstance(iterable, (cst.List, cst.Tuple)):
        return [e.value for e in iterable.elements if isinstance(e, cst.Element)]
    if isinstance(iterable, cst.Name):
        bound = module.binding(iterable)
        return _elements(module, bound[1], depth + 1) if bound and bound[2] is None else []
    if isinstance(iterable, cst.Call):
        found = []
        for factory in module.functions_named(iterable.func):
            for node in factory.nodes:
                if isinstance(node, cst.Return) and node.value is not None:
                    found += _elements(module, node.value, depth + 1)
        return found
    return []


def _repeated(module: Module, node: cst.CSTNode, loops: list, function: Function) -> bool:
    """Whether `node` runs in a loop of `function` other than the `loops` over the list."""
    for parent in module.ancestors(node):
        if parent is function.node:
            return False
        if isinstance(parent, _LOOPS) and not any(parent is loop for loop in loops):
            return True
    return False


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
