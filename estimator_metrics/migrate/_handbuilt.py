"""migrate: metrics built by hand from v1 pairs - F-beta, MAPE, average confidence, counters.

* F-beta: `(1 + b²)·P·R / (b²·P + R)` over the values of v1 `precision` and
  `recall` (F1: `2·P·R / (P + R)`), written with `/`, `tf.div`, `tf.divide`
  or `tf.math.divide_no_nan`, a constant factor inside or outside the
  division, directly or through a helper (`def f1(p, r): return ...`, or a
  lambda) applied to `(p[0], r[0])`; the same helper applied to the update
  halves `(p[1], r[1])` is the rest of the same metric.
* MAPE: `mean([100 *] abs((y - p) / y))`; average confidence:
  `mean(reduce_max(probabilities, -1))`.
* Other arithmetic over the values of float32 v1 counters
  (`true_positives`... `false_negatives`, `mean_tensor`): MCC, per-class IoU
  from a confusion matrix, and any other ratio of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import libcst as cst

from estimator_metrics.migrate import _names as names
from estimator_metrics.migrate._module import Function, Module
from estimator_metrics.migrate._values import FIRST, Values, arg, number, subscript_key

_ABS = {"abs", "math.abs"}
_REDUCE_MAX = {"reduce_max", "math.reduce_max"}
_DIVIDE = {
    "divide",
    "math.divide",
    "truediv",
    "math.truediv",
    "realdiv",
    "div",
    "math.divide_no_nan",
    "div_no_nan",
}
_NO_NAN = {"math.divide_no_nan", "div_no_nan"}
_MULTIPLY = {"multiply", "math.multiply"}
_ADD = {"add", "math.add"}
_DIAG = {"linalg.diag_part", "diag_part", "matrix_diag_part", "linalg.tensor_diag_part"}
#: v1 metrics whose value is a float32 count (or a mean of counts).
COUNTERS = frozenset(
    {
        "true_positives",
        "false_positives",
        "true_negatives",
        "false_negatives",
        "true_positives_at_thresholds",
        "false_positives_at_thresholds",
        "true_negatives_at_thresholds",
        "false_negatives_at_thresholds",
        "mean_tensor",
    }
)
_DEPTH = 6


@dataclasses.dataclass(frozen=True)
class Half:
    """One element of a v1 pair: the metric, its call, 0 (value) or 1 (update op)."""

    metric: str
    call: cst.Call
    half: int


@dataclasses.dataclass
class FBeta:
    node: cst.CSTNode  # The expression (or the helper call) that computes it.
    function: Function
    precision: cst.Call
    recall: cst.Call
    beta_squared: list | None  # Factors of b² on precision in the denominator, or None.
    half: int
    no_nan: bool  # Divided with divide_no_nan: 0.0, not NaN, where P + R = 0.
    epsilons: list = dataclasses.field(default_factory=list)  # Other terms of the denominator.


@dataclasses.dataclass
class Counters:
    node: cst.CSTNode
    function: Function
    halves: list  # Every Half it reads.
    diagonal: bool  # Reads the diagonal of a matrix (IoU from a confusion matrix).


class HandBuilt:
    def __init__(self, module: Module, values: Values):
        self.module = module
        self.values = values
        self._fbetas: list | None = None

    def op(self, node: cst.CSTNode) -> str | None:
        return self.values.op(node)

    # -- which v1 pair element an expression is ---------------------------------

    def half(self, expr: cst.CSTNode, env: dict, depth: int = 0) -> Half | None:
        """The v1 pair element `expr` is: `p[0]`, `value` of `value, op = ...`, ..."""
        if depth > _DEPTH:
            return None
        if isinstance(expr, cst.Name):
            if expr.value in env:
                return self.half(env[expr.value], {}, depth + 1)
            bound = self.module.binding(expr)
            if not bound:
                return None
            _, value, index = bound
            if index in (0, 1):
                return self._pair_call(value, index)
            if index is None:
                return self.half(value, {}, depth + 1)
        if (
            isinstance(expr, cst.Subscript)
            and subscript_key(expr) in (0, 1)
            and not isinstance(subscript_key(expr), bool)
        ):
            inner = expr.value
            if isinstance(inner, cst.Name) and inner.value not in env:
                bound = self.module.binding(inner)
                if bound and bound[2] is None:
                    return self._pair_call(bound[1], subscript_key(expr))
                return None
            if isinstance(inner, cst.Name):
                inner = env[inner.value]
            return self._pair_call(inner, subscript_key(expr))
        return None

    def _pair_call(self, node: cst.CSTNode, index: int) -> Half | None:
        if not isinstance(node, cst.Call):
            return None
        metric = self.module.path_of(node.func, names.v1_metric) or {
            "streaming_precision": "precision",
            "streaming_recall": "recall",
        }.get(self.module.path_of(node.func, names.contrib_metric) or "")
        return Half(metric, node, index) if metric else None

    def halves_read(self, expr: cst.CSTNode, env: dict, depth: int = 0) -> list:
        """Every v1 pair element the expression reads, through variables."""
        found = []
        stack = [expr]
        while stack:
            node = stack.pop()
            half = self.half(node, env) if isinstance(node, (cst.Name, cst.Subscript)) else None
            if half is not None:
                found.append(half)
                continue
            if isinstance(node, cst.Name) and depth < _DEPTH and node.value not in env:
                bound = self.module.binding(node)
                if bound and bound[2] is None:
                    found += self.halves_read(bound[1], {}, depth + 1)
                continue
            stack.extend(node.children)
        return found

    # -- F-beta -------------------------------------------------------------------

    def fbeta(self, node: cst.CSTNode, env: dict | None = None) -> dict | None:
        """`precision`, `recall`, `beta_squared`, `half`, `no_nan` of a hand-built F-beta."""
        env = env or {}
        ratio = self._ratio(node)
        if ratio is None:
            return None
        numerator, denominator, no_nan = ratio
        found, others = {}, []
        for factor in numerator:
            half = self.half(factor, env)
            if half and half.metric in ("precision", "recall"):
                if half.metric in found:
                    return None
                found[half.metric] = half
            elif self.halves_read(factor, env):
                return None
            else:
                others.append(factor)
        if set(found) != {"precision", "recall"}:
            return None
        roles, beta_squared, epsilons = {}, None, []
        for term in self._operands(denominator, cst.Add, _ADD):
            factors = self._operands(term, cst.Multiply, _MULTIPLY)
            halves = [self.half(f, env) for f in factors]
            named = [h for h in halves if h]
            if not named:
                if self.halves_read(term, env):
                    return None
                epsilons.append(term)
                continue
            if len(named) != 1 or named[0].metric in roles:
                return None
            roles[named[0].metric] = named[0]
            rest = [f for f, h in zip(factors, halves) if not h]
            if named[0].metric == "precision" and rest:
                beta_squared = rest
        if set(roles) != {"precision", "recall"}:
            return None
        if len({h.half for h in (*found.values(), *roles.values())}) != 1:
            return None
        return {
            "precision": found["precision"].call,
            "recall": found["recall"].call,
            "beta_squared": beta_squared,
            "half": found["precision"].half,
            "no_nan": no_nan,
            "epsilons": epsilons,
        }

    def _division(self, node: cst.CSTNode):
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
            return node.left, node.right, False
        op = self.op(node)
        if op in _DIVIDE:
            x, y = arg(node, 0, "x", "numerator"), arg(node, 1, "y", "denominator")
            if x is not None and y is not None:
                return x, y, op in _NO_NAN
        return None

    def _ratio(self, node: cst.CSTNode):
        """(numerator factors, denominator, no_nan) of `a / b` or `k * (a / b)`."""
        division = self._division(node)
        if division is not None:
            numerator, denominator, no_nan = division
            return self._operands(numerator, cst.Multiply, _MULTIPLY), denominator, no_nan
        factors = self._operands(node, cst.Multiply, _MULTIPLY)
        divisions = [(f, self._division(f)) for f in factors]
        divisions = [(f, d) for f, d in divisions if d is not None]
        if len(factors) < 2 or len(divisions) != 1:
            return None
        factor, (numerator, denominator, no_nan) = divisions[0]
        rest = [f for f in factors if f is not factor]
        return rest + self._operands(numerator, cst.Multiply, _MULTIPLY), denominator, no_nan

    def _operands(self, node: cst.CSTNode, operator: type, tf_ops: set) -> list:
        """The operands of a chain of `operator` (Python or its two-argument TF op names)."""
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, operator):
            return self._operands(node.left, operator, tf_ops) + self._operands(
                node.right, operator, tf_ops
            )
        if self.op(node) in tf_ops:
            x, y = arg(node, 0, "x"), arg(node, 1, "y")
            if x is not None and y is not None:
                return self._operands(x, operator, tf_ops) + self._operands(y, operator, tf_ops)
        return [node]

    def fbeta_reading(self, call: cst.Call) -> FBeta | None:
        """The hand-built F-beta whose precision or recall is the pair `call` makes."""
        if self._fbetas is None:
            self._fbetas = list(self.fbetas())
        return next(
            (m for m in self._fbetas if m.half == 0 and call in (m.precision, m.recall)), None
        )

    def fbetas(self) -> Iterator[FBeta]:
        """Every hand-built F-beta on pair values (the outermost expression of each)."""
        matches = []
        for function in self.module.functions:
            for node in function.nodes:
                if isinstance(node, (cst.BinaryOperation, cst.Call)):
                    found = self.fbeta(node)
                    if found is None and isinstance(node, cst.Call):
                        found = self._through_helper(node)
                    if found is not None:
                        matches.append(
                            FBeta(
                                node,
                                function,
                                found["precision"],
                                found["recall"],
                                found["beta_squared"],
                                found["half"],
                                found["no_nan"],
                                found["epsilons"],
                            )
                        )
        yield from self._outermost(matches)

    def _through_helper(self, call: cst.Call) -> dict | None:
        """F-beta of a helper or lambda whose returned expression is one, on these arguments."""
        for helper in self.module.functions_named(call.func):
            params = helper.params
            if len(call.args) != len(params) or any(a.keyword or a.star for a in call.args):
                continue
            env = {p: a.value for p, a in zip(params, call.args)}
            for body in self.returned(helper):
                found = self.fbeta(self.values.origin(body), env)
                if found is not None:
                    return found
        return None

    def returned(self, function: Function) -> list:
        if isinstance(function.node, cst.Lambda):
            return [function.node.body]
        return [n.value for n in function.nodes if isinstance(n, cst.Return) and n.value]

    # -- MAPE and average confidence ------------------------------------------------

    def mape(self, values: cst.CSTNode) -> dict | None:
        """`labels`, `predictions`, `percent` of `[100 *] abs((y - p) / y)` or `abs(y - p) / y`."""
        values = self.values.origin(values)
        factors = self._operands(values, cst.Multiply, _MULTIPLY)
        hundreds = [f for f in factors if number(f) == 100]
        rest = [f for f in factors if number(f) != 100]
        if len(rest) != 1 or len(hundreds) > 1:
            return None
        expr, percent = rest[0], bool(hundreds)
        if self.op(expr) in _ABS and arg(expr, 0, "x") is not None:  # abs((y - p) / y)
            parts = self._division(arg(expr, 0, "x"))
            if parts is None:
                return None
            difference, denominator, _ = parts
        else:  # abs(y - p) / y, abs(y - p) / abs(y)
            parts = self._division(expr)
            if parts is None or self.op(parts[0]) not in _ABS or arg(parts[0], 0, "x") is None:
                return None
            difference, denominator = arg(parts[0], 0, "x"), parts[1]
        if self.op(denominator) in _ABS and arg(denominator, 0, "x") is not None:
            denominator = arg(denominator, 0, "x")
        if not (
            isinstance(difference, cst.BinaryOperation)
            and isinstance(difference.operator, cst.Subtract)
        ):
            return None
        for labels, predictions in (
            (difference.left, difference.right),
            (difference.right, difference.left),
        ):
            if labels.deep_equals(denominator):
                return {"labels": labels, "predictions": predictions, "percent": percent}
        return None

    def confidence(self, values: cst.CSTNode) -> cst.BaseExpression | None:
        """The probabilities `p` of `reduce_max(p, axis=-1)` (or axis 1)."""
        values = self.values.origin(values)
        if self.op(values) not in _REDUCE_MAX:
            return None
        axis = arg(values, 1, "axis", "reduction_indices")
        return arg(values, 0, *FIRST) if number(axis) in (-1, 1) else None

    # -- other arithmetic over float32 counters ----------------------------------------

    def counters(self, skip: set) -> Iterator[Counters]:
        """Outermost divisions over the values of v1 counters (not F-beta ones in `skip`)."""
        matches = []
        for function in self.module.functions:
            for node in function.nodes:
                if id(node) in skip or self._division(node) is None:
                    continue
                halves = [h for h in self.halves_read(node, {}) if h.metric in COUNTERS]
                if halves and all(h.half == 0 for h in halves):
                    matches.append(Counters(node, function, halves, self._reads_diagonal(node)))
        yield from self._outermost(matches)

    def _outermost(self, matches: list) -> list:
        """The matches not inside another match's node (one finding per expression)."""
        inside = {
            id(m.node)
            for m in matches
            for other in matches
            if other is not m and any(a is other.node for a in self.module.ancestors(m.node))
        }
        return [m for m in matches if id(m.node) not in inside]

    def _reads_diagonal(self, node: cst.CSTNode, depth: int = 0) -> bool:
        stack = [node]
        while stack:
            current = stack.pop()
            if self.op(current) in _DIAG:
                return True
            if isinstance(current, cst.Name) and depth < _DEPTH:
                bound = self.module.binding(current)
                if bound and bound[2] is None and self._reads_diagonal(bound[1], depth + 1):
                    return True
                continue
            stack.extend(current.children)
        return False
