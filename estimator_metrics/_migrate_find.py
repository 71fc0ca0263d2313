"""migrate: find the metric uses of one parsed module.

A module is split into scopes (the module and each function). Functions get
roles from how they are used: `model_fn` (builds an EstimatorSpec or
TPUEstimatorSpec, or is passed as `model_fn=`), `add_metrics metric_fn`
(passed to `tf.estimator.add_metrics` / `tf.contrib.estimator.add_metrics`,
directly, through a variable or returned by a factory), `TPUEstimator
metric_fn` (first element of `eval_metrics=(fn, tensors)`), and `helper of
...` for functions those call or pass on.

Uses found (`Use.kind`):
  "v1"          a `tf.metrics.*` / `tf.compat.v1.metrics.*` call, any alias
  "contrib"     a `tf.contrib.metrics.*` call
  "keras"       a Keras metric object placed in a metric dict (a dict display,
                `d[k] = m`, `d.update(k=m)`, `dict(k=m)`) of a role function
  "adapter", "builder"   our `adapter.from_keras` / `builders.*` (already migrated)
  "add_metrics" `tf.contrib.estimator.add_metrics`
"""

from __future__ import annotations

import ast
import dataclasses
from typing import Iterator, Optional

from estimator_metrics import _migrate_names as names

MODEL_FN = "model_fn"
ADD_METRICS_FN = "add_metrics metric_fn"
TPU_METRIC_FN = "TPUEstimator metric_fn"
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp,
          ast.GeneratorExp)


@dataclasses.dataclass(eq=False)
class Scope:
    """The module or one function: its own nodes (not those of nested functions)."""

    node: Optional[ast.AST]
    qualname: str
    parent: Optional["Scope"]
    nodes: list = dataclasses.field(default_factory=list)
    defs: dict = dataclasses.field(default_factory=dict)  # name -> FunctionDef defined here
    params: set = dataclasses.field(default_factory=set)
    stores: dict = dataclasses.field(default_factory=dict)  # name -> number of Store nodes
    assigns: dict = dataclasses.field(default_factory=dict)  # name -> [(stmt, value, index)]
    roles: list = dataclasses.field(default_factory=list)

    @property
    def local_names(self) -> set:
        return self.params | set(self.stores)

    @property
    def role(self) -> str:
        return self.roles[0] if self.roles else ""


@dataclasses.dataclass(eq=False)
class Use:
    kind: str
    node: ast.AST  # the call, or the value placed in a metric dict
    scope: Scope
    name: str  # metric function or class name
    variable: Optional[str] = None  # Keras: the name bound to the metric object
    ctor: Optional[ast.Call] = None  # Keras: the constructor call
    updates: list = dataclasses.field(default_factory=list)  # Keras: update_state calls
    in_loop: bool = False  # Keras: an update_state call runs in a loop
    manual_pair: bool = False  # Keras: placed as (m.result(), m.update_state(...))


class Module:
    """Scopes, roles and metric uses of one module."""

    def __init__(self, tree: ast.Module):
        self.tree = tree
        self.parents: dict = {}
        #: Every name the module binds anywhere.
        self.bound: set = set()
        self._imports: list = []
        self.module = Scope(None, "<module>", None)
        self.scopes = [self.module]
        self.by_node: dict = {}
        self._visit(tree, self.module, "")  # The only walk over the whole tree.
        self.imports = names.Imports(tree, self._imports)
        for scope in self.scopes:
            self._collect_bindings(scope)
        self._assign_roles()

    # -- scopes --------------------------------------------------------------

    def _visit(self, node: ast.AST, scope: Scope, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            self._visit_node(child, node, scope, prefix)

    def _visit_node(self, node: ast.AST, parent: ast.AST, scope: Scope, prefix: str) -> None:
        self.parents[node] = parent
        self.bound |= names.bound_names(node)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self._imports.append(node)
        if isinstance(node, _FUNCTIONS):
            for outer in [*node.decorator_list, *node.args.defaults,
                          *(d for d in node.args.kw_defaults if d is not None)]:
                self._visit_node(outer, node, scope, prefix)
            inner = Scope(node, prefix + node.name, scope)
            arguments = node.args
            inner.params = {a.arg for a in [*arguments.posonlyargs, *arguments.args,
                                            *arguments.kwonlyargs]}
            inner.params |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a}
            self.bound |= inner.params
            scope.defs.setdefault(node.name, node)
            self.scopes.append(inner)
            self.by_node[node] = inner
            for statement in node.body:
                self._visit_node(statement, node, inner, prefix + node.name + ".")
        elif isinstance(node, ast.ClassDef):
            scope.nodes.append(node)
            self._visit(node, scope, prefix + node.name + ".")
        else:
            scope.nodes.append(node)
            self._visit(node, scope, prefix)

    @staticmethod
    def _collect_bindings(scope: Scope) -> None:
        for node in scope.nodes:
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                scope.stores[node.id] = scope.stores.get(node.id, 0) + 1
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        scope.assigns.setdefault(target.id, []).append((node, node.value, None))
                    elif isinstance(target, (ast.Tuple, ast.List)):
                        for index, element in enumerate(target.elts):
                            if isinstance(element, ast.Name):
                                scope.assigns.setdefault(element.id, []).append(
                                    (node, node.value, index))

    def scope_of(self, node: ast.AST) -> Scope:
        while node is not None:
            node = self.parents.get(node)
            if node in self.by_node:
                return self.by_node[node]
        return self.module

    def qualify(self, node: ast.AST, scope: Scope) -> Optional[str]:
        """The imported path `node` names, unless a local of `scope` shadows it."""
        shadowed = set()
        while scope is not None and scope.node is not None:
            shadowed |= scope.local_names
            scope = scope.parent
        return self.imports.qualify(node, shadowed)

    def binding(self, name: str, scope: Scope) -> Optional[tuple]:
        """`(statement, value, index)` of the only assignment of `name` seen from `scope`.

        Looks in enclosing scopes when `scope` neither assigns nor takes it.
        None when it is a parameter, assigned more than once, or bound any other
        way (loop target, augmented assignment, import, ...).
        """
        while scope is not None:
            if name in scope.params:
                return None
            if name in scope.stores:
                assigns = scope.assigns.get(name, [])
                if scope.stores[name] == 1 and len(assigns) == 1:
                    return assigns[0]
                return None
            scope = scope.parent
        return None

    def latest_assignment(self, name: str, scope: Scope, before: ast.AST) -> Optional[tuple]:
        """The last plain assignment of `name` in `scope` above `before`'s line."""
        found = None
        for statement, value, index in scope.assigns.get(name, []):
            if index is None and statement.lineno < before.lineno:
                if found is None or statement.lineno >= found[0].lineno:
                    found = (statement, value, index)
        return found

    def in_loop(self, node: ast.AST, scope: Scope) -> bool:
        while node is not None and node is not scope.node:
            node = self.parents.get(node)
            if isinstance(node, _LOOPS):
                return True
        return False

    def statement_of(self, node: ast.AST) -> ast.AST:
        while not isinstance(node, ast.stmt):
            node = self.parents[node]
        return node

    # -- roles ---------------------------------------------------------------

    def resolve_function(self, expr: ast.AST, scope: Scope, depth: int = 0) -> Optional[Scope]:
        """The function (scope) an expression refers to: by name, variable, factory, partial."""
        if depth > 4 or expr is None:
            return None
        if isinstance(expr, ast.Name):
            search = scope
            while search is not None:
                if expr.id in search.defs:
                    return self.by_node.get(search.defs[expr.id])
                search = search.parent
            bound = self.binding(expr.id, scope)
            if bound and bound[2] is None:
                return self.resolve_function(bound[1], self.scope_of(bound[0]), depth + 1)
        elif isinstance(expr, ast.Call):
            path = self.qualify(expr.func, scope) or ""
            if path.endswith("partial") and expr.args:
                return self.resolve_function(expr.args[0], scope, depth + 1)
            factory = self.resolve_function(expr.func, scope, depth + 1)
            if factory is not None:
                for node in factory.nodes:
                    if isinstance(node, ast.Return):
                        found = self.resolve_function(node.value, factory, depth + 1)
                        if found is not None:
                            return found
        return None

    def _mark(self, scope: Optional[Scope], role: str) -> None:
        if scope is not None and scope.node is not None and role not in scope.roles:
            scope.roles.append(role)

    def _assign_roles(self) -> None:
        for scope in self.scopes:
            for node in scope.nodes:
                if not isinstance(node, ast.Call):
                    continue
                path = self.qualify(node.func, scope)
                keywords = {k.arg: k.value for k in node.keywords if k.arg}
                if names.is_spec(path):
                    self._mark(scope, MODEL_FN)
                    self._mark(self._tpu_metric_fn(keywords.get("eval_metrics"), scope),
                               TPU_METRIC_FN)
                if names.add_metrics_kind(path):
                    target = node.args[1] if len(node.args) > 1 else keywords.get("metric_fn")
                    self._mark(self.resolve_function(target, scope), ADD_METRICS_FN)
                if "model_fn" in keywords:
                    self._mark(self.resolve_function(keywords["model_fn"], scope), MODEL_FN)
                elif names.is_estimator_class(path) and node.args:
                    self._mark(self.resolve_function(node.args[0], scope), MODEL_FN)
        for _ in range(4):  # Helpers, and helpers of helpers.
            for scope in list(self.scopes):
                if not scope.roles:
                    continue
                label = scope.role if scope.role.startswith("helper") else f"helper of {scope.role}"
                for node in scope.nodes:
                    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                        target = self.resolve_function(node, scope)
                        if target is not None and target is not scope and not target.roles:
                            target.roles.append(label)

    def _tpu_metric_fn(self, expr: Optional[ast.AST], scope: Scope) -> Optional[Scope]:
        """The function of `eval_metrics=(fn, tensors)`, also through a variable
        (`eval_metrics = None` in one branch, the tuple in another)."""
        candidates = [expr]
        if isinstance(expr, ast.Name):
            search = scope
            while search is not None and expr.id not in search.stores:
                search = search.parent
            if search is not None:
                candidates = [value for _, value, index in search.assigns.get(expr.id, [])
                              if index is None]
                scope = search
        for candidate in candidates:
            if isinstance(candidate, (ast.Tuple, ast.List)) and candidate.elts:
                found = self.resolve_function(candidate.elts[0], scope)
                if found is not None:
                    return found
        return None

    # -- uses ----------------------------------------------------------------

    def uses(self) -> Iterator[Use]:
        for scope in self.scopes:
            for node in scope.nodes:
                if isinstance(node, ast.Call):
                    yield from self._call_use(node, scope)
            if scope.roles:
                yield from self._keras_placements(scope)

    def _call_use(self, call: ast.Call, scope: Scope) -> Iterator[Use]:
        path = self.qualify(call.func, scope)
        if names.v1_metric(path):
            yield Use("v1", call, scope, names.v1_metric(path))
        elif names.contrib_metric(path):
            yield Use("contrib", call, scope, names.contrib_metric(path))
        elif names.estimator_metrics_api(path) == "from_keras":
            yield Use("adapter", call, scope, self._adapter_class(call, scope))
        elif names.estimator_metrics_api(path) not in (None, "per_class"):
            yield Use("builder", call, scope, names.estimator_metrics_api(path))
        elif names.add_metrics_kind(path) == "contrib":
            yield Use("add_metrics", call, scope, "add_metrics")

    def _adapter_class(self, call: ast.Call, scope: Scope) -> str:
        metric = call.args[0] if call.args else None
        if isinstance(metric, ast.Name):
            assigned = self.latest_assignment(metric.id, scope, call)
            metric = assigned[1] if assigned else metric
        if isinstance(metric, ast.Call):
            return names.keras_metric_class(self.qualify(metric.func, scope)) or "a metric"
        return "a metric"

    def keras_ctor(self, node: ast.AST, scope: Scope) -> Optional[str]:
        if isinstance(node, ast.Call):
            return names.keras_metric_class(self.qualify(node.func, scope))
        return None

    def placed_values(self, scope: Scope) -> Iterator[ast.AST]:
        for node in scope.nodes:
            if isinstance(node, ast.Dict):
                yield from (value for value in node.values if value is not None)
            elif isinstance(node, ast.Assign) and any(
                    isinstance(target, ast.Subscript) for target in node.targets):
                yield node.value
            elif isinstance(node, ast.Call) and node.keywords and (
                    (isinstance(node.func, ast.Attribute) and node.func.attr == "update")
                    or (isinstance(node.func, ast.Name) and node.func.id == "dict")):
                yield from (k.value for k in node.keywords if k.arg)

    def _keras_placements(self, scope: Scope) -> Iterator[Use]:
        for value in self.placed_values(scope):
            manual = _manual_pair(value)
            if manual:
                value_name = manual
            elif isinstance(value, ast.Name):
                value_name = value.id
            else:
                cls = self.keras_ctor(value, scope)
                if cls:
                    yield Use("keras", value, scope, cls, ctor=value)
                continue
            assigned = self.latest_assignment(value_name, scope, value)
            cls = self.keras_ctor(assigned[1], scope) if assigned else None
            if not cls:
                continue
            updates = [node for node in scope.nodes if isinstance(node, ast.Call)
                       and isinstance(node.func, ast.Attribute)
                       and node.func.attr == "update_state"
                       and isinstance(node.func.value, ast.Name)
                       and node.func.value.id == value_name
                       and node.lineno > assigned[0].lineno]
            yield Use("keras", value, scope, cls, variable=value_name, ctor=assigned[1],
                      updates=sorted(updates, key=lambda n: (n.lineno, n.col_offset)),
                      in_loop=any(self.in_loop(u, scope) for u in updates),
                      manual_pair=bool(manual))


def _manual_pair(node: ast.AST) -> Optional[str]:
    """`m` for a tuple `(m.result(), m.update_state(...))`."""
    if not (isinstance(node, ast.Tuple) and len(node.elts) == 2):
        return None
    methods = []
    for element in node.elts:
        if not (isinstance(element, ast.Call) and isinstance(element.func, ast.Attribute)
                and isinstance(element.func.value, ast.Name)):
            return None
        methods.append((element.func.value.id, element.func.attr))
    (first, result), (second, update) = methods
    if first == second and (result, update) == ("result", "update_state"):
        return first
    return None
