"""migrate: metric functions named without a call, and the calls made through those names.

`{"auc": tf.metrics.auc, "recall": tf.metrics.recall}` then
`for name, fn in metrics.items(): ops[name] = fn(labels, predictions)`: each named
function is a use (`Kind.REFERENCE`), read with the arguments of the one call made
through it when the module shows one; the call `fn(...)` itself, whose metric is
only known at run time when the name holds several, is a use of its own
(`Kind.THROUGH_NAME`, status `unsure`), and so is `getattr(tf.metrics, name)(...)`.

Followed: names bound to a metric function (`fn = tf.metrics.auc`, also in both
branches of `a if c else b`), loop and comprehension targets over a dict, list or
tuple display that holds them (through a name, `.items()`, `.values()`,
`sorted(...)`, `six.iteritems(...)`), `d[key]` and `d.get(key)` of such a dict,
parameters whose default or whose callers' argument is one, and
`functools.partial(fn, ...)`, whose arguments come before the call's.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from estimator_metrics.migrate import _names as names
from estimator_metrics.migrate._model import Kind
from estimator_metrics.migrate._module import Module
from estimator_metrics.migrate._uses import Use

#: Keys that name no metric function (a class, an extender, our API, a helper).
_NOT_FUNCTIONS = ("MetricSpec", "add_metrics", "from_keras", ".aggregate_metric")
_VIEWS = ("items", "values", "iteritems", "itervalues")
_ITERATORS = (*_VIEWS, "sorted", "list", "reversed", "enumerate")
_DEPTH = 4
CHOSEN_AT_RUN_TIME = "<a metric chosen at run time>"


def _key(module: Module, node: cst.CSTNode) -> str | None:
    last = node.attr.value if isinstance(node, cst.Attribute) else node.value
    if not names.may_name_a_metric_function(last):
        return None
    key = module.path_of(node, names.metric_api)
    if key is None or any(part in key for part in _NOT_FUNCTIONS):
        return None
    return key


class Indirect:
    def __init__(self, module: Module):
        self.module = module
        self.references: dict = {}  # {id(expression): (reference node, key, expression)}

    def uses(self) -> Iterator[Use]:
        module = self.module
        for function in module.functions:
            for node in function.nodes:
                if isinstance(node, (cst.Name, cst.Attribute)) and self._is_reference(node):
                    key = _key(module, node)
                    if key:
                        expression = self._partial_of(node) or node
                        self.references[id(expression)] = (node, key, expression, function)
        if not self.references and not self._has_getattr():
            return
        sites: dict = {}  # {id(expression): [call sites]}
        for function in module.functions:
            for node in function.nodes:
                if not isinstance(node, cst.Call):
                    continue
                held = self._held(node.func, 0, node)
                if held is None:
                    continue
                if held == CHOSEN_AT_RUN_TIME:
                    yield self._chosen_at_run_time(
                        node,
                        function,
                        "a metric chosen by name",
                        f"`{_short(module.code(node.func))}` is a metric function looked up by "
                        "name at run time",
                    )
                    continue
                for expression in held:
                    sites.setdefault(id(expression), []).append(node)
                keys = sorted({self.references[id(e)][1] for e in held})
                if len(keys) > 1:
                    yield self._chosen_at_run_time(
                        node,
                        function,
                        f"one of {len(keys)} metric functions",
                        ", ".join(self._named_at(key, held) for key in keys),
                    )
        for node, key, expression, function in self.references.values():
            calls = sites.get(id(expression), [])
            yield self._reference(node, key, expression, function, calls)

    def _chosen_at_run_time(self, call, function, what: str, why: str) -> Use:
        """The use of a call through a name whose metric is only known at run time."""
        label = f"call of `{self.module.code(call.func)}`: {what}"
        return Use(
            Kind.THROUGH_NAME,
            call,
            function,
            CHOSEN_AT_RUN_TIME,
            call=call,
            label=label,
            why_not=why,
        )

    def _named_at(self, key: str, held: list) -> str:
        """`auc (line 9)`: a metric function and the lines that name it."""
        lines = [
            str(self.module.line(self.references[id(e)][0]))
            for e in held
            if self.references[id(e)][1] == key
        ]
        return f"{key.rpartition('.')[2]} (line {', '.join(lines)})"

    def _reference(self, node, key, expression, function, calls) -> Use:
        module = self.module
        if len(calls) == 1:
            site = calls[0]
            call = site
            if expression is not node:  # partial(fn, *a, **k)(*b, **l) is fn(*a, *b, **k, **l).
                arguments = [*expression.args[1:], *site.args]
                call = cst.Call(
                    node,
                    args=[a for a in arguments if a.keyword is None and not a.star]
                    + [a for a in arguments if a.keyword is not None or a.star],
                )
            how = f"called through `{_short(module.code(site.func))}` (line {module.line(site)})"
            return Use(
                Kind.REFERENCE,
                node,
                function,
                key,
                call=call,
                label=f"{key}, {how}",
                why_not=f"not rewritten: {how}",
            )
        lines = ", ".join(str(module.line(c)) for c in calls)
        why = (
            f"named without a call, and called through names at lines {lines}: which "
            "arguments it gets is not followed"
            if calls
            else "named without a call, and no call through it is found in this module: "
            "its arguments are not seen"
        )
        return Use(Kind.REFERENCE, node, function, key, label=f"{key}, named", why_not=why)

    # -- what is a reference -----------------------------------------------------------

    def _is_reference(self, node: cst.CSTNode) -> bool:
        parents = self.module.parents
        parent = parents.get(node)
        if isinstance(parent, cst.Attribute) and parent.value is node:
            return False  # Part of a longer chain.
        if isinstance(parent, cst.Attribute) and parent.attr is node:
            return False
        if isinstance(parent, cst.Call) and parent.func is node:
            return False  # A direct call.
        if isinstance(parent, cst.Param):
            return parent.default is node  # A default argument, not the parameter's name.
        if isinstance(
            parent, (cst.ImportAlias, cst.Import, cst.ImportFrom, cst.FunctionDef, cst.ClassDef)
        ):
            return False
        if isinstance(parent, (cst.AssignTarget, cst.AugAssign, cst.For, cst.CompFor)) and (
            getattr(parent, "target", None) is node
        ):
            return False
        if (
            isinstance(parent, cst.Assign)
            and len(parent.targets) == 1
            and isinstance(parent.targets[0].target, cst.Name)
            and parent.value is node
        ):
            return False  # `fn = tf.metrics.auc`: an alias; calls of fn are direct uses.
        if isinstance(parent, cst.Arg):
            call = parents.get(parent)
            key = (
                self.module.path_of(call.func, names.metric_api)
                if isinstance(call, cst.Call)
                else None
            )
            if key == "tf.contrib.learn.MetricSpec":
                return False  # MetricSpec(metric_fn=...): that finding names it.
        return True

    def _partial_of(self, node: cst.CSTNode) -> cst.Call | None:
        """`functools.partial(node, ...)` when `node` is its first argument."""
        arg = self.module.parents.get(node)
        call = self.module.parents.get(arg) if isinstance(arg, cst.Arg) else None
        if (
            isinstance(call, cst.Call)
            and call.args
            and call.args[0] is arg
            and any(path.endswith("partial") for path in self.module.qualify(call.func))
        ):
            return call
        return None

    def _has_getattr(self) -> bool:
        return any(
            isinstance(node, cst.Name) and node.value == "getattr"
            for function in self.module.functions
            for node in function.nodes
        )

    # -- what a callee can hold ------------------------------------------------------------

    def _held(self, expr: cst.CSTNode, depth: int, site: cst.Call):
        """The reference expressions `expr` can hold, CHOSEN_AT_RUN_TIME, or None (`site`
        is the call made through `expr`)."""
        if depth > _DEPTH:
            return None
        if id(expr) in self.references:
            return [expr]
        if isinstance(expr, cst.IfExp):
            found = [
                self._held(expr.body, depth + 1, site),
                self._held(expr.orelse, depth + 1, site),
            ]
            return [e for f in found if isinstance(f, list) for e in f] or None
        if isinstance(expr, cst.Call):
            if self._is_getattr_of_metrics(expr) and _metric_arguments(site):
                return CHOSEN_AT_RUN_TIME
            if isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "get":
                return self._inside(expr.func.value, depth + 1)  # d.get(key)
            return None
        if isinstance(expr, cst.Subscript):
            return self._inside(expr.value, depth + 1)  # d[key]
        if not isinstance(expr, cst.Name):
            return None
        found: list = []
        for assignment in self.module.assignments(expr):
            target = getattr(assignment, "node", None)
            parent = self.module.parents.get(target)
            held = None
            if isinstance(target, cst.Name):
                loop = self._loop_of(target)
                if loop is not None:
                    held = self._inside(loop.iter, depth + 1)
                else:
                    bound = self.module.target_binding(target)
                    if bound is not None and bound[2] is None:
                        held = self._held(bound[1], depth + 1, site)
            elif isinstance(target, cst.Param) or isinstance(parent, cst.Param):
                param = target if isinstance(target, cst.Param) else parent
                values = [param.default] if param.default is not None else []
                held = []
                for value in values + self.module.arguments_for(param, depth):
                    inner = self._held(value, depth + 1, site)
                    if inner == CHOSEN_AT_RUN_TIME:
                        return inner
                    held += inner or []
            if held == CHOSEN_AT_RUN_TIME:
                return held
            if held:
                found += held
        return found or None

    def _loop_of(self, target: cst.Name) -> cst.CSTNode | None:
        """The For / comprehension whose target is `target` or holds it in a tuple."""
        node = target
        for _ in range(3):
            parent = self.module.parents.get(node)
            if isinstance(parent, (cst.For, cst.CompFor)) and parent.target is node:
                return parent
            if not isinstance(parent, (cst.Element, cst.Tuple, cst.List)):
                return None
            node = parent
        return None

    def _inside(self, iterable: cst.CSTNode, depth: int):
        """The reference expressions inside the display `iterable` stands for."""
        while isinstance(iterable, cst.Call) and self._iterates(iterable.func):
            func = iterable.func
            if isinstance(func, cst.Attribute) and func.attr.value in _VIEWS and not iterable.args:
                iterable = func.value  # d.items()
            elif iterable.args:
                iterable = iterable.args[0].value  # sorted(d.items()), six.iteritems(d)
            else:
                return None
        if isinstance(iterable, cst.Name) and depth <= _DEPTH:
            bound = self.module.binding(iterable)
            if bound is None or bound[2] is not None:
                return None
            iterable = bound[1]
        if not isinstance(iterable, (cst.Dict, cst.List, cst.Tuple, cst.Set)):
            return None
        found, stack = [], [iterable]
        while stack:
            node = stack.pop()
            if id(node) in self.references:
                found.append(node)
            else:
                stack.extend(node.children)
        return found or None

    def _iterates(self, func: cst.CSTNode) -> bool:
        """`d.items`, `sorted`, `six.iteritems`...: calls that iterate what they are given."""
        if isinstance(func, cst.Attribute):
            return func.attr.value in _ITERATORS
        return isinstance(func, cst.Name) and func.value in _ITERATORS

    def _is_getattr_of_metrics(self, call: cst.Call) -> bool:
        """`getattr(tf.metrics, name)` (its call must get metric arguments: TF 2's tf.metrics
        is Keras', where `getattr(tf.metrics, name)(**config)` makes a Keras object)."""
        return (
            isinstance(call.func, cst.Name)
            and call.func.value == "getattr"
            and not self.module.qualify(call.func)
            and len(call.args) >= 2
            and self.module.path_of(call.args[0].value, names.metric_module) is not None
        )


def _metric_arguments(call: cst.Call) -> bool:
    """Two positional arguments, or labels/predictions/values by keyword."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    keywords = {a.keyword.value for a in call.args if a.keyword is not None}
    return len(positional) >= 2 or bool(keywords & {"labels", "predictions", "values"})


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
