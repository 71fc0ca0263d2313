"""migrate: the tf.contrib family - contrib and slim metrics, MetricSpec, add_metrics.

* `tf.contrib.metrics.streaming_*` wrap a v1 metric with predictions first: each row
  is a twin of the v1 row (its rule reads the call under the contrib parameter
  order), suggested, never rewritten. `tf_slim.metrics` and `tf.contrib.slim.metrics`
  re-export contrib's functions: every name is mapped as its contrib twin is.
* `aggregate_metric_map(names_to_tuples)` only splits a dict of `(value, update_op)`
  pairs into two dicts: two dict comprehensions replace it exactly, and `--write`
  writes them.
* `f1_score` and the rest: no TF2 equivalent. `tf.contrib.learn.MetricSpec` (and
  its subclasses): no TF2 equivalent. `tf.contrib.estimator.add_metrics` is
  `tf.estimator.add_metrics`.
"""

from __future__ import annotations

import dataclasses

import libcst as cst

from estimator_metrics.migrate import _rules_v1 as v1
from estimator_metrics.migrate._model import Finding, Fix, Status
from estimator_metrics.migrate._rule import Call, Rule
from estimator_metrics.migrate._values import is_name_chain

#: contrib streaming metrics that wrap a v1 metric.
_TWINS = (
    "accuracy",
    "precision",
    "recall",
    "auc",
    "mean",
    "mean_absolute_error",
    "mean_squared_error",
    "root_mean_squared_error",
    "mean_iou",
    "true_positives",
    "false_positives",
    "true_negatives",
    "false_negatives",
    "mean_tensor",
    "precision_at_thresholds",
    "recall_at_thresholds",
    "mean_relative_error",
    "sensitivity_at_specificity",
    "specificity_at_sensitivity",
    "mean_cosine_distance",
    "percentage_below",
)
_CONTRIB = "tf.contrib.metrics."
_SLIMS = ("tf_slim.metrics.", "tf.contrib.slim.metrics.")
_GONE = "tf.contrib is gone in TF 2"
_ORDER = "streaming_* take predictions first, from_keras takes labels first"


def _twin(name: str, note: str) -> Rule:
    """contrib `streaming_<name>`: the v1 rule of `<name>` on predictions-first arguments."""
    key = v1.V1 + name
    row = v1.TABLE.get(key, v1.TABLE[v1.V1 + "*"])
    params = row.params
    if params is not None and params[0] != "values":
        params = ("predictions", "labels", *params[2:])
    return Rule(params, twin=key, suggest_only=note, depends_on=row.depends_on)


def aggregate_metric_map(call: Call) -> Finding:
    """`values, updates = aggregate_metric_map(m)` -> two dict comprehensions over `m`."""
    ctx = call.ctx
    argument = call.value("names_to_tuples")
    notes = [
        "aggregate_metric_map only splits a dict of (value, update_op) pairs into a dict of "
        "values and a dict of update ops, in the same order: two dict comprehensions do "
        "exactly that"
    ]
    split = (
        "{name: pair[0] for name, pair in M.items()}, {name: pair[1] for name, pair in M.items()}"
    )
    if argument is None or call.call is None:
        return call.finding(Status.MIGRATABLE, split, "exact", notes)
    edits, reason = _split_edits(call, argument)
    if edits is None:
        text = ctx.text(argument) if is_name_chain(argument) else "M"
        return call.finding(
            Status.MIGRATABLE,
            split.replace("M.items()", f"{text}.items()"),
            "exact",
            [*notes, reason],
        )
    (node, edit), *_ = edits.items()
    shown = edit(node) if callable(edit) else edit
    lines = shown.nodes if isinstance(shown, cst.FlattenSentinel) else [shown]
    return call.finding(
        Status.MIGRATABLE,
        "; ".join(ctx.rewritten(line) for line in lines),
        "exact",
        notes,
        fix=Fix.EXACT,
        edits=edits,
    )


def _comprehension(mapping: str, index: int) -> cst.BaseExpression:
    return cst.parse_expression(f"{{name: pair[{index}] for name, pair in {mapping}.items()}}")


def _split_edits(call: Call, argument: cst.BaseExpression):
    """({node: replacement or function of the updated node}, None), or (None, why not)."""
    ctx, node = call.ctx, call.call
    module = ctx.module
    statement = module.statement_of(node)
    line = module.parents.get(statement)
    targets = (
        statement.targets[0].target
        if isinstance(statement, cst.Assign) and len(statement.targets) == 1
        else None
    )
    unpacked = (
        isinstance(targets, (cst.Tuple, cst.List))
        and len(targets.elements) == 2
        and all(isinstance(e.value, (cst.Name, cst.Attribute)) for e in targets.elements)
        and statement.value is node
        and isinstance(line, cst.SimpleStatementLine)
        and len(line.body) == 1
    )
    if unpacked:
        names = [ctx.text(e.value) for e in targets.elements]
        if is_name_chain(argument):
            mapping = ctx.text(argument)
            lines = [
                cst.SimpleStatementLine(
                    [cst.Assign([cst.AssignTarget(e.value)], _comprehension(mapping, i))]
                )
                for i, e in enumerate(targets.elements)
            ]
            first = lines[0].with_changes(leading_lines=line.leading_lines)
            last = lines[1].with_changes(trailing_whitespace=line.trailing_whitespace)
            return {line: cst.FlattenSentinel([first, last])}, None
        free = ctx.free_name("metric_pairs")
        if free is None or free in names:
            return None, "not rewritten: no free name to hold the dict"

        def split(updated: cst.SimpleStatementLine) -> cst.FlattenSentinel:
            # The dict as it is after any rewrite of the metrics inside it.
            value = updated.body[0].value.args[0].value
            hold = cst.SimpleStatementLine(
                [cst.Assign([cst.AssignTarget(cst.Name(free))], value)],
                leading_lines=updated.leading_lines,
            )
            lines = [
                cst.SimpleStatementLine(
                    [cst.Assign([cst.AssignTarget(e.value)], _comprehension(free, i))]
                )
                for i, e in enumerate(targets.elements)
            ]
            last = lines[1].with_changes(trailing_whitespace=updated.trailing_whitespace)
            return cst.FlattenSentinel([hold, lines[0], last])

        return {line: split}, None
    if not is_name_chain(argument):
        return None, (
            "not rewritten: its argument would be evaluated twice; bind it to a name first, "
            "or unpack the result (`values, updates = ...`)"
        )
    mapping = ctx.text(argument)
    pair = cst.Tuple([cst.Element(_comprehension(mapping, i)) for i in (0, 1)])
    return {node: pair}, None


def metric_spec(call: Call) -> Finding:
    metric_fn = call.value("metric_fn")
    key = call.value("prediction_key")
    what = call.ctx.text(metric_fn) if metric_fn is not None else "its metric_fn"
    if call.call is None:  # class X(MetricSpec): the subclass itself.
        call.metric = f"tf.contrib.learn.MetricSpec subclass `{call.use.name}`"
    return call.finding(
        Status.NO_TF2,
        "none; move the metric into the model_fn's eval_metric_ops (or "
        "tf.estimator.add_metrics) and migrate it there",
        "no",
        [
            f"tf.contrib.learn (MetricSpec, Experiment) is gone in TF 2: compute {what} on "
            + (f"predictions[{call.ctx.text(key)}]" if key is not None else "the predictions")
            + " in a tf.estimator.add_metrics metric_fn, then run migrate on it",
            "Experiment's train-and-evaluate loop is tf.estimator.train_and_evaluate",
        ],
    )


def add_metrics(call: Call) -> Finding:
    ctx = call.ctx
    notes = [
        "the same function in tensorflow_estimator (extenders.add_metrics); tf.contrib "
        "is gone in TF 2, and tf_upgrade_v2 does not convert this call"
    ]
    root = call.call.func
    while isinstance(root, cst.Attribute):
        root = root.value
    via_tf = isinstance(root, cst.Name) and ctx.tf_imports.get(root.value) in (
        "tensorflow",
        "tensorflow.compat.v1",
        "tensorflow.compat.v2",
    )
    if ctx.estimator is None or not via_tf or call.suggest_only:
        why = (
            "imported from tf.contrib: replace the import too (tf.estimator.add_metrics)"
            if not via_tf
            else call.suggest_only or "no tf alias in this module"
        )
        return call.finding(
            Status.MIGRATABLE,
            "tf.estimator.add_metrics",
            "exact",
            notes + [f"not rewritten: {why}"],
        )
    new = call.call.with_changes(func=cst.parse_expression(f"{ctx.estimator}.add_metrics"))
    return call.finding(
        Status.MIGRATABLE,
        ctx.rewritten(new),
        "exact",
        notes,
        fix=Fix.EXACT,
        edits={call.call: new},
        imports=ctx.needs("tf"),
    )


CONTRIB = {
    **{f"{_CONTRIB}streaming_{name}": _twin(name, f"{_GONE}; {_ORDER}") for name in _TWINS},
    _CONTRIB + "f1_score": Rule(
        status=Status.NO_TF2,
        replacement="none; builders.fbeta(labels, predictions, threshold=t) at a threshold you "
        "choose",
        same_number="no",
        notes=(
            "contrib f1_score is the best F1 over num_thresholds=200 thresholds, chosen on the "
            "evaluation data itself; Keras F1Score and builders.fbeta use one fixed threshold: a "
            "different number",
        ),
        docs="migrate.md#no-tf2-equivalent",
    ),
    _CONTRIB + "aggregate_metric_map": Rule(
        ("names_to_tuples",), aggregate_metric_map, docs="migrate.md#aggregate-metric-map"
    ),
    _CONTRIB + "aggregate_metrics": Rule(
        status=Status.MIGRATABLE,
        replacement="one list comprehension per half: [pair[0] for pair in pairs], "
        "[pair[1] for pair in pairs]",
        same_number="exact",
        notes=(
            "aggregate_metrics only splits (value, update_op) pairs into a list of values "
            "and a list of update ops: two list comprehensions do exactly that",
            "not rewritten: written by hand where the pairs are made",
        ),
        docs="migrate.md#aggregate-metric-map",
    ),
    _CONTRIB + "*": Rule(
        None,
        status=Status.NO_TF2,
        replacement="none in tf.keras.metrics or builders",
        same_number="no",
        notes=(
            "no Keras metric or builder computes it: keep the computation as a custom "
            "Keras metric and wrap it with adapter.from_keras",
        ),
        docs="migrate.md#no-tf2-equivalent",
    ),
}
#: slim's metrics are contrib's; `slim.metrics.mean` reads as tf.compat.v1.metrics.mean.
_SLIM = {
    name[len(_CONTRIB) :]: dataclasses.replace(
        rule, suggest_only=f"tf_slim re-exports tf.contrib.metrics; {_ORDER}"
    )
    if rule.twin
    else rule
    for name, rule in CONTRIB.items()
}
_SLIM["mean"] = Rule(
    v1.TABLE[v1.V1 + "mean"].params,
    twin=v1.V1 + "mean",
    suggest_only="slim.metrics.mean is read as tf.compat.v1.metrics.mean",
    depends_on=v1.TABLE[v1.V1 + "mean"].depends_on,
)
TABLE = {
    **CONTRIB,
    **{prefix + name: rule for prefix in _SLIMS for name, rule in _SLIM.items()},
    "tf.contrib.learn.MetricSpec": Rule(
        ("metric_fn", "prediction_key", "label_key", "weight_key"),
        metric_spec,
        docs="migrate.md#metricspec",
    ),
    "tf.contrib.estimator.add_metrics": Rule(None, add_metrics, docs="migrate.md#add-metrics"),
}
