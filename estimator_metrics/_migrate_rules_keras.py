"""migrate: Keras metric objects in metric dicts, hand-built F-beta, and what is done.

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

import ast

from estimator_metrics import _migrate_edit as edit
from estimator_metrics import _migrate_names as names
from estimator_metrics._migrate_finding import (
    CORRECTION, EXACT, FLOAT32, MIGRATABLE, OK, WRONG, Context, Finding)
from estimator_metrics._migrate_find import Use

#: Keras classes that stock EstimatorSpec gets wrong even when updated once.
WRONG_CLASSES = {
    "FBetaScore": "stock EstimatorSpec runs only the last assignment of update_state: 0.0 "
                  "for an example whose F-beta is 0.75 [tests/test_adapter.py::"
                  "test_stock_estimator_is_wrong_for_fbeta_and_the_adapter_is_right]",
    "F1Score": "stock EstimatorSpec runs only the last assignment of update_state "
               "[tests/test_migrate.py::test_fix_wrong_gives_the_corrected_numbers]",
    "R2Score": "stock EstimatorSpec runs only the last assignment of update_state: NaN "
               "[tests/test_migrate.py::test_fix_wrong_gives_the_corrected_numbers]",
}
_RENAMES = {"y_true": "labels", "y_pred": "predictions", "values": "predictions"}


def classify_keras(use: Use, ctx: Context) -> Finding:
    cls, updates = use.name, use.updates
    metric = f"tf.keras.metrics.{cls} object in a metric dict"
    if use.variable:
        lines = ", ".join(str(u.lineno) for u in updates)
        where = f"line{'s' if len(updates) > 1 else ''} {lines}"
        times = (f"updated in a loop, {where}" if use.in_loop else
                 f"updated {len(updates)}x" + (f", {where}" if updates else ""))
        metric = (f"tf.keras.metrics.{cls} `{use.variable}` (created line {use.ctor.lineno}, "
                  f"{times}) in a metric dict")
    reasons = []
    if cls in WRONG_CLASSES:
        reasons.append(WRONG_CLASSES[cls])
    if len(updates) > 1 or use.in_loop:
        reasons.append("updated more than once: stock EstimatorSpec counts only the first "
                       "update_state call [tests/test_adapter.py::"
                       "test_stock_estimator_counts_only_the_first_of_two_updates]")
    suggestion = _suggestion(use, ctx)
    if not updates and not use.manual_pair:
        reasons_or_note = ["no update_state call on it in this function: stock EstimatorSpec "
                           "raises ValueError('Please call update_state(...)') unless it is "
                           "updated elsewhere"]
    else:
        reasons_or_note = []
    if reasons:
        edits, why = _fix(use, ctx)
        notes = reasons + reasons_or_note + ([why] if why else [])
        if edits:
            last = ctx.module.statement_of(updates[-1])
            return ctx.finding(use.node, use.scope, metric, WRONG, ctx.rewritten(last, edits),
                               "corrected", notes, fix=CORRECTION, edits=edits,
                               imports=ctx.needs("adapter"))
        return ctx.finding(use.node, use.scope, metric, WRONG, suggestion, "corrected", notes)
    return ctx.finding(
        use.node, use.scope, metric, MIGRATABLE, suggestion,
        "same if its update_state returns one op covering every assignment",
        ["stock EstimatorSpec evaluates (result(), updates[0]); adapter.from_keras runs the "
         "whole update_state and keeps the state out of checkpoints"] + reasons_or_note
        + ["not rewritten: no test pins stock == from_keras for this class"])


def _suggestion(use: Use, ctx: Context) -> str:
    adapter = ctx.adapter or "adapter"
    if not use.variable or not use.updates:
        return f"{adapter}.from_keras({ctx.keras}.{use.name}(...), labels, predictions)"
    last = use.updates[-1]
    arguments = ", ".join(ctx.text(node) for node in edit.argument_nodes(last))
    text = f"{adapter}.from_keras({use.variable}, {arguments})"
    if len(use.updates) > 1:
        return (f"one {adapter}.from_keras({use.variable}, ...) per update_state call; "
                f"the last: {text}")
    return text


def _fix(use: Use, ctx: Context):
    """Edits replacing the update_state calls by from_keras calls, or (None, why not)."""
    module, scope, source, variable = ctx.module, use.scope, ctx.source, use.variable
    if not variable or use.manual_pair or not use.updates or use.in_loop:
        return None, "not fixable automatically: needs update_state calls on a named metric"
    if ctx.adapter is None:
        return None, "no free name for `adapter`: not fixable automatically"
    statements = [module.statement_of(call) for call in use.updates]
    for call, statement in zip(use.updates, statements):
        if not (isinstance(statement, ast.Expr) and statement.value is call
                and module.parents.get(statement) is scope.node):
            return None, ("not fixable automatically: an update_state call is not a plain "
                          "statement of the function body")
        if any(isinstance(a, ast.Starred) for a in call.args) or any(
                k.arg not in (*_RENAMES, "sample_weight") for k in call.keywords):
            return None, "not fixable automatically: unusual update_state arguments"
        if not call.args and not call.keywords:
            return None, "not fixable automatically: update_state without arguments"
    last_line = statements[-1].end_lineno
    placed = {id(node) for node in module.placed_values(scope)}
    for node in scope.nodes:
        if (isinstance(node, ast.Name) and node.id == variable and node.lineno > last_line
                and id(node) not in placed):
            return None, (f"not fixable automatically: `{variable}` is used after its last "
                          "update other than as a metric dict value")
    if use.node.lineno <= last_line:
        return None, "not fixable automatically: placed in the dict before its last update"
    single = use.name in names.SINGLE_INPUT_KERAS
    edits = []
    for index, call in enumerate(use.updates):
        first = edit.argument_nodes(call)[0]
        leading = f"{variable}, " + ("None, " if single else "")
        insertion = edit.insert_before(source, first, leading)
        edits_of_call = [edit.replace(source, call.func, f"{ctx.adapter}.from_keras"), insertion]
        for keyword in call.keywords:
            if keyword.arg in _RENAMES:
                edits_of_call.append(edit.keyword_name(source, keyword, _RENAMES[keyword.arg]))
        if index == len(use.updates) - 1:
            start, _ = source.span(statements[-1])
            edits_of_call.append(edit.Edit(start, start, f"{variable} = "))
        edits.extend(edit.relayout(source, call, edits_of_call, insertion))
    return edits, None


def classify_ok(use: Use, ctx: Context) -> Finding:
    if use.kind == "adapter":
        metric = f"tf.keras.metrics.{use.name} through adapter.from_keras" if (
            use.name != "a metric") else "adapter.from_keras"
    else:
        metric = f"builders.{use.name}"
    return ctx.finding(use.node, use.scope, metric, OK, "", "", [])


def classify_add_metrics(use: Use, ctx: Context) -> Finding:
    metric = "tf.contrib.estimator.add_metrics"
    notes = ["the same function in tensorflow_estimator (extenders.add_metrics); tf.contrib "
             "is gone in TF 2, and tf_upgrade_v2 does not convert this call"]
    root = use.node.func
    while isinstance(root, ast.Attribute):
        root = root.value
    via_tf = isinstance(root, ast.Name) and ctx.module.imports.top_level.get(
        root.id) in names.TF_ROOTS
    if ctx.estimator is None or not via_tf:
        why = ("imported from tf.contrib: replace the import too (tf.estimator.add_metrics)"
               if not via_tf else "no tf alias in this module")
        return ctx.finding(use.node, use.scope, metric, MIGRATABLE, "tf.estimator.add_metrics",
                           "exact", notes + [f"not rewritten: {why}"])
    edits = [edit.replace(ctx.source, use.node.func, f"{ctx.estimator}.add_metrics")]
    return ctx.finding(use.node, use.scope, metric, MIGRATABLE, ctx.rewritten(use.node, edits),
                       "exact", notes, fix=EXACT, edits=edits, imports=ctx.needs("tf"))


def hand_built_fbeta(ctx: Context) -> list:
    """Findings for `2 * p * r / (p + r)`-style expressions over v1 precision/recall."""
    findings = []
    for scope in ctx.module.scopes:
        for node in scope.nodes:
            if not isinstance(node, (ast.BinOp, ast.Call)):
                continue
            match = ctx.patterns.fbeta(node, scope)
            if match is None:
                continue
            precision, recall = match["precision"], match["recall"]
            beta_squared = match["beta_squared"]
            beta = "1.0" if not beta_squared else _beta(ctx, beta_squared)
            name = "F1" if beta == "1.0" else f"F-beta (beta={beta})"
            call = _fbeta_call(ctx, precision, recall, beta)
            findings.append(ctx.finding(
                node, scope, f"hand-built {name} from v1 precision (line {precision.lineno}) "
                f"and recall (line {recall.lineno})", FLOAT32, call,
                "1e-6 (float64 counts); 0.0 where this is NaN",
                ["v1 precision and recall count in float32; builders.fbeta counts TP/FP/FN in "
                 "float64 [test_float32_state_on_both_sides]",
                 "this expression is NaN (0/0) when precision + recall = 0; builders.fbeta "
                 "gives 0.0",
                 "builders.fbeta thresholds float predictions at 0.5 (threshold=...); v1 "
                 "counts every nonzero prediction as positive: pass the same bool or 0/1 "
                 "predictions to keep today's reading",
                 "not rewritten: a different number where this one is NaN"]))
    return findings


def _fbeta_call(ctx: Context, precision: ast.Call, recall: ast.Call, beta: str) -> str:
    """builders.fbeta with the labels, predictions and weights precision and recall share."""
    def arguments(call):
        return ([ctx.text(a) for a in call.args],
                sorted((k.arg, ctx.text(k.value)) for k in call.keywords))

    beta_text = f", beta={beta}" if beta != "1.0" else ""
    if arguments(precision) != arguments(recall):
        return f"builders.fbeta(labels, predictions{beta_text}, weights=...)"
    positional, keywords = arguments(precision)
    values = dict(zip(("labels", "predictions", "weights"), positional))
    values.update((key, value) for key, value in keywords if key in ("labels", "predictions",
                                                                       "weights"))
    weights = f", weights={values['weights']}" if "weights" in values else ""
    return (f"builders.fbeta({values.get('labels', 'labels')}, "
            f"{values.get('predictions', 'predictions')}{beta_text}{weights})")


def _beta(ctx: Context, factors: list) -> str:
    if len(factors) == 1 and isinstance(factors[0], ast.BinOp) and isinstance(
            factors[0].op, ast.Pow) and ctx.text(factors[0].right) == "2":
        return ctx.text(factors[0].left)
    if len(factors) == 2 and ctx.text(factors[0]) == ctx.text(factors[1]):
        return ctx.text(factors[0])
    return f"sqrt({' * '.join(ctx.text(f) for f in factors)})"
