"""migrate: every use of a metric's `(value, update_op)` pair, and whether a rewrite keeps it valid.

A rewrite replaces the call that makes a pair; the program stays valid only
if every use of that pair accepts the new one. What the replacements return
(the facts this module relies on):

* `adapter.from_keras(keras_metric, ...)` -> `(value, update_op)` with
  `update_op` a Tensor (the result after this call's update) and both of the
  dtype of `metric.result()`: float32 for stock Keras metrics, as
  `tf.compat.v1.metrics` return. Tensor and op *names* differ.
* `builders.fbeta/mape/average_confidence` -> two float64 Tensors.

Uses followed within the function (and closures in it): the pair placed in a
metric dict, a display or a comprehension (and that dict's `d["key"]` entries read later), returned,
discarded, bound to a name or unpacked (`acc, acc_op = ...`) and every read of
those names, `pair[0]` / `pair[1]`, and each element passed to TF ops,
combined in arithmetic, put in a tuple placed in a dict, or returned.
Everything else is reported as a reason not to rewrite, and so is any
lookup of graph elements by name in the function (`get_tensor_by_name`, ...).
A reason is a `Breaks` when the rewrite would certainly break that use (it
reads a name the rewrite changes, or mixes float64 with float32); every other
reason is a use that is not followed, which may well keep working.
"""

from __future__ import annotations

import libcst as cst

from estimator_metrics.migrate import _names as names
from estimator_metrics.migrate._module import Module
from estimator_metrics.migrate._values import number, string, subscript_key

FLOAT32, FLOAT64 = "float32", "float64"
#: TF ops that take a tensor of any dtype and never combine it with another.
_ANY_DTYPE = {
    "identity",
    "group",
    "tuple",
    "control_dependencies",
    "print",
    "Print",
    "cast",
    "stop_gradient",
    "convert_to_tensor",
    "summary.scalar",
    "summary.histogram",
    "compat.v1.summary.scalar",
    "debugging.check_numerics",
    "check_numerics",
    "saturate_cast",
    "dtypes.cast",
}
#: Graph look-ups by name: a rewrite renames the metric's ops and variables.
_BY_NAME = ("get_tensor_by_name", "get_operation_by_name", "get_collection", "get_collection_ref")
_DEPTH = 4


class Breaks(str):
    """A reason not to rewrite that is a use the rewrite would break (not one merely not
    followed)."""


def explain(reasons: list) -> str:
    """Why a rewrite is refused: "a use would break" only for `Breaks`; each other reason
    says itself that a use is not followed."""
    broken = [r for r in reasons if isinstance(r, Breaks)]
    unfollowed = [r for r in reasons if not isinstance(r, Breaks)]
    if not broken:
        return "not rewritten: " + "; ".join(unfollowed)
    return "not rewritten, " + "; ".join(
        [("a use would break: " if len(broken) == 1 else "uses would break: ") + "; ".join(broken)]
        + unfollowed
    )


class Pairs:
    def __init__(self, module: Module):
        self.module = module

    def blockers(self, call: cst.Call, dtype: str) -> list:
        """Why replacing `call` by a pair of `dtype` tensors would break a use; [] if none."""
        reasons: list = []
        function = self.module.function_at(call)
        if isinstance(function.node, cst.Lambda):
            reasons.append(
                f"inside a lambda (line {self.module.line(call)}): it may run in "
                "a tf.cond branch, where a new metric object cannot make variables"
            )
        for node in self.module.functions[0].nodes if function.node is None else function.nodes:
            if isinstance(node, cst.Attribute) and node.attr.value in _BY_NAME:
                reasons.append(
                    f"{self.module.code(node)}(...) (line {self.module.line(node)}) "
                    "reads graph elements by name, and the rewritten metric's ops "
                    "and variables have other names"
                )
                break
        self._pair(call, dtype, reasons, 0)
        return list(dict.fromkeys(reasons))

    def _where(self, node: cst.CSTNode) -> str:
        return f"`{_short(self.module.code(node))}` (line {self.module.line(node)})"

    def _callee(self, argument: cst.Arg) -> tuple[cst.Call, str | None]:
        call = self.module.parents[argument]
        return call, self.module.path_of(call.func, names.tf_op)

    def _pair(self, node: cst.CSTNode, dtype: str, reasons: list, depth: int) -> None:
        """Uses of an expression whose value is the whole pair."""
        parent = self.module.parents.get(node)
        if depth > _DEPTH:
            reasons.append(f"{self._where(node)}: followed too far")
        elif isinstance(parent, cst.Subscript) and parent.value is node:
            if subscript_key(parent) in (0, 1):
                self._element(parent, dtype, reasons, depth)
            else:
                reasons.append(f"{self._where(parent)} indexes the pair")
        elif isinstance(parent, cst.DictElement) and parent.value is node:
            self._placed(parent, dtype, reasons, depth)
        elif isinstance(parent, cst.DictComp) and parent.value is node:
            # `{name: tf.metrics.mean(v) for name, v in ...}`: a metric dict made in one go.
            assign = self.module.parents.get(parent)
            if isinstance(assign, cst.Assign):
                for target in assign.targets:
                    if isinstance(target.target, cst.Name):
                        self._entries(target.target, None, dtype, reasons, depth)
        elif isinstance(parent, (cst.Return, cst.Expr)):
            if isinstance(parent, cst.Return) and dtype == FLOAT64:
                reasons.append(
                    f"returned {self._where(parent)}: the caller's uses are not followed"
                )
        elif isinstance(parent, cst.Assign) and parent.value is node:
            self._assigned(parent, dtype, reasons, depth, whole=True)
        elif isinstance(parent, cst.Arg):
            call, op = self._callee(parent)
            if (
                parent.keyword is not None
                and isinstance(call.func, cst.Attribute)
                and (call.func.attr.value == "update")
            ) or (isinstance(call.func, cst.Name) and call.func.value == "dict"):
                return  # Placed in a metric dict.
            if op not in ("group", "tuple"):
                reasons.append(
                    f"the pair is passed to {self._where(call)}, whose use of it is not followed"
                )
        elif (
            isinstance(parent, cst.Element)
            and isinstance(self.module.parents.get(parent), (cst.Tuple, cst.List))
            and isinstance(self.module.parents.get(self.module.parents[parent]), cst.Return)
        ):
            if dtype == FLOAT64:
                reasons.append(
                    f"returned in a tuple {self._where(parent)}: the caller's uses are not followed"
                )
        else:
            reasons.append(
                f"the pair is used in {self._where(parent or node)}, which is not followed"
            )

    def _placed(self, element: cst.DictElement, dtype: str, reasons: list, depth: int) -> None:
        """A pair placed in a dict display: follow `d["key"]` reads of that dict."""
        display = self.module.parents.get(element)
        assign = self.module.parents.get(display)
        key = string(element.key)
        if isinstance(assign, cst.Assign) and key is not None:
            for target in assign.targets:
                if isinstance(target.target, cst.Name):
                    self._entries(target.target, key, dtype, reasons, depth)

    def _entries(self, target: cst.Name, key: str, dtype: str, reasons: list, depth: int) -> None:
        """Reads of the metric dict `target`: `d[key]`, loops over its items, calls it goes to."""
        for reference in self.module.references(target):
            parent = self.module.parents.get(reference)
            if isinstance(parent, cst.Subscript) and parent.value is reference:
                if subscript_key(parent) == key and not isinstance(
                    self.module.parents.get(parent), cst.AssignTarget
                ):
                    self._pair(parent, dtype, reasons, depth + 1)
            elif isinstance(parent, cst.Attribute) and parent.value is reference:
                if parent.attr.value in ("items", "values"):
                    self._loop(parent, dtype, reasons, depth)
            elif isinstance(parent, cst.Arg):
                call, _ = self._callee(parent)
                merged = isinstance(call.func, cst.Attribute) and call.func.attr.value == "update"
                if not merged and not self.module.path_of(call.func, names.is_spec):
                    reasons.append(
                        f"the metric dict is passed to {self._where(call)}, whose "
                        "use of its entries is not followed"
                    )

    def _loop(self, method: cst.Attribute, dtype: str, reasons: list, depth: int) -> None:
        """`for name, pair in d.items():` / `for pair in d.values():` - follow `pair`."""
        call = self.module.parents.get(method)
        loop = self.module.parents.get(call)
        if not (isinstance(loop, cst.For) and loop.iter is call):
            reasons.append(
                f"the metric dict's entries are read in {self._where(call)}, which is not followed"
            )
            return
        target = loop.target
        if (
            method.attr.value == "items"
            and isinstance(target, cst.Tuple)
            and len(target.elements) == 2
        ):
            target = target.elements[1].value
        if isinstance(target, cst.Name):
            self._names(target, self._pair, dtype, reasons, depth)
        else:
            reasons.append(f"the metric dict's entries are unpacked in {self._where(loop.target)}")

    def _assigned(
        self, assign: cst.Assign, dtype: str, reasons: list, depth: int, whole: bool
    ) -> None:
        follow = self._pair if whole else self._element
        for target in assign.targets:
            node = target.target
            if isinstance(node, cst.Name):
                self._names(node, follow, dtype, reasons, depth)
            elif whole and isinstance(node, (cst.Tuple, cst.List)) and len(node.elements) == 2:
                for element in node.elements:
                    if isinstance(element.value, cst.Name):
                        self._names(element.value, self._element, dtype, reasons, depth)
                    else:
                        reasons.append(f"unpacked into {self._where(element.value)}")
            elif (
                isinstance(node, cst.Subscript)
                and isinstance(node.value, cst.Name)
                and (isinstance(subscript_key(node), str))
            ):
                for name in self._dict_names(node.value):
                    self._entries(name, subscript_key(node), dtype, reasons, depth)
            else:
                reasons.append(f"assigned to {self._where(node)}")

    def _dict_names(self, name: cst.Name) -> list:
        """The assignment targets of the dict `name` refers to."""
        return [
            a.node
            for a in self.module.assignments(name)
            if isinstance(getattr(a, "node", None), cst.Name)
        ]

    def _names(self, target: cst.Name, follow, dtype: str, reasons: list, depth: int) -> None:
        if self.module.assignment_count(target) != 1:
            lines = sorted(
                {self.module.line(a.node) for a in self.module.assignments(target) if a.node}
            )
            reasons.append(
                f"`{target.value}` is assigned more than once in this function (lines "
                f"{', '.join(map(str, lines))}): its uses cannot be told apart"
            )
            return
        for reference in self.module.references(target):
            follow(reference, dtype, reasons, depth + 1)

    def _element(self, node: cst.CSTNode, dtype: str, reasons: list, depth: int) -> None:
        """Uses of one element (value or update op) of the pair."""
        parent = self.module.parents.get(node)
        where = self._where(parent or node)
        if depth > _DEPTH:
            reasons.append(f"{where}: followed too far")
        elif isinstance(parent, cst.Arg):
            call, op = self._callee(parent)
            if op is None or op in _ANY_DTYPE:
                if op is None:
                    reasons.append(
                        f"passed to {self._where(call)}, whose use of it is not followed"
                    )
            elif dtype == FLOAT64:
                reasons.append(
                    Breaks(
                        f"{self._where(call)} combines it with other tensors: float32 "
                        "there, float64 from a builder (cast it)"
                    )
                )
        elif isinstance(
            parent, (cst.BinaryOperation, cst.Comparison, cst.ComparisonTarget, cst.UnaryOperation)
        ):
            if dtype == FLOAT64 and not self._with_literals(parent):
                reasons.append(
                    Breaks(
                        f"{where} does float32 arithmetic with it; a builder gives float64 "
                        "(cast it)"
                    )
                )
        elif isinstance(parent, cst.Element):
            container = self.module.parents.get(parent)
            holder = self.module.parents.get(container)
            if isinstance(holder, cst.DictElement) or (
                isinstance(holder, cst.Arg) and self._callee(holder)[1] in _ANY_DTYPE
            ):
                return
            if isinstance(holder, cst.Return):
                if dtype == FLOAT64:
                    reasons.append(f"returned {where}: the caller's uses are not followed")
                return
            reasons.append(f"put in {self._where(container)}, which is not followed")
        elif isinstance(parent, cst.Assign) and parent.value is node:
            self._assigned(parent, dtype, reasons, depth, whole=False)
        elif isinstance(parent, cst.Attribute) and parent.value is node:
            if parent.attr.value == "name" or (
                parent.attr.value == "op"
                and isinstance(self.module.parents.get(parent), cst.Attribute)
            ):
                reasons.append(Breaks(f"{where} reads a name, which the rewrite changes"))
            elif dtype == FLOAT64 and parent.attr.value == "dtype":
                reasons.append(Breaks(f"{where} reads its dtype"))
        elif isinstance(parent, cst.Return):
            if dtype == FLOAT64:
                reasons.append(f"returned {where}: the caller's uses are not followed")
        elif not isinstance(parent, cst.Expr):
            reasons.append(f"used in {where}, which is not followed")

    @staticmethod
    def _with_literals(operation: cst.CSTNode) -> bool:
        """Whether every other operand is a number literal (float64 `acc * 100` stays valid)."""
        if isinstance(operation, cst.BinaryOperation):
            return number(operation.left) is not None or number(operation.right) is not None
        return isinstance(operation, cst.UnaryOperation)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
