"""migrate: one parsed module - its functions, their roles and names (LibCST).

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
from collections.abc import Iterator
from typing import Union

import libcst as cst
from libcst import metadata as meta

from estimator_metrics.migrate import _names as names
from estimator_metrics.migrate._model import ADD_METRICS_FN, MODEL_FN, TPU_METRIC_FN

FunctionNode = Union[cst.FunctionDef, cst.Lambda]
_LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
#: How far alias chains, factories and helper-of-helper roles are followed.
_DEPTH = 5


@dataclasses.dataclass(eq=False)
class Function:
    """The module, a function or a lambda: the nodes that belong to it directly."""

    node: FunctionNode | None
    qualname: str
    parent: Function | None
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
        return [
            p.name.value
            for p in (*parameters.posonly_params, *parameters.params, *parameters.kwonly_params)
        ]


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
        # One call: LibCST resolves the batchable providers in one walk of the tree.
        resolved = wrapper.resolve_many(
            [
                meta.ScopeProvider,
                meta.QualifiedNameProvider,
                meta.ParentNodeProvider,
                meta.PositionProvider,
            ]
        )
        self._scopes = resolved[meta.ScopeProvider]
        self._qualified = resolved[meta.QualifiedNameProvider]
        self.parents = resolved[meta.ParentNodeProvider]
        self._positions = resolved[meta.PositionProvider]
        self.module = Function(None, "<module>", None)
        collector = _Collector(self.module)
        self.tree.visit(collector)
        self.functions = collector.functions
        self.by_node = collector.by_node
        self.function_of = {
            id(node): function for function in self.functions for node in function.nodes
        }
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
            if isinstance(parent, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
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

    def qualify(self, node: cst.CSTNode, _seen: set | None = None) -> set:
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
            if (
                isinstance(statement, cst.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.value, (cst.Name, cst.Attribute))
            ):
                seen.add(id(target))
                yield statement.value

    def path_of(self, node: cst.CSTNode, classify) -> str | None:
        """The first of `node`'s paths that `classify` accepts, and its result."""
        for path in sorted(self.qualify(node)):
            found = classify(path)
            if found:
                return found
        return None

    def binding(self, name: cst.Name) -> tuple | None:
        """`(statement, value, index)` of the only assignment `name` can refer to.

        `index` is the position in a tuple target (`a, b = value`), else None.
        None when it is a parameter, assigned more than once, or bound any
        other way (loop target, augmented assignment, import, ...).
        """
        found = self.assignments(name)
        if len(found) != 1 or not isinstance(getattr(found[0], "node", None), cst.Name):
            return None
        return self.target_binding(found[0].node)

    def target_binding(self, target: cst.Name) -> tuple | None:
        """`(statement, value, index)` for an assignment target name, or None."""
        parent = self.parents.get(target)
        index = None
        if isinstance(parent, cst.Element) and isinstance(
            self.parents.get(parent), (cst.Tuple, cst.List)
        ):
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
            if (
                isinstance(node, cst.Assign)
                and self.line(node) < self.line(before)
                and any(
                    isinstance(t.target, cst.Name) and t.target.value == name for t in node.targets
                )
            ):
                found = node.value
        return found

    # -- roles ----------------------------------------------------------------

    def functions_named(
        self, expr: cst.CSTNode | None, depth: int = 0, through_params: bool = False
    ) -> list:
        """The functions an expression can refer to: by name (every definition of it),
        a variable, a lambda, `functools.partial(fn, ...)` or a factory's return value;
        with `through_params`, also what the callers of a function pass as a parameter
        (`def run(metric_fn): add_metrics(estimator, metric_fn)` then `run(my_metric_fn)`)."""
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
                        found += self.functions_named(bound[1], depth + 1, through_params)
                elif isinstance(target, cst.Param) and through_params:
                    for argument in self.arguments_for(target, depth):
                        found += self.functions_named(argument, depth + 1, through_params)
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

    def arguments_for(self, param: cst.Param, depth: int) -> list:
        """What the module's calls of the function that takes `param` pass for it."""
        owner = next((a for a in self.ancestors(param) if isinstance(a, cst.FunctionDef)), None)
        if owner is None or owner not in self.by_node:
            return []
        function = self.by_node[owner]
        name = param.name.value
        position = function.params.index(name) if name in function.params else None
        found = []
        for caller in self.functions:
            for call in caller.nodes:
                if not isinstance(call, cst.Call) or function not in self.functions_named(
                    call.func, depth + 1
                ):
                    continue
                positional = [a.value for a in call.args if a.keyword is None and not a.star]
                keyword = [a.value for a in call.args if a.keyword and a.keyword.value == name]
                if keyword:
                    found.append(keyword[0])
                elif position is not None and position < len(positional):
                    found.append(positional[position])
        return found

    def _mark(self, functions: list, role: str) -> None:
        for function in functions:
            if function.node is not None and role not in function.roles:
                function.roles.append(role)

    def _tpu_metric_fns(self, expr: cst.CSTNode | None) -> list:
        """The functions of `eval_metrics=(fn, tensors)`, also through a variable
        (`eval_metrics = None` in one branch, the tuple in another)."""
        candidates = [expr]
        if isinstance(expr, cst.Name):
            candidates = [
                bound[1]
                for a in self.assignments(expr)
                if isinstance(getattr(a, "node", None), cst.Name)
                for bound in [self.target_binding(a.node)]
                if bound and bound[2] is None
            ]
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
                label = (
                    function.role
                    if function.role.startswith("helper")
                    else f"helper of {function.role}"
                )
                for node in function.nodes:
                    if isinstance(node, cst.Name) and not self._is_target(node):
                        for target in self.functions_named(node):
                            if target is not function and not target.roles:
                                target.roles.append(label)

    def _is_target(self, name: cst.Name) -> bool:
        parent = self.parents.get(name)
        return isinstance(parent, (cst.FunctionDef, cst.Param, cst.AssignTarget)) or (
            isinstance(parent, cst.Attribute) and parent.attr is name
        )

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
            self._mark(self.functions_named(target, through_params=True), ADD_METRICS_FN)
        if "model_fn" in keywords:
            self._mark(self.functions_named(keywords["model_fn"], through_params=True), MODEL_FN)
        elif positional and any(names.is_estimator_class(path) for path in paths):
            self._mark(self.functions_named(positional[0], through_params=True), MODEL_FN)

    def references(self, target: cst.Name) -> list:
        """The Name nodes that read the assignment whose target is `target`."""
        scope = self._scopes.get(target)
        if scope is None:
            return []
        for assignment in scope.assignments[target.value]:
            if getattr(assignment, "node", None) is target:
                return [
                    access.node
                    for access in assignment.references
                    if isinstance(access.node, cst.Name)
                ]
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
        return {
            assignment.name
            for scope in set(self._scopes.values())
            if scope is not None
            for assignment in scope.assignments
        }
