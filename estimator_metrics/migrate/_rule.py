"""migrate: the shape of a rule, and the helpers every rule uses to build its finding.

A rule gets a `Call`: the use, the module context, the call's arguments bound
to the legacy function's parameters, and the metric's report label. It
returns one `Finding`. Rewrites go through `rewrite_to_keras`, which refuses
(with the reason) whenever a use of the pair would not accept the new one
(`_pairs`), and otherwise builds the new call node (`_edit.Layout`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import libcst as cst

from estimator_metrics.migrate import _edit as edit
from estimator_metrics.migrate._context import Context
from estimator_metrics.migrate._model import Finding, Fix, Kind, Status
from estimator_metrics.migrate._pairs import FLOAT32, FLOAT64
from estimator_metrics.migrate._uses import Use
from estimator_metrics.migrate._values import is_none, string

COLLECTIONS = ("metrics_collections", "updates_collections")
#: Renamed keywords: v1 `weights` is from_keras' `sample_weight`, `values` its predictions.
_RENAMES = {"weights": "sample_weight", "values": "predictions"}


@dataclasses.dataclass
class Call:
    """What a rule sees of one metric use."""

    use: Use
    ctx: Context
    bound: dict  # {parameter: cst.Arg}
    metric: str  # The report's label, e.g. "tf.compat.v1.metrics.accuracy".

    @property
    def node(self) -> cst.Call:
        return self.use.node

    def value(self, key: str) -> cst.BaseExpression | None:
        """The argument passed for `key`, None if absent or a literal None."""
        found = self.bound.get(key)
        return None if found is None or is_none(found.value) else found.value

    def text(self, key: str) -> str | None:
        value = self.value(key)
        return self.ctx.text(value) if value is not None else None

    def literal(self, key: str, default: str) -> str | None:
        """The string literal passed as `key`, `default` if absent, None if not a literal."""
        value = self.value(key)
        return default if value is None else string(value)

    def kind(self, key: str = "predictions") -> str | None:
        value = self.value(key)
        return self.ctx.values.kind(value) if value is not None else None

    def finding(
        self, status: Status, replacement: str, same_number: str, notes: list, **kwargs
    ) -> Finding:
        return self.ctx.finding(
            self.node,
            self.use.function,
            self.metric,
            status,
            replacement,
            same_number,
            notes,
            **kwargs,
        )


Handler = Callable[[Call], Finding]


@dataclasses.dataclass(frozen=True)
class Rule:
    """One row of the registry: which uses it takes, how it reads them, what it says."""

    kind: Kind
    name: str | None  # None: the kind's default rule.
    label: str  # Report label; "{name}" is the use's name.
    params: tuple | None  # Positional parameters of the legacy call (None: no binding).
    handler: Handler


def from_keras_text(ctx: Context, ctor: str, *args: str | None, weights: str | None = None) -> str:
    """The suggested call as text; weights always as `sample_weight=`."""
    values = list(args)
    while values and values[-1] is None:
        values.pop()
    rendered = ", ".join("None" if v is None else v for v in values)
    weight = f", sample_weight={weights}" if weights else ""
    return f"{ctx.adapter or 'adapter'}.from_keras({ctx.keras}.{ctor}, {rendered}{weight})"


def suggest(
    call: Call, ctor: str, labels: str | None = None, predictions: str | None = None
) -> str:
    return from_keras_text(
        call.ctx,
        ctor,
        labels or call.text("labels"),
        predictions or call.text("predictions"),
        weights=call.text("weights"),
    )


def rewrite_to_keras(
    call: Call, cls: str, ctor_args: tuple = (), single_input: bool = False, drop: tuple = ()
):
    """({call: new call}, None) turning it into `adapter.from_keras(<Keras cls>(...), ...)`,
    or (None, why not)."""
    ctx = call.ctx
    if ctx.adapter is None:
        return None, "not rewritten: no free name for `adapter` or tf in this module"
    if call.use.function.node is None:
        return None, "not rewritten: outside a function"
    blockers = ctx.pairs.blockers(call.node, FLOAT32)
    if blockers:
        return None, "not rewritten, a use would break: " + "; ".join(blockers)
    removed = [call.bound[p] for p in drop if p in call.bound]
    for key in COLLECTIONS:
        if key in call.bound:
            if call.value(key) is not None:
                return None, f"not rewritten: {key} has no from_keras counterpart"
            removed.append(call.bound[key])
    parts = list(ctor_args)
    if "name" in call.bound:
        parts.append(f"name={ctx.module.code(call.bound['name'].value)}")
        removed.append(call.bound["name"])
    args = [
        a.with_changes(keyword=cst.Name(_RENAMES[a.keyword.value]))
        if a.keyword is not None and a.keyword.value in _RENAMES
        else a
        for a in call.node.args
    ]
    renamed = dict(zip((id(a) for a in call.node.args), args))
    kept = edit.remove_args(args, [renamed[id(a)] for a in removed])
    if kept is None:
        return None, "not rewritten: unusual argument order"
    leading = [f"{ctx.keras}.{cls}({', '.join(parts)})"] + (["None"] if single_input else [])
    new = ctx.layout.call(call.node, f"{ctx.adapter}.from_keras", leading, kept)
    return {call.node: new}, None


def finish(
    call: Call, status: Status, same: str, notes: list, rewrite, fix: Fix, fallback: str
) -> Finding:
    """A finding whose replacement is the rewritten call when `rewrite` gave edits."""
    edits, reason = rewrite
    if call.use.kind is Kind.CONTRIB:  # Arguments in another order: suggest, never rewrite.
        edits, reason = None, None
    if edits is None:
        return call.finding(status, fallback, same, notes + ([reason] if reason else []))
    return call.finding(
        status,
        call.ctx.rewritten(edits[call.node]),
        same,
        notes,
        fix=fix,
        edits=edits,
        imports=call.ctx.needs("adapter") + call.ctx.keras_needs,
    )


def float64_notes(call: Call, builder: str) -> list:
    """What switching this pair to a float64 builder means for its uses."""
    blockers = call.ctx.pairs.blockers(call.node, FLOAT64)
    if not blockers:
        return [f"every use of this pair in the function accepts {builder}'s float64 tensors"]
    return [f"{builder} returns float64 tensors; before switching, check: " + "; ".join(blockers)]
