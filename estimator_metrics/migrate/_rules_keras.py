"""migrate: the Keras family - Keras metric objects in metric dicts, and our own API.

Stock `EstimatorSpec` turns a Keras metric object into
`(metric.result(), metric.updates[0])`: the op of its first `update_state`
call only. That is wrong for FBetaScore/F1Score/R2Score (whose update assigns
several variables) and for any metric updated more than once; those are
`wrong under stock Estimator`. `--fix-wrong` rewrites them when every
`update_state` call is a plain statement of the function body and the object
is used after its last update only as a metric dict value:

    m.update_state(a, b)                  adapter.from_keras(m, a, b)
    m.update_state(c, d, sample_weight=w) m = adapter.from_keras(m, c, d, sample_weight=w)
    return {"m": m}                       return {"m": m}   # now the (value, update_op) pair

Every call adds one update; the last pair runs them all (see adapter.from_keras).
"""

from __future__ import annotations

import libcst as cst

from estimator_metrics.migrate import _names as names
from estimator_metrics.migrate._model import Finding, Fix, Status
from estimator_metrics.migrate._rule import Call, Rule
from estimator_metrics.migrate._uses import placed_values

#: Keras classes that stock EstimatorSpec gets wrong even when updated once.
WRONG_CLASSES = {
    "FBetaScore": "stock EstimatorSpec runs only the last assignment of update_state: 0.0 "
    "for an example whose F-beta is 0.75",
    "F1Score": "stock EstimatorSpec runs only the last assignment of update_state: zeros",
    "R2Score": "stock EstimatorSpec runs only the last assignment of update_state: NaN",
}
_RENAMES = {"y_true": "labels", "y_pred": "predictions", "values": "predictions"}


def keras_object(call: Call) -> Finding:
    use, ctx = call.use, call.ctx
    cls, updates = use.name, use.updates
    call.metric = f"tf.keras.metrics.{cls} object in a metric dict"
    if use.variable:
        lines = ", ".join(str(ctx.module.line(u)) for u in updates)
        where = f"line{'s' if len(updates) > 1 else ''} {lines}"
        times = (
            f"updated in a loop, {where}"
            if use.in_loop
            else f"updated {len(updates)}x" + (f", {where}" if updates else "")
        )
        made = use.made_by or f"created line {ctx.module.line(use.ctor)}"
        call.metric = f"tf.keras.metrics.{cls} `{use.variable}` ({made}, {times}) in a metric dict"
    reasons = []
    if cls in WRONG_CLASSES:
        reasons.append(WRONG_CLASSES[cls])
    if len(updates) > 1 or use.in_loop:
        reasons.append(
            "updated more than once: stock EstimatorSpec counts only the first update_state call"
        )
    suggestion = _suggestion(call)
    note = (
        []
        if updates or use.manual_pair
        else [
            "no update_state call on it in this function: stock EstimatorSpec raises "
            "ValueError('Please call update_state(...)') unless it is updated elsewhere"
        ]
    )
    if reasons:
        edits, why = _fix(call)
        notes = reasons + note + ([why] if why else [])
        if edits:
            last = ctx.module.statement_of(updates[-1])
            return call.finding(
                Status.WRONG,
                ctx.rewritten(edits[last]),
                "corrected",
                notes,
                fix=Fix.CORRECTION,
                edits=edits,
                imports=ctx.needs("adapter"),
            )
        return call.finding(Status.WRONG, suggestion, "corrected", notes)
    return call.finding(
        Status.MIGRATABLE,
        suggestion,
        "same if its update_state returns one op covering every assignment",
        [
            "stock EstimatorSpec evaluates (result(), updates[0]); adapter.from_keras runs the "
            "whole update_state and keeps the state out of checkpoints"
        ]
        + note
        + ["not rewritten: no test pins stock == from_keras for this class"],
    )


def _suggestion(call: Call) -> str:
    use, ctx = call.use, call.ctx
    adapter = ctx.adapter or "adapter"
    if not use.variable or not use.updates:
        return (
            f"one {adapter}.from_keras(<the metric>, y_true, y_pred) per update, created "
            "in this function"
        )
    last = use.updates[-1]
    arguments = ", ".join(
        ctx.text(a.with_changes(comma=cst.MaybeSentinel.DEFAULT)) for a in last.args
    )
    text = f"{adapter}.from_keras({use.variable}, {arguments})"
    if len(use.updates) > 1:
        return (
            f"one {adapter}.from_keras({use.variable}, ...) per update_state call; the last: {text}"
        )
    return text


def _fix(call: Call):
    """Edits replacing the update_state calls by from_keras calls, or (None, why not)."""
    use, ctx = call.use, call.ctx
    module, function, variable = ctx.module, use.function, use.variable
    if use.made_by:
        return None, f"not fixable automatically: {use.made_by}"
    if not variable or use.manual_pair or not use.updates or use.in_loop:
        return None, "not fixable automatically: needs update_state calls on a named metric"
    if ctx.adapter is None:
        return None, "no free name for `adapter`: not fixable automatically"
    statements = [module.statement_of(update) for update in use.updates]
    for update, statement in zip(use.updates, statements):
        line = module.parents.get(statement)
        block = module.parents.get(line)
        if not (
            isinstance(statement, cst.Expr)
            and statement.value is update
            and module.parents.get(block) is function.node
        ):
            return None, (
                "not fixable automatically: an update_state call is not a plain "
                "statement of the function body"
            )
        if any(a.star for a in update.args) or any(
            a.keyword is not None and a.keyword.value not in (*_RENAMES, "sample_weight")
            for a in update.args
        ):
            return None, "not fixable automatically: unusual update_state arguments"
        if not update.args:
            return None, "not fixable automatically: update_state without arguments"
    last_line = module.end_line(statements[-1])
    placed = set(placed_values(module, function))
    for node in function.nodes:
        if (
            isinstance(node, cst.Name)
            and node.value == variable
            and (module.line(node) > last_line)
            and node not in placed
        ):
            return None, (
                f"not fixable automatically: `{variable}` is used after its last "
                "update other than as a metric dict value"
            )
    if module.line(use.node) <= last_line:
        return None, "not fixable automatically: placed in the dict before its last update"
    leading = [variable] + (["None"] if use.name in names.SINGLE_INPUT_KERAS else [])
    edits = {}
    for index, (update, statement) in enumerate(zip(use.updates, statements)):
        args = [
            a.with_changes(keyword=cst.Name(_RENAMES[a.keyword.value]))
            if a.keyword is not None and a.keyword.value in _RENAMES
            else a
            for a in update.args
        ]
        last = index == len(use.updates) - 1
        new = ctx.layout.call(
            update,
            f"{ctx.adapter}.from_keras",
            leading,
            args,
            before=f"{variable} = " if last else "",
        )
        if last:
            edits[statement] = cst.Assign(targets=[cst.AssignTarget(cst.Name(variable))], value=new)
        else:
            edits[update] = new
    return edits, None


def ours(call: Call) -> Finding:
    call.metric = call.use.name
    return call.finding(Status.OK, "", "", [])


_STOCK = "adapter.md#stock-estimatorspec-and-keras-metric-objects"
TABLE = {
    "tf.keras.metrics.*": Rule(transform=keras_object, docs=_STOCK),
    "estimator_metrics.adapter.from_keras": Rule(transform=ours),
    "estimator_metrics.builders.*": Rule(transform=ours),
}
