"""migrate: what an argument is, as far as the code itself proves it.

`Values.kind(expr)` says whether an expression is certainly boolean (a
comparison, `tf.greater`, a cast of one to bool or to 0/1 numbers), class ids
(`tf.argmax`), probabilities (`tf.sigmoid`, a column of `tf.nn.softmax`) or
scores (a whole `tf.nn.softmax` output), following a variable to its only
assignment and `d["k"]` to the one value the function puts under that key
(a dict display or `d["k"] = ...`). TF ops are read by parameter name, so
`tf.argmax(input=logits, axis=1)` and `tf.cast(x=..., dtype=...)` count as
their positional forms. Anything else is None: unknown, so never rewritten on
a guess.
"""

from __future__ import annotations

import libcst as cst

from estimator_metrics.migrate import _names as names
from estimator_metrics.migrate._module import Module

_BOOL = {
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "equal",
    "not_equal",
    "logical_and",
    "logical_or",
    "logical_not",
    "logical_xor",
    "is_nan",
    "is_finite",
    "math.greater",
    "math.greater_equal",
    "math.less",
    "math.less_equal",
    "math.equal",
    "math.not_equal",
    "math.logical_and",
    "math.logical_or",
    "math.logical_not",
    "math.is_nan",
    "math.is_finite",
    "math.in_top_k",
    "nn.in_top_k",
}
_IDS = {"argmax", "math.argmax", "argmin", "math.argmin"}
_PROBABILITIES = {"sigmoid", "nn.sigmoid", "math.sigmoid", "keras.activations.sigmoid"}
_SCORES = {"nn.softmax", "math.softmax", "keras.activations.softmax"}
#: Ops that keep the values (and so the kind) of their first argument.
_SAME_VALUES = {
    "reshape",
    "squeeze",
    "expand_dims",
    "identity",
    "stop_gradient",
    "transpose",
    "gather",
    "boolean_mask",
}
_WHERE = {"where", "where_v2"}
_ROUND = {"round", "math.round", "math.rint", "rint"}
#: tf.compat.v1's casts to a number type: ids stay ids, booleans become 0/1.
_TO_NUMBERS = {"to_int32", "to_int64", "to_float", "to_double"}
#: The keyword names TF ops give their first argument (tf.argmax(input=...), tf.cast(x=...)).
FIRST = ("input", "x", "tensor", "input_tensor", "logits", "a", "params", "features")
#: Prediction keys of the canned Estimator heads (what add_metrics metric_fns read).
_CANNED = {"class_ids": "ids", "logistic": "probabilities", "probabilities": "scores"}
_DEPTH = 8


def arg(call: cst.Call, position: int | None, *keywords: str) -> cst.BaseExpression | None:
    """The argument passed at `position` or under one of `keywords`, else None."""
    positional = [a for a in call.args if a.keyword is None]
    if any(a.star for a in call.args):
        return None
    if position is not None and position < len(positional):
        return positional[position].value
    for a in call.args:
        if a.keyword is not None and a.keyword.value in keywords:
            return a.value
    return None


def string(node: cst.CSTNode | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def number(node: cst.CSTNode | None):
    """The value of an int or float literal (also negated), else None."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        value = number(node.expression)
        return -value if value is not None else None
    if isinstance(node, (cst.Integer, cst.Float)):
        return node.evaluated_value
    return None


def is_none(node: cst.CSTNode | None) -> bool:
    return node is None or (isinstance(node, cst.Name) and node.value == "None")


def is_name_chain(node: cst.CSTNode | None) -> bool:
    """`a` or `a.b.c`: evaluating it twice reads the same object."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)


def subscript_key(node: cst.Subscript):
    """The literal key of `x["k"]` / `x[0]` (one index, no slice), else None."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    value = node.slice[0].slice.value
    key = string(value)
    return key if key is not None else number(value)


def _literal_entries(value: cst.CSTNode) -> list | None:
    """`[(key or None, value)]` of a dict display or `dict(k=v)`; None for anything else."""
    if isinstance(value, cst.Dict):
        return [
            (string(e.key), e.value) if isinstance(e, cst.DictElement) else (None, e.value)
            for e in value.elements
        ]
    if (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Name)
        and value.func.value == "dict"
        and all(a.keyword is not None for a in value.args)
    ):
        return [(a.keyword.value, a.value) for a in value.args]
    return None


class Values:
    def __init__(self, module: Module):
        self.module = module

    def op(self, node: cst.CSTNode) -> str | None:
        """`argmax` for a call of tf.argmax (any alias), else None."""
        if not isinstance(node, cst.Call):
            return None
        if (
            isinstance(node.func, cst.Name)
            and node.func.value == "abs"
            and not self.module.qualify(node.func)
        ):
            return "abs"  # The builtin: Tensor.__abs__.
        return self.module.path_of(node.func, names.tf_op)

    def origin(self, expr: cst.CSTNode, depth: int = 0) -> cst.CSTNode:
        """Follows a variable to its only assignment, `d["k"]` to the value put there."""
        if depth > _DEPTH:
            return expr
        if isinstance(expr, cst.Name):
            bound = self.module.binding(expr)
            if bound:
                _, value, index = bound
                if index is not None:
                    if not isinstance(value, (cst.Tuple, cst.List)) or index >= len(value.elements):
                        return expr
                    value = value.elements[index].value
                return self.origin(value, depth + 1)
        elif isinstance(expr, cst.Subscript) and isinstance(subscript_key(expr), str):
            value = self.dict_entry(expr.value, subscript_key(expr))
            if value is not None:
                return self.origin(value, depth + 1)
        return expr

    def dict_entry(self, table: cst.CSTNode, key: str) -> cst.BaseExpression | None:
        """The one value a function puts under `key` in the dict named `table`."""
        entries = self.dict_entries(table)
        values = entries.get(key, []) if entries is not None else []
        return values[0] if len(values) == 1 else None

    def dict_entries(self, table: cst.CSTNode, complete: bool = False) -> dict | None:
        """`{key: [values]}` the function puts in the dict named `table` (dict displays,
        `dict(k=v)`, `d["k"] = v`); None when it is changed some other way, or with
        `complete`, when a key is not a string literal (`**`, `d[name] = ...`)."""
        if not isinstance(table, cst.Name):
            return None
        # Only a dict the function itself makes: not a parameter (`**kwargs`), not a global.
        function = self.module.function_at(table)
        targets = [getattr(a, "node", None) for a in self.module.assignments(table)]
        if not targets or not all(
            isinstance(t, cst.Name)
            and self.module.target_binding(t) is not None
            and self.module.function_at(t) is function
            for t in targets
        ):
            return None
        entries: dict = {}
        for node in function.nodes:
            if isinstance(node, cst.Assign) and any(
                isinstance(t.target, cst.Name) and t.target.value == table.value
                for t in node.targets
            ):
                pairs = _literal_entries(node.value)
                if pairs is None:
                    return None
                for key, value in pairs:
                    if key is None and complete:
                        return None
                    entries.setdefault(key, []).append(value)
            elif (
                isinstance(node, cst.Subscript)
                and isinstance(node.value, cst.Name)
                and (node.value.value == table.value)
                and isinstance(self.module.parents.get(node), cst.AssignTarget)
            ):
                key = subscript_key(node)
                if not isinstance(key, str) and complete:
                    return None
                entries.setdefault(key, []).append(
                    self.module.parents[self.module.parents[node]].value
                )
            elif (
                isinstance(node, cst.Attribute)
                and node.attr.value in ("update", "setdefault", "pop")
                and isinstance(node.value, cst.Name)
                and (node.value.value == table.value)
            ):
                return None
        return entries

    def bind(self, call: cst.Call, params: tuple) -> tuple:
        """`(bound, spread, unseen)` of a call of a function with these positional parameters.

        `bound` is `{parameter: cst.Arg}` (None when the positional arguments cannot be
        told apart); a `**kwargs` built as a dict literal in the same function is read
        into it, and `spread` names it ("**kwargs (line 12)"); `unseen` is True when a
        `**` argument the code does not show remains.
        """
        if any(a.star == "*" for a in call.args):
            return None, self._spread(call), True
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if len(positional) > len(params):
            return None, "", False
        bound = dict(zip(params, positional))  # Trailing parameters may be absent.
        spread, unseen = [], False
        for a in call.args:
            if a.keyword is not None:
                if a.keyword.value in bound:
                    return None, "", False
                bound[a.keyword.value] = a
            elif a.star == "**":
                spread.append(f"**{self.module.code(a.value)} (line {self.module.line(a)})")
                entries = self.dict_entries(a.value, complete=True)
                if entries is None or any(len(v) != 1 for v in entries.values()):
                    unseen = True
                    continue
                for key, (value,) in entries.items():
                    if key in bound:
                        return None, "", False
                    bound[key] = cst.Arg(value, keyword=cst.Name(key))
        return bound, ", ".join(spread), unseen

    def _spread(self, call: cst.Call) -> str:
        return ", ".join(
            f"{a.star}{self.module.code(a.value)} (line {self.module.line(a)})"
            for a in call.args
            if a.star
        )

    def kind(self, expr: cst.CSTNode, depth: int = 0, seen: frozenset = frozenset()) -> str | None:
        """ "bool", "ids", "probabilities", "scores" or None (unknown).

        A variable assigned several times has a kind when every assignment gives it the
        same one (`x = tf.argmax(...)` then `x = tf.reshape(x, [-1])`): whichever runs
        last before the use, the value is of that kind.
        """
        if depth > _DEPTH:
            return None
        if isinstance(expr, cst.Name) and self.module.binding(expr) is None:
            return self._kind_of_every_assignment(expr, depth, seen)
        expr = self.origin(expr)
        if isinstance(expr, cst.Comparison):
            return "bool"
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.BitInvert):
            return "bool" if self.kind(expr.expression, depth + 1, seen) == "bool" else None
        if isinstance(expr, cst.BinaryOperation) and isinstance(
            expr.operator, (cst.BitAnd, cst.BitOr, cst.BitXor)
        ):
            both = {self.kind(expr.left, depth + 1, seen), self.kind(expr.right, depth + 1, seen)}
            return "bool" if both == {"bool"} else None
        if isinstance(expr, cst.Subscript):
            key = subscript_key(expr)
            if isinstance(key, str):  # A dict we cannot see: the canned heads' keys.
                return _CANNED.get(key) if self._is_predictions_param(expr.value) else None
            inner = self.kind(expr.value, depth + 1, seen)
            return "probabilities" if inner == "scores" else inner
        op = self.op(expr)
        if op is None:
            return None
        first = arg(expr, 0, *FIRST)
        if first is None:
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
            return self.kind(first, depth + 1, seen)
        if op in _WHERE:
            condition, ones, zeros = arg(expr, 0, "condition"), arg(expr, 1, "x"), arg(expr, 2, "y")
            if (
                condition is not None
                and self.kind(condition, depth + 1, seen) == "bool"
                and {self._zero_one(ones), self._zero_one(zeros)} == {0, 1}
            ):
                return "bool"  # 0/1 values.
            return None
        if op in _ROUND:  # Probabilities rounded: 0/1 values.
            return "bool" if self.kind(first, depth + 1, seen) == "probabilities" else None
        if op in _TO_NUMBERS:
            inner = self.kind(first, depth + 1, seen)
            return inner if inner in ("bool", "ids") else None
        if op in ("cast", "dtypes.cast"):
            dtype = arg(expr, 1, "dtype")
            if dtype is not None and (
                string(dtype) == "bool"
                or self.module.path_of(dtype, lambda p: names.is_tf(p, "bool"))
            ):
                return "bool"
            inner = self.kind(first, depth + 1, seen)
            return inner if inner in ("bool", "ids") else None
        return None

    def _kind_of_every_assignment(self, name: cst.Name, depth: int, seen: frozenset):
        """The one kind every plain assignment of `name` gives it (its reads inside those
        values stand for the earlier assignments), else None."""
        kinds = set()
        for assignment in self.module.assignments(name):
            target = getattr(assignment, "node", None)
            bound = self.module.target_binding(target) if isinstance(target, cst.Name) else None
            if bound is None or bound[2] is not None:
                return None  # A parameter, a loop target, an unpacking: not known.
            if id(target) in seen:
                continue  # `x = f(x)`: the x read is one of the other assignments.
            kinds.add(self.kind(bound[1], depth + 1, seen | {id(target)}))
        return kinds.pop() if len(kinds) == 1 else None

    def _zero_one(self, node: cst.CSTNode) -> int | None:
        """1 or 0 for a literal, `tf.ones_like`/`tf.ones`, `tf.zeros_like`/`tf.zeros`."""
        value = number(node)
        if value in (0, 1):
            return int(value)
        op = self.op(node)
        if op in ("ones_like", "ones"):
            return 1
        if op in ("zeros_like", "zeros"):
            return 0
        return None

    def _is_predictions_param(self, node: cst.CSTNode) -> bool:
        function = self.module.function_at(node)
        return (
            isinstance(node, cst.Name)
            and node.value == "predictions"
            and node.value in function.params
            and function.role == "add_metrics metric_fn"
        )

    def argmax_scores(self, expr: cst.CSTNode) -> cst.BaseExpression | None:
        """The scores `x` of `tf.argmax(x, -1)` / `tf.argmax(input=x, axis=-1)`, else None."""
        expr = self.origin(expr)
        if self.op(expr) not in _IDS - {"argmin", "math.argmin"}:
            return None
        axis = arg(expr, 1, "axis", "dimension")
        return arg(expr, 0, *FIRST) if number(axis) == -1 else None
