"""migrate: the shape of a rule, and the helpers every rule uses to build its finding.

A rule gets a `Call`: the use, the module context, the call's arguments bound
to the legacy function's parameters, and the metric's report label. It
returns one `Finding`. The rule tables (`_rules_*`, one module per family of
legacy APIs) are keyed by qualified name; `_registry` joins them. Rewrites go
through `rewrite_to_keras`, which refuses
(with the reason) whenever a use of the pair would not accept the new one
(`_pairs`), and otherwise builds the new call node (`_edit.Layout`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import libcst as cst

from estimator_metrics.migrate import _edit as edit
from estimator_metrics.migrate._context import Context
from estimator_metrics.migrate._model import Finding, Fix, Status
from estimator_metrics.migrate._names import SINGLE_INPUT_KERAS
from estimator_metrics.migrate._pairs import FLOAT32, FLOAT64, explain
from estimator_metrics.migrate._uses import Use
from estimator_metrics.migrate._values import is_none, string

COLLECTIONS = ("metrics_collections", "updates_collections")
#: Renamed keywords: v1 `weights` is from_keras' `sample_weight`, `values` its predictions.
_RENAMES = {"weights": "sample_weight", "values": "predictions"}


@dataclasses.dataclass
class Call:
    """What a rule sees of one metric use.

    `node` is where the use is reported; `call` is the call whose arguments are read (the
    same node for a direct call; for a metric function named without a call, the call
    made through that name, or None when the module shows none).
    """

    use: Use
    ctx: Context
    bound: dict  # {parameter: cst.Arg}
    metric: str  # The report's label, e.g. "tf.compat.v1.metrics.accuracy".
    name: str  # The metric's name in its rule table, e.g. "accuracy".
    call: cst.Call | None = None
    #: Why this use may be suggested but never rewritten ("" when it may be).
    suggest_only: str = ""
    #: The docs section of the rule, "page.md#anchor".
    docs: str = ""

    @property
    def node(self) -> cst.CSTNode:
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
            docs=self.docs,
            **kwargs,
        )


Handler = Callable[[Call], Finding]


@dataclasses.dataclass(frozen=True)
class Rule:
    """One row of a family's table, keyed by the legacy API's qualified name.

    Modelled on tf_upgrade_v2's `TFAPIChangeSpec`: what is regular is data, a function
    (`transform`) only for the hard cases. A row without a transform is either a
    candidate (`keras`: a Keras class the migration guide does not pin) or a fixed
    finding (`status`, `replacement`, `notes`).
    """

    #: The legacy function's parameters in order (None: the call is not bound).
    params: tuple | None = None
    transform: Handler | None = None
    #: The key of another row whose rule reads this call (contrib streaming_x -> v1 x), with
    #: this row's `params` naming the arguments.
    twin: str | None = None
    #: Why this API is suggested but never rewritten ("" when it may be).
    suggest_only: str = ""
    #: Keywords whose values change the replacement: when a `**kwargs` the code does not
    #: show may hold one of them, the use is `unsure`.
    depends_on: tuple = ()
    #: A candidate Keras class, and the keywords copied into it from the call.
    keras: str | None = None
    keras_args: tuple = ()
    #: A fixed finding.
    status: Status | None = None
    replacement: str = ""
    same_number: str = ""
    notes: tuple = ()
    #: The docs section that states and pins what the rule says, "page.md#anchor".
    docs: str = ""


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
    ctx, node = call.ctx, call.call
    if call.suggest_only:
        return None, None
    if ctx.adapter is None:
        return None, "not rewritten: no free name for `adapter` or tf in this module"
    if call.use.function.node is None:
        return None, "not rewritten: outside a function"
    blockers = ctx.pairs.blockers(node, FLOAT32)
    if blockers:
        return None, explain(blockers)
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
        for a in node.args
    ]
    renamed = dict(zip((id(a) for a in node.args), args))
    kept = edit.remove_args(args, [renamed[id(a)] for a in removed])
    if kept is None:
        return None, "not rewritten: unusual argument order"
    leading = [f"{ctx.keras}.{cls}({', '.join(parts)})"] + (["None"] if single_input else [])
    new = ctx.layout.call(node, f"{ctx.adapter}.from_keras", leading, kept)
    return {node: new}, None


def finish(
    call: Call, status: Status, same: str, notes: list, rewrite, fix: Fix, fallback: str
) -> Finding:
    """A finding whose replacement is the rewritten call when `rewrite` gave edits."""
    edits, reason = rewrite
    if edits is None:
        return call.finding(status, fallback, same, notes + ([reason] if reason else []))
    return call.finding(
        status,
        call.ctx.rewritten(edits[call.call]),
        same,
        notes,
        fix=fix,
        edits=edits,
        imports=call.ctx.needs("adapter") + call.ctx.keras_needs,
    )


def float64_notes(call: Call, builder: str) -> list:
    """What switching this pair to a float64 builder means for its uses."""
    blockers = call.ctx.pairs.blockers(call.call, FLOAT64) if call.call is not None else []
    if not blockers:
        return [f"every use of this pair in the function accepts {builder}'s float64 tensors"]
    return [f"{builder} returns float64 tensors; before switching, check: " + "; ".join(blockers)]


def no_tf2(call: Call) -> Finding:
    """Neither Keras nor our builders give this number."""
    return call.finding(
        Status.NO_TF2,
        "none in tf.keras.metrics or builders",
        "no",
        ["keep it, or write it as a custom Keras metric wrapped with adapter.from_keras"],
    )


def candidate(call: Call, rule: Rule) -> Finding:
    """A Keras class the migration guide does not pin: suggested, with the check to run."""
    arguments = ", ".join(f"{key}={call.text(key)}" for key in rule.keras_args if call.text(key))
    ctor = f"{rule.keras}({arguments})"
    single = rule.keras in SINGLE_INPUT_KERAS
    replacement = (
        from_keras_text(call.ctx, ctor, None, call.text("values"), weights=call.text("weights"))
        if single
        else suggest(call, ctor)
    )
    return call.finding(
        Status.MIGRATABLE,
        replacement,
        "unknown",
        [
            f"candidate {ctor}: not in the migration guide: compare both with "
            "parity.compare before switching"
        ]
        + (
            ["v1 casts predictions to bool, Keras thresholds at 0.5"]
            if call.name.endswith(("_positives", "_negatives"))
            else []
        ),
    )


def fixed(call: Call, rule: Rule) -> Finding:
    """A row's fixed finding."""
    return call.finding(rule.status, rule.replacement, rule.same_number, list(rule.notes))
