"""migrate: one parsed module - its functions, their roles, names and metric uses (LibCST).

Names are resolved with LibCST's `QualifiedNameProvider` (every import form:
`import x as y`, `from x import y`, nested functions, shadowing locals) and
`ScopeProvider` (the assignments a name can refer to), plus one step LibCST
leaves to its users: module aliases re-bound by assignment (`tf = tf.compat.v1`,
`tf_keras = tf_keras_v1`), followed to the import they copy.

Functions get roles from how they are used: `model_fn` (builds an
EstimatorSpec or TPUEstimatorSpec, or is passed as `model_fn=` / as an
Estimator's first argument), `add_metrics metric_fn` (passed to
`tf.estimator.add_metrics` / `tf.contrib.estimator.add_metrics`, directly,
through a variable or returned by a factory), `TPUEstimator metric_fn` (first
element of an `eval_metrics=(fn, tensors)` tuple, also one stored in a
variable or an attribute such as `self.eval_metrics`), and `helper of ...`
for the functions those call or pass on. A name defined in several branches
(`if task == ...: def metric_fn(...)`) stands for each of its definitions.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator, Optional, Union

import libcst as cst
from libcst import metadata as meta

from estimator_metrics.migrate import _names as names
from estimator_metrics.migrate._model import ADD_METRICS_FN, MODEL_FN, TPU_METRIC_FN, Kind

FunctionNode = Union[cst.FunctionDef, cst.Lambda]
_LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
#: How far alias chains, factories and helper-of-helper roles are followed.
_DEPTH = 5


@dataclasses.dataclass(eq=False)
class Function:
    """The module, a function or a lambda: the nodes that belong to it directly."""

    node: Optional[FunctionNode]
    qualname: str
    parent: Optional["Function"]
    nodes: list = dataclasses.field(default_factory=list)
    roles: list = dataclasses.field(default_factory=list)

    @property
    def role(self) -> str:
        return self.roles[0] if self.roles else ""

    @property
    def params(self) -> list:
        if self.node is None:
            return []
        parameters = self.node.params
        return [p.name.value for p in (*parameters.posonly_params, *parameters.params,
                                       *parameters.kwonly_params)]


@dataclasses.dataclass(eq=False)
class Use:
    """One metric use found in a function."""

    kind: Kind
    node: cst.CSTNode  # The call, or the value placed in a metric dict.
    function: Function
    name: str  # Metric function or class name.
    variable: Optional[str] = None  # Keras: the name bound to the metric object.
    ctor: Optional[cst.Call] = None  # Keras: the constructor call.
    updates: list = dataclasses.field(default_factory=list)  # Keras: update_state calls.
    in_loop: bool = False  # Keras: an update_state call runs in a loop.
    manual_pair: bool = False  # Keras: placed as (m.result(), m.update_state(...)).


class _Collector(cst.CSTVisitor):
    """One walk: every node into the function it belongs to; qualnames as Python makes them."""

    def __init__(self, module_function: Function):
        super().__init__()
        self.stack = [module_function]
        self.prefix = [""]
        self.functions = [module_function]
        self.by_node: dict = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.stack[-1].nodes.append(node)
        return super().on_visit(node)

    def _enter(self, node: FunctionNode, name: str) -> None:
        function = Function(node, self.prefix[-1] + name, self.stack[-1])
        self.functions.append(function)
        self.by_node[node] = function
        self.stack.append(function)
        self.prefix.append(function.qualname + ".")

    def _leave(self) -> None:
        self.stack.pop()
        self.prefix.pop()

    # Decorators and defaults run in the enclosing function: enter at the body.
    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self._enter(node, node.name.value)

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self._leave()

    def visit_Lambda_body(self, node: cst.Lambda) -> None:
        self._enter(node, "<lambda>")

    def leave_Lambda_body(self, node: cst.Lambda) -> None:
        self._leave()

    def visit_ClassDef_body(self, node: cst.ClassDef) -> None:
        self.prefix.append(self.prefix[-1] + node.name.value + ".")

    def leave_ClassDef_body(self, node: cst.ClassDef) -> None:
        self.prefix.pop()


class Module:
    """Functions, roles, names and metric uses of one module."""

    def __init__(self, tree: cst.Module):
        wrapper = meta.MetadataWrapper(tree, unsafe_skip_copy=True)
        self.tree = wrapper.module
        self._scopes = wrapper.resolve(meta.ScopeProvider)
        self._qualified = wrapper.resolve(meta.QualifiedNameProvider)
        self.parents = wrapper.resolve(meta.ParentNodeProvider)
        self._positions = wrapper.resolve(meta.PositionProvider)
        self.module = Function(None, "<module>", None)
        collector = _Collector(self.module)
        self.tree.visit(collector)
        self.functions = collector.functions
        self.by_node = collector.by_node
        self.function_of = {id(node): function for function in self.functions
                            for node in function.nodes}
        self._assign_roles()

    # -- positions and text ---------------------------------------------------

    def position(self, node: cst.CSTNode) -> tuple[int, int]:
        """(line, column), both from 1."""
        start = self._positions[node].start
        return start.line, start.column + 1

    def line(self, node: cst.CSTNode) -> int:
        return self._positions[node].start.line

    def end_line(self, node: cst.CSTNode) -> int:
        return self._positions[node].end.line

    def code(self, node: cst.CSTNode) -> str:
        return self.tree.code_for_node(node)

    def function_at(self, node: cst.CSTNode) -> Function:
        return self.function_of.get(id(node), self.module)

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        while node in self.parents:
            node = self.parents[node]
            yield node

    def statement_of(self, node: cst.CSTNode) -> cst.CSTNode:
        """The small statement (Expr, Assign, Return, ...) holding `node`."""
        for parent in (node, *self.ancestors(node)):
            if isinstance(parent, cst.BaseSmallStatement) or isinstance(
                    parent, cst.BaseCompoundStatement):
                return parent
        return node

    def in_loop(self, node: cst.CSTNode, function: Function) -> bool:
        for parent in self.ancestors(node):
            if parent is function.node:
                return False
            if isinstance(parent, _LOOPS):
                return True
        return False

    # -- names ----------------------------------------------------------------

    def _qualified_names(self, node: cst.CSTNode) -> set:
        value = self._qualified.get(node, set())
        return value() if callable(value) else value

    def assignments(self, name: cst.Name) -> list:
        """The LibCST assignments `name` can refer to where it stands."""
        scope = self._scopes.get(name)
        if scope is None:
            return []
        return list(scope[name.value]) if name.value in scope else []

    def qualify(self, node: cst.CSTNode, _seen: Optional[set] = None) -> set:
        """Every dotted path `node` (a name chain) can name through imports and aliases."""
        parts = []
        base = node
        while isinstance(base, cst.Attribute):
            parts.append(base.attr.value)
            base = base.value
        if not isinstance(base, cst.Name):
            return set()
        suffix = "".join("." + part for part in reversed(parts))
        seen = set() if _seen is None else _seen
        paths = set()
        for qualified in self._qualified_names(base):
            if qualified.source is meta.QualifiedNameSource.IMPORT:
                paths.add(qualified.name + suffix)
        if len(seen) < _DEPTH:
            for value in self._alias_values(base, seen):
                paths |= {path + suffix for path in self.qualify(value, seen)}
        return paths

    def _alias_values(self, name: cst.Name, seen: set) -> Iterator[cst.BaseExpression]:
        """The values of `alias = <name chain>` assignments `name` can refer to."""
        for assignment in self.assignments(name):
            target = getattr(assignment, "node", None)
            if not isinstance(target, cst.Name) or id(target) in seen:
                continue
            statement = self.parents.get(self.parents.get(target))
            if isinstance(statement, cst.Assign) and len(statement.targets) == 1 and isinstance(
                    statement.value, (cst.Name, cst.Attribute)):
                seen.add(id(target))
                yield statement.value

    def path_of(self, node: cst.CSTNode, classify) -> Optional[str]:
        """The first of `node`'s paths that `classify` accepts, and its result."""
        for path in sorted(self.qualify(node)):
            found = classify(path)
            if found:
                return found
        return None

    def binding(self, name: cst.Name) -> Optional[tuple]:
        """`(statement, value, index)` of the only assignment `name` can refer to.

        `index` is the position in a tuple target (`a, b = value`), else None.
        None when it is a parameter, assigned more than once, or bound any
        other way (loop target, augmented assignment, import, ...).
        """
        found = self.assignments(name)
        if len(found) != 1 or not isinstance(getattr(found[0], "node", None), cst.Name):
            return None
        return self.target_binding(found[0].node)

    def target_binding(self, target: cst.Name) -> Optional[tuple]:
        """`(statement, value, index)` for an assignment target name, or None."""
        parent = self.parents.get(target)
        index = None
        if isinstance(parent, cst.Element) and isinstance(self.parents.get(parent),
                                                          (cst.Tuple, cst.List)):
            sequence = self.parents[parent]
            index = list(sequence.elements).index(parent)
            parent = self.parents.get(sequence)
        if isinstance(parent, cst.AssignTarget):
            statement = self.parents.get(parent)
            if isinstance(statement, cst.Assign):
                return statement, statement.value, index
        if isinstance(parent, cst.AnnAssign) and parent.value is not None and index is None:
            return parent, parent.value, None
        return None

    def latest_assignment(self, name: str, function: Function, before: cst.CSTNode):
        """The value of the last `name = value` in `function` above `before`'s line."""
        found = None
        for node in function.nodes:
            if isinstance(node, cst.Assign) and self.line(node) < self.line(before) and any(
                    isinstance(t.target, cst.Name) and t.target.value == name
                    for t in node.targets):
                found = node.value
        return found

    # -- roles ----------------------------------------------------------------

    def functions_named(self, expr: Optional[cst.CSTNode], depth: int = 0) -> list:
        """The functions an expression can refer to: by name (every definition of it),
        a variable, a lambda, `functools.partial(fn, ...)` or a factory's return value."""
        if expr is None or depth > _DEPTH:
            return []
        if isinstance(expr, cst.Lambda):
            return [self.by_node[expr]] if expr in self.by_node else []
        if isinstance(expr, cst.Name):
            found = []
            for assignment in self.assignments(expr):
                target = getattr(assignment, "node", None)
                if isinstance(target, (cst.FunctionDef, cst.Lambda)) and target in self.by_node:
                    found.append(self.by_node[target])
                elif isinstance(target, cst.Name):
                    bound = self.target_binding(target)
                    if bound and bound[2] is None:
                        found += self.functions_named(bound[1], depth + 1)
            return found
        if isinstance(expr, cst.Call):
            if any(path.endswith("partial") for path in self.qualify(expr.func)) and expr.args:
                return self.functions_named(expr.args[0].value, depth + 1)
            found = []
            for factory in self.functions_named(expr.func, depth + 1):
                for node in factory.nodes:
                    if isinstance(node, cst.Return) and node.value is not None:
                        found += self.functions_named(node.value, depth + 1)
            return found
        return []

    def _mark(self, functions: list, role: str) -> None:
        for function in functions:
            if function.node is not None and role not in function.roles:
                function.roles.append(role)

    def _tpu_metric_fns(self, expr: Optional[cst.CSTNode]) -> list:
        """The functions of `eval_metrics=(fn, tensors)`, also through a variable
        (`eval_metrics = None` in one branch, the tuple in another)."""
        candidates = [expr]
        if isinstance(expr, cst.Name):
            candidates = [bound[1] for a in self.assignments(expr)
                          if isinstance(getattr(a, "node", None), cst.Name)
                          for bound in [self.target_binding(a.node)] if bound and bound[2] is None]
        found = []
        for candidate in candidates:
            if isinstance(candidate, (cst.Tuple, cst.List)) and candidate.elements:
                found += self.functions_named(candidate.elements[0].value)
        return found

    def _assign_roles(self) -> None:
        for function in self.functions:
            for node in function.nodes:
                if isinstance(node, cst.Call):
                    self._roles_of_call(node, function)
                elif isinstance(node, cst.Assign):
                    # `eval_metrics = (metric_fn, [...])`, `self.eval_metrics = (...)`.
                    for target in node.targets:
                        name = target.target
                        if isinstance(name, cst.Attribute):
                            name = name.attr
                        if isinstance(name, cst.Name) and name.value == "eval_metrics":
                            self._mark(self._tpu_metric_fns(node.value), TPU_METRIC_FN)
        for _ in range(_DEPTH):  # Helpers, and helpers of helpers.
            for function in list(self.functions):
                if not function.roles:
                    continue
                label = (function.role if function.role.startswith("helper")
                         else f"helper of {function.role}")
                for node in function.nodes:
                    if isinstance(node, cst.Name) and not self._is_target(node):
                        for target in self.functions_named(node):
                            if target is not function and not target.roles:
                                target.roles.append(label)

    def _is_target(self, name: cst.Name) -> bool:
        parent = self.parents.get(name)
        return isinstance(parent, (cst.FunctionDef, cst.Param, cst.AssignTarget)) or (
            isinstance(parent, cst.Attribute) and parent.attr is name)

    def _roles_of_call(self, call: cst.Call, function: Function) -> None:
        paths = self.qualify(call.func)
        keywords = {a.keyword.value: a.value for a in call.args if a.keyword}
        positional = [a.value for a in call.args if not a.keyword and not a.star]
        if any(names.is_spec(path) for path in paths):
            self._mark([function], MODEL_FN)
        if "eval_metrics" in keywords:
            self._mark(self._tpu_metric_fns(keywords["eval_metrics"]), TPU_METRIC_FN)
        if any(names.add_metrics_kind(path) for path in paths):
            target = positional[1] if len(positional) > 1 else keywords.get("metric_fn")
            self._mark(self.functions_named(target), ADD_METRICS_FN)
        if "model_fn" in keywords:
            self._mark(self.functions_named(keywords["model_fn"]), MODEL_FN)
        elif positional and any(names.is_estimator_class(path) for path in paths):
            self._mark(self.functions_named(positional[0]), MODEL_FN)

    # -- uses -----------------------------------------------------------------

    def uses(self) -> Iterator[Use]:
        for function in self.functions:
            for node in function.nodes:
                if isinstance(node, cst.Call):
                    yield from self._call_use(node, function)
            if function.roles:
                yield from self._keras_placements(function)

    def _call_use(self, call: cst.Call, function: Function) -> Iterator[Use]:
        func = call.func
        checks = ((Kind.V1, names.v1_metric), (Kind.CONTRIB, names.contrib_metric),
                  (Kind.TF_METRICS, names.tf_metrics_function),
                  (Kind.CONTRIB_LEARN, names.contrib_learn))
        for kind, classify in checks:
            name = self.path_of(func, classify)
            if name:
                yield Use(kind, call, function, name)
                return
        api = self.path_of(func, names.estimator_metrics_api)
        if api == "from_keras":
            yield Use(Kind.OURS, call, function, self._adapter_class(call, function))
        elif api and api != "per_class":
            yield Use(Kind.OURS, call, function, f"builders.{api}")
        elif self.path_of(func, lambda p: names.add_metrics_kind(p) == "contrib"):
            yield Use(Kind.ADD_METRICS, call, function, "add_metrics")

    def _adapter_class(self, call: cst.Call, function: Function) -> str:
        metric = call.args[0].value if call.args else None
        if isinstance(metric, cst.Name):
            metric = self.latest_assignment(metric.value, function, call) or metric
        cls = self.keras_ctor(metric)
        return f"tf.keras.metrics.{cls} through adapter.from_keras" if cls else (
            "adapter.from_keras")

    def keras_ctor(self, node: Optional[cst.CSTNode]) -> Optional[str]:
        if isinstance(node, cst.Call):
            return self.path_of(node.func, names.keras_metric_class)
        return None

    def placed_values(self, function: Function) -> Iterator[cst.BaseExpression]:
        """Values put in a dict: displays, `d[k] = v`, `d.update(k=v)`, `dict(k=v)`."""
        for node in function.nodes:
            if isinstance(node, cst.Dict):
                yield from (e.value for e in node.elements if isinstance(e, cst.DictElement))
            elif isinstance(node, cst.Assign) and any(
                    isinstance(t.target, cst.Subscript) for t in node.targets):
                yield node.value
            elif isinstance(node, cst.Call) and any(a.keyword for a in node.args) and (
                    (isinstance(node.func, cst.Attribute) and node.func.attr.value == "update")
                    or (isinstance(node.func, cst.Name) and node.func.value == "dict")):
                yield from (a.value for a in node.args if a.keyword)

    def _keras_placements(self, function: Function) -> Iterator[Use]:
        for value in self.placed_values(function):
            if isinstance(value, cst.Call):
                cls = self.keras_ctor(value)
                if cls:
                    yield Use(Kind.KERAS, value, function, cls, ctor=value)
                continue
            pair = self._manual_pair(value)
            name_node = pair if pair is not None else value
            if not isinstance(name_node, cst.Name):
                continue
            ctor = self.latest_assignment(name_node.value, function, value)
            cls = self.keras_ctor(ctor)
            if cls is None:
                continue
            updates = self._updates(name_node.value, function)
            yield Use(Kind.KERAS, value, function, cls, variable=name_node.value, ctor=ctor,
                      updates=updates,
                      in_loop=any(self.in_loop(call, function) for call in updates),
                      manual_pair=pair is not None)

    def _updates(self, variable: str, function: Function) -> list:
        return [node for node in function.nodes if isinstance(node, cst.Call)
                and isinstance(node.func, cst.Attribute)
                and node.func.attr.value == "update_state"
                and isinstance(node.func.value, cst.Name) and node.func.value.value == variable]

    @staticmethod
    def _manual_pair(value: cst.CSTNode) -> Optional[cst.Name]:
        """`m` of `(m.result(), m.update_state(...))`."""
        if not isinstance(value, cst.Tuple) or len(value.elements) != 2:
            return None
        calls = [e.value for e in value.elements]
        if not all(isinstance(c, cst.Call) and isinstance(c.func, cst.Attribute)
                   and isinstance(c.func.value, cst.Name) for c in calls):
            return None
        first, second = (c.func for c in calls)
        if first.value.value != second.value.value:
            return None
        if (first.attr.value, second.attr.value) == ("result", "update_state"):
            return first.value
        return None

    def references(self, target: cst.Name) -> list:
        """The Name nodes that read the assignment whose target is `target`."""
        scope = self._scopes.get(target)
        if scope is None:
            return []
        for assignment in scope.assignments[target.value]:
            if getattr(assignment, "node", None) is target:
                return [access.node for access in assignment.references
                        if isinstance(access.node, cst.Name)]
        return []

    def assignment_count(self, target: cst.Name) -> int:
        scope = self._scopes.get(target)
        return len(scope.assignments[target.value]) if scope is not None else 0

    def span(self, node: cst.CSTNode) -> tuple:
        """(start, end) CodePositions of an original node (lines from 1, columns from 0)."""
        where = self._positions[node]
        return where.start, where.end

    def has_span(self, node: cst.CSTNode) -> bool:
        return node in self._positions

    def bound_names(self) -> set:
        """Every name the module binds anywhere (so an added import clashes with none)."""
        return {assignment.name for scope in set(self._scopes.values()) if scope is not None
                for assignment in scope.assignments}
