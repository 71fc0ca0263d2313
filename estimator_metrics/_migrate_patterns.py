"""migrate: what an argument is, as far as the code itself proves it.

`Patterns.kind(expr, scope)` says whether an expression is certainly boolean
(a comparison, `tf.greater`, a cast of one to bool or to 0/1 numbers), class
ids (`tf.argmax`), probabilities (`tf.sigmoid`, a column of `tf.nn.softmax`)
or scores (a whole `tf.nn.softmax` output), following a variable to its only
assignment and a dict lookup to the dict display it reads. Anything else is
None: unknown, so never rewritten on a guess.

It also recognizes hand-built metrics: F-beta from v1 precision and recall
values (`2 * p * r / (p + r)`), MAPE (`mean(abs((y - p) / y))`) and average
confidence (`mean(reduce_max(probabilities, -1))`).
"""

from __future__ import annotations

import ast
from typing import Optional

from estimator_metrics import _migrate_names as names
from estimator_metrics._migrate_find import Module, Scope

_BOOL = {"greater", "greater_equal", "less", "less_equal", "equal", "not_equal",
         "logical_and", "logical_or", "logical_not", "logical_xor", "is_nan", "is_finite",
         "math.greater", "math.greater_equal", "math.less", "math.less_equal", "math.equal",
         "math.not_equal", "math.logical_and", "math.logical_or", "math.logical_not",
         "math.is_nan", "math.is_finite", "math.in_top_k", "nn.in_top_k"}
_IDS = {"argmax", "math.argmax", "argmin", "math.argmin"}
_PROBABILITIES = {"sigmoid", "nn.sigmoid", "math.sigmoid", "keras.activations.sigmoid"}
_SCORES = {"nn.softmax", "math.softmax", "keras.activations.softmax"}
#: Ops that keep the values (and so the kind) of their first argument.
_SAME_VALUES = {"reshape", "squeeze", "expand_dims", "identity", "stop_gradient",
                "transpose", "gather", "boolean_mask"}
_ABS = {"abs", "math.abs"}
_REDUCE_MAX = {"reduce_max", "math.reduce_max"}
_DIVIDE = {"divide", "math.divide", "truediv", "math.truediv", "realdiv", "div",
           "math.divide_no_nan", "div_no_nan"}
_MULTIPLY = {"multiply", "math.multiply"}
_ADD = {"add", "math.add"}
#: Prediction keys of the canned Estimator heads (what add_metrics metric_fns read).
_CANNED = {"class_ids": "ids", "logistic": "probabilities", "probabilities": "scores"}


def same(first: ast.AST, second: ast.AST) -> bool:
    return ast.dump(first) == ast.dump(second)


class Patterns:
    def __init__(self, module: Module):
        self.module = module

    def tf_op(self, node: ast.AST, scope: Scope) -> Optional[str]:
        """`argmax` for a call of tf.argmax (any alias), else None."""
        if not isinstance(node, ast.Call):
            return None
        path = self.module.qualify(node.func, scope)
        if path is None and isinstance(node.func, ast.Name) and node.func.id == "abs":
            return "abs"  # The builtin: Tensor.__abs__.
        path = names.normalize(path or "")
        return path[len("tensorflow."):] if path.startswith("tensorflow.") else None

    def origin(self, expr: ast.AST, scope: Scope, depth: int = 0) -> tuple[ast.AST, Scope]:
        """Follows a variable to its only assignment, `d["k"]` to `d`'s dict display."""
        if depth > 8:
            return expr, scope
        if isinstance(expr, ast.Name):
            bound = self.module.binding(expr.id, scope)
            if bound:
                statement, value, index = bound
                if index is not None:
                    if not isinstance(value, (ast.Tuple, ast.List)) or index >= len(value.elts):
                        return expr, scope
                    value = value.elts[index]
                return self.origin(value, self.module.scope_of(statement), depth + 1)
        elif isinstance(expr, ast.Subscript) and _constant(expr.slice, str):
            table, table_scope = self.origin(expr.value, scope, depth + 1)
            if isinstance(table, ast.Dict) and not self._mutated(expr.value, scope):
                for key, value in zip(table.keys, table.values):
                    if key is not None and _constant(key, str) == _constant(expr.slice, str):
                        return self.origin(value, table_scope, depth + 1)
        return expr, scope

    def _mutated(self, name: ast.AST, scope: Scope) -> bool:
        """Whether `name[...] = ...` or `name.update(...)` appears in `scope`."""
        if not isinstance(name, ast.Name):
            return True
        for node in scope.nodes:
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and isinstance(
                    node.value, ast.Name) and node.value.id == name.id:
                return True
            if isinstance(node, ast.Attribute) and node.attr in ("update", "setdefault") and (
                    isinstance(node.value, ast.Name) and node.value.id == name.id):
                return True
        return False

    def kind(self, expr: ast.AST, scope: Scope, depth: int = 0) -> Optional[str]:
        """"bool", "ids", "probabilities", "scores" or None (unknown)."""
        if depth > 8:
            return None
        expr, scope = self.origin(expr, scope)
        if isinstance(expr, ast.Compare):
            return "bool"
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Invert):
            return "bool" if self.kind(expr.operand, scope, depth + 1) == "bool" else None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.BitAnd, ast.BitOr, ast.BitXor)):
            both = {self.kind(expr.left, scope, depth + 1), self.kind(expr.right, scope, depth + 1)}
            return "bool" if both == {"bool"} else None
        if isinstance(expr, ast.Subscript):
            key = _constant(expr.slice, str)
            if key is not None:  # A dict we cannot see: the canned heads' keys.
                return _CANNED.get(key) if self._is_predictions_param(expr.value, scope) else None
            inner = self.kind(expr.value, scope, depth + 1)
            return "probabilities" if inner == "scores" else inner
        op = self.tf_op(expr, scope)
        if op is None or not isinstance(expr, ast.Call) or not expr.args:
            return None
        if op in _BOOL:
            return "bool"
        if op in _IDS:
            return "ids"
        if op in _PROBABILITIES:
            return "probabilities"
        if op in _SCORES:
            return "scores"
        if op in _SAME_VALUES:
            return self.kind(expr.args[0], scope, depth + 1)
        if op == "cast":
            dtype = expr.args[1] if len(expr.args) > 1 else next(
                (k.value for k in expr.keywords if k.arg == "dtype"), None)
            if dtype is not None and (names.is_tf(self.module.qualify(dtype, scope), "bool")
                                      or _constant(dtype, str) == "bool"):
                return "bool"
            inner = self.kind(expr.args[0], scope, depth + 1)
            return inner if inner in ("bool", "ids") else None
        return None

    def _is_predictions_param(self, node: ast.AST, scope: Scope) -> bool:
        return (isinstance(node, ast.Name) and node.id == "predictions"
                and node.id in scope.params and bool(scope.roles)
                and scope.roles[0] == "add_metrics metric_fn")

    def is_literal_argmax_last_axis(self, expr: ast.AST, scope: Scope) -> Optional[ast.AST]:
        """The scores `x` of a literal `tf.argmax(x, -1)` / `tf.argmax(x, axis=-1)`."""
        if self.tf_op(expr, scope) not in ("argmax", "math.argmax") or not expr.args:
            return None
        axis = expr.args[1] if len(expr.args) > 1 else next(
            (k.value for k in expr.keywords if k.arg in ("axis", "dimension")), None)
        if axis is not None and _number(axis) == -1:
            return expr.args[0]
        return None

    # -- hand-built metrics -----------------------------------------------------

    def precision_recall(self, expr: ast.AST, scope: Scope, depth: int = 0):
        """`("precision" | "recall", call)` when `expr` is the value of a v1 pair."""
        if depth > 6:
            return None
        if isinstance(expr, ast.Name):
            bound = self.module.binding(expr.id, scope)
            if not bound:
                return None
            statement, value, index = bound
            inner_scope = self.module.scope_of(statement)
            if index == 0:
                return self._pr_call(value, inner_scope)
            if index is None:
                return self.precision_recall(value, inner_scope, depth + 1)
        if isinstance(expr, ast.Subscript) and _number(expr.slice) == 0:
            inner = expr.value
            if isinstance(inner, ast.Name):
                bound = self.module.binding(inner.id, scope)
                if bound and bound[2] is None:
                    return self._pr_call(bound[1], self.module.scope_of(bound[0]))
            return self._pr_call(inner, scope)
        return None

    def _pr_call(self, node: ast.AST, scope: Scope):
        if not isinstance(node, ast.Call):
            return None
        path = self.module.qualify(node.func, scope)
        name = names.v1_metric(path) or {
            "streaming_precision": "precision", "streaming_recall": "recall"}.get(
                names.contrib_metric(path) or "")
        return (name, node) if name in ("precision", "recall") else None

    def fbeta(self, node: ast.AST, scope: Scope) -> Optional[dict]:
        """A hand-built `(1 + b²)·P·R / (b²·P + R)` (F1: `2·P·R / (P + R)`)."""
        parts = self._division(node, scope)
        if parts is None:
            return None
        numerator, denominator = parts
        found = {}
        for factor in self._factors(numerator, scope):
            pr = self.precision_recall(factor, scope)
            if pr:
                if pr[0] in found:
                    return None
                found[pr[0]] = pr[1]
            elif self._mentions_pr(factor, scope):
                return None
        if set(found) != {"precision", "recall"}:
            return None
        roles, beta_squared = set(), None
        for term in self._terms(denominator, scope):
            factors = self._factors(term, scope)
            refs = [self.precision_recall(f, scope) for f in factors]
            named = [r for r in refs if r]
            if not named:
                if self._mentions_pr(term, scope):
                    return None
                continue  # An epsilon.
            if len(named) != 1 or named[0][0] in roles:
                return None
            roles.add(named[0][0])
            others = [f for f, r in zip(factors, refs) if not r]
            if named[0][0] == "precision" and others:
                beta_squared = others
        if roles != {"precision", "recall"}:
            return None
        return {"precision": found["precision"], "recall": found["recall"],
                "beta_squared": beta_squared}

    def _mentions_pr(self, node: ast.AST, scope: Scope) -> bool:
        return any(self.precision_recall(n, scope) for n in ast.walk(node)
                   if isinstance(n, (ast.Name, ast.Subscript)))

    def _division(self, node: ast.AST, scope: Scope):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return node.left, node.right
        if self.tf_op(node, scope) in _DIVIDE and len(node.args) == 2:
            return node.args[0], node.args[1]
        return None

    def _factors(self, node: ast.AST, scope: Scope) -> list:
        return self._operands(node, scope, ast.Mult, _MULTIPLY)

    def _terms(self, node: ast.AST, scope: Scope) -> list:
        return self._operands(node, scope, ast.Add, _ADD)

    def _operands(self, node: ast.AST, scope: Scope, operator: type, tf_ops) -> list:
        """The operands of a chain of `operator` (Python or its two-argument TF op names)."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, operator):
            return (self._operands(node.left, scope, operator, tf_ops)
                    + self._operands(node.right, scope, operator, tf_ops))
        if self.tf_op(node, scope) in tf_ops and len(node.args) == 2:
            return (self._operands(node.args[0], scope, operator, tf_ops)
                    + self._operands(node.args[1], scope, operator, tf_ops))
        return [node]

    def mape(self, values: ast.AST, scope: Scope) -> Optional[dict]:
        """`labels`, `predictions`, `percent` of `[100 *] abs((y - p) / y)` or `abs(y - p) / y`."""
        values, scope = self.origin(values, scope)
        factors = self._factors(values, scope)
        hundreds = [f for f in factors if _number(f) == 100]
        rest = [f for f in factors if _number(f) != 100]
        if len(rest) != 1 or len(hundreds) > 1:
            return None
        expr, percent = rest[0], bool(hundreds)
        if self.tf_op(expr, scope) in _ABS and expr.args:  # abs((y - p) / y)
            parts = self._division(expr.args[0], scope)
            if parts is None:
                return None
            difference, denominator = parts
        else:  # abs(y - p) / y, abs(y - p) / abs(y)
            parts = self._division(expr, scope)
            if parts is None or self.tf_op(parts[0], scope) not in _ABS or not parts[0].args:
                return None
            difference, denominator = parts[0].args[0], parts[1]
        if self.tf_op(denominator, scope) in _ABS and denominator.args:
            denominator = denominator.args[0]
        if not (isinstance(difference, ast.BinOp) and isinstance(difference.op, ast.Sub)):
            return None
        for labels, predictions in ((difference.left, difference.right),
                                    (difference.right, difference.left)):
            if same(labels, denominator):
                return {"labels": labels, "predictions": predictions, "percent": percent}
        return None

    def confidence(self, values: ast.AST, scope: Scope) -> Optional[ast.AST]:
        """The probabilities `p` of `reduce_max(p, axis=-1)` (or axis 1)."""
        values, scope = self.origin(values, scope)
        if self.tf_op(values, scope) not in _REDUCE_MAX or not values.args:
            return None
        axis = values.args[1] if len(values.args) > 1 else next(
            (k.value for k in values.keywords if k.arg in ("axis", "reduction_indices")), None)
        return values.args[0] if axis is not None and _number(axis) in (-1, 1) else None


def _constant(node: ast.AST, kind: type):
    if isinstance(node, ast.Constant) and isinstance(node.value, kind):
        return node.value
    return None


def _number(node: ast.AST):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _number(node.operand)
        return -value if value is not None else None
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(
            node.value, bool):
        return node.value
    return None
