"""migrate: what each `tf.compat.v1.metrics` / `tf.contrib.metrics` call becomes.

Every replacement and tolerance comes from docs/migration.md (test names in
brackets are in tests/test_migration_guide.py unless a file is named). A
call is rewritten (`fix=EXACT`) only when the code itself proves the guide's
"exact" condition:

* `accuracy(labels, ids)` -> `Accuracy()`: predictions are class ids or 0/1
  values (`tf.argmax(...)`, a comparison, a cast of one, or a variable
  assigned one of those once).
* `precision`/`recall(labels, b)` -> `Precision()`/`Recall()`: `b` is boolean
  (or 0/1) and there are no weights (with weights, labels [B] beside [B, 1]
  predictions make Keras raise, and shapes are not in the code).
* `mean(values, weights)` -> `Mean()` with labels None, always.
* `root_mean_squared_error` -> `RootMeanSquaredError()`, always.
* `mean_iou(labels, tf.argmax(scores, -1), C)` -> `MeanIoU(C, sparse_y_pred=False)` on scores.

v1 accuracy/precision/recall given probabilities (a `tf.sigmoid` or
`tf.nn.softmax` output) are `wrong under stock Estimator`; `--fix-wrong`
rewrites them (`fix=CORRECTION`) to the Keras metric that thresholds them.
"""

from __future__ import annotations

import ast
from typing import Optional

from estimator_metrics import _migrate_edit as edit
from estimator_metrics._migrate_finding import (
    CORRECTION, EXACT, FLOAT32, MIGRATABLE, NO_TF2, WRONG, Context, Finding, bind, is_none)
from estimator_metrics._migrate_find import Use

_C = ("metrics_collections", "updates_collections")
_LPW = ("labels", "predictions", "weights", *_C, "name")
SIGNATURES = {
    **{name: _LPW for name in (
        "accuracy", "precision", "recall", "mean_absolute_error", "mean_squared_error",
        "root_mean_squared_error", "true_positives", "false_positives", "true_negatives",
        "false_negatives")},
    "mean": ("values", "weights", *_C, "name"),
    "mean_tensor": ("values", "weights", *_C, "name"),
    "auc": ("labels", "predictions", "weights", "num_thresholds", *_C, "curve", "name",
            "summation_method", "thresholds"),
    "mean_iou": ("labels", "predictions", "num_classes", "weights", *_C, "name"),
    "mean_per_class_accuracy": ("labels", "predictions", "num_classes", "weights", *_C, "name"),
    **{name: ("labels", "predictions", "k", "class_id", "weights", *_C, "name")
       for name in ("precision_at_k", "recall_at_k", "sparse_precision_at_k")},
    "mean_relative_error": ("labels", "predictions", "normalizer", "weights", *_C, "name"),
    **{f"{kind}_at_thresholds": ("labels", "predictions", "thresholds", "weights", *_C, "name")
       for kind in ("true_positives", "false_positives", "true_negatives", "false_negatives",
                    "precision", "recall")},
    "sensitivity_at_specificity": ("labels", "predictions", "specificity", "weights",
                                   "num_thresholds", *_C, "name"),
    "specificity_at_sensitivity": ("labels", "predictions", "sensitivity", "weights",
                                   "num_thresholds", *_C, "name"),
}
#: v1 metrics with a Keras class that is not in the migration guide.
_UNVERIFIED = {
    "true_positives": "TruePositives()", "false_positives": "FalsePositives()",
    "true_negatives": "TrueNegatives()", "false_negatives": "FalseNegatives()",
    "true_positives_at_thresholds": "TruePositives(thresholds=...)",
    "false_positives_at_thresholds": "FalsePositives(thresholds=...)",
    "true_negatives_at_thresholds": "TrueNegatives(thresholds=...)",
    "false_negatives_at_thresholds": "FalseNegatives(thresholds=...)",
    "precision_at_thresholds": "Precision(thresholds=...)",
    "recall_at_thresholds": "Recall(thresholds=...)",
    "sensitivity_at_specificity": "SensitivityAtSpecificity(specificity)",
    "specificity_at_sensitivity": "SpecificityAtSensitivity(sensitivity)",
    "mean_tensor": "MeanTensor()",
}
#: contrib streaming metrics that wrap a v1 metric, with their (predictions first) order.
_CONTRIB = {f"streaming_{name}": name for name in (
    "accuracy", "precision", "recall", "auc", "mean", "mean_absolute_error",
    "mean_squared_error", "root_mean_squared_error", "mean_iou", "true_positives",
    "false_positives", "true_negatives", "false_negatives", "mean_tensor",
    "precision_at_thresholds", "recall_at_thresholds", "mean_relative_error",
    "sensitivity_at_specificity", "specificity_at_sensitivity", "mean_cosine_distance",
    "percentage_below")}
_FLOAT32_NOTE = ("tf.compat.v1.metrics count in float32: once a total reaches 2**24, +1 is "
                 "lost [test_float32_state_on_both_sides]; our builders count in float64")
_CHECK = "not in the migration guide: compare both with parity.compare before switching"


def classify_v1(use: Use, ctx: Context, contrib: bool = False) -> Finding:
    name = use.name
    params = SIGNATURES.get(name, ("labels", "predictions"))
    if contrib:  # streaming_x(predictions, labels, ...) / streaming_mean(values, ...)
        params = params if params[0] == "values" else ("predictions", "labels", *params[2:])
    bound = bind(use.node, params)
    metric = (f"tf.contrib.metrics.streaming_{name}" if contrib
              else f"tf.compat.v1.metrics.{name}")
    if bound is None:
        return ctx.finding(use.node, use.scope, metric, MIGRATABLE, _guide(name), "unknown",
                           ["arguments passed as *args/**kwargs: not analysed"])
    rule = globals().get(f"_rule_{name}", _rule_other)
    finding = rule(use, ctx, bound, metric)
    if contrib:
        finding.fix, finding.edits = None, []
        finding.notes.append("tf.contrib is gone in TF 2; streaming_* take predictions "
                             "first, from_keras takes labels first")
    return finding


def classify_contrib(use: Use, ctx: Context) -> Finding:
    if use.name in _CONTRIB:
        use.name = _CONTRIB[use.name]
        return classify_v1(use, ctx, contrib=True)
    metric = f"tf.contrib.metrics.{use.name}"
    if use.name == "f1_score":
        return ctx.finding(
            use.node, use.scope, metric, NO_TF2,
            "none; builders.fbeta(labels, predictions, threshold=t) at a threshold you choose",
            "no", ["contrib f1_score is the best F1 over num_thresholds=200 thresholds, chosen "
                   "on the evaluation data itself; Keras F1Score and builders.fbeta use one "
                   "fixed threshold: a different number", "tf.contrib is gone in TF 2"])
    return ctx.finding(use.node, use.scope, metric, NO_TF2,
                       "none in tf.keras.metrics or builders", "no",
                       ["tf.contrib is gone in TF 2: keep the computation as a custom Keras "
                        "metric and wrap it with adapter.from_keras"])


# -- helpers --------------------------------------------------------------------


def _guide(name: str) -> str:
    return f"see docs/migration.md ({name})"


def _text(ctx: Context, bound: dict, key: str) -> Optional[str]:
    return ctx.text(bound[key].value) if key in bound and not is_none(bound[key].value) else None


def _from_keras(ctx: Context, ctor: str, *args: Optional[str]) -> str:
    """The suggested call, as text (trailing missing arguments dropped)."""
    values = list(args)
    while values and values[-1] is None:
        values.pop()
    rendered = ", ".join("None" if v is None else v for v in values)
    return f"{ctx.adapter or 'adapter'}.from_keras({ctx.keras}.{ctor}, {rendered})"


def _suggest(ctx: Context, bound: dict, ctor: str, labels: Optional[str] = None,
             predictions: Optional[str] = None) -> str:
    return _from_keras(ctx, ctor, labels or _text(ctx, bound, "labels"),
                       predictions or _text(ctx, bound, "predictions"),
                       _text(ctx, bound, "weights"))


def _rewrite(use: Use, ctx: Context, bound: dict, cls: str, ctor_args: tuple = (),
             single_input: bool = False, drop: tuple = (), unwrap=None):
    """Edits turning the call into `adapter.from_keras(<Keras cls>(...), ...)`, or a reason."""
    call, source = use.node, ctx.source
    if ctx.adapter is None:
        return None, "no free name for `adapter` or tf in this module: not rewritten"
    if use.scope.node is None:
        return None, "outside a function: not rewritten"
    removed = [bound[p].node for p in drop if p in bound]
    for key in _C:
        if key in bound:
            if not is_none(bound[key].value):
                return None, f"{key} has no from_keras counterpart: not rewritten"
            removed.append(bound[key].node)
    parts = list(ctor_args)
    if "name" in bound:
        parts.append(f"name={source.segment(bound['name'].value)}")
        removed.append(bound["name"].node)
    arguments = edit.argument_nodes(call)
    if not arguments or arguments[0] in removed:
        return None, "unusual argument order: not rewritten"
    prefix = f"{ctx.keras}.{cls}({', '.join(parts)}), " + ("None, " if single_input else "")
    insertion = edit.insert_before(source, arguments[0], prefix)
    edits = [edit.replace(source, call.func, f"{ctx.adapter}.from_keras"), insertion]
    for old, new in (("weights", "sample_weight"), ("values", "predictions")):
        if old in bound and isinstance(bound[old].node, ast.keyword):
            edits.append(edit.keyword_name(source, bound[old].node, new))
    for node in removed:
        edits.append(edit.remove_argument(source, call, node))
    if unwrap is not None:
        edits.append(edit.replace(source, unwrap[0], source.segment(unwrap[1])))
    return edit.relayout(source, call, edits, insertion), None


def _finish(use: Use, ctx: Context, metric: str, status: str, same: str, notes: list,
            rewrite, fix: str, fallback: str) -> Finding:
    """A finding whose replacement is the rewritten call when `rewrite` gave edits."""
    edits, reason = rewrite
    if use.kind == "contrib":  # Arguments in another order: suggest, never rewrite.
        edits, reason = None, None
    if edits is None:
        return ctx.finding(use.node, use.scope, metric, status, fallback, same,
                           notes + ([reason] if reason else []))
    return ctx.finding(use.node, use.scope, metric, status, ctx.rewritten(use.node, edits),
                       same, notes, fix=fix, edits=edits,
                       imports=ctx.needs("adapter") + ctx.keras_needs)


def _kind(use: Use, ctx: Context, bound: dict) -> Optional[str]:
    if "predictions" not in bound:
        return None
    return ctx.patterns.kind(bound["predictions"].value, use.scope)


# -- rules --------------------------------------------------------------------


def _rule_accuracy(use: Use, ctx: Context, bound: dict, metric: str) -> Finding:
    kind = _kind(use, ctx, bound)
    if kind in ("ids", "bool"):
        return _finish(use, ctx, metric, MIGRATABLE, "exact",
                       ["Accuracy compares ids as v1 does (float32 on both sides) "
                        "[accuracy_class_ids; tests/test_migrate.py]"],
                       _rewrite(use, ctx, bound, "Accuracy"), EXACT,
                       _suggest(ctx, bound, "Accuracy()"))
    if kind in ("probabilities", "scores"):
        cls = "BinaryAccuracy" if kind == "probabilities" else "SparseCategoricalAccuracy"
        return _finish(use, ctx, metric, WRONG, "corrected",
                       ["v1 accuracy casts the predictions to the labels' integer dtype: "
                        "every probability < 1 becomes class 0, so today's number is the "
                        "share of label 0 [test_accuracy_on_raw_probabilities]",
                        f"{cls} " + ("thresholds them at 0.5" if kind == "probabilities"
                                     else "compares their argmax")],
                       _rewrite(use, ctx, bound, cls), CORRECTION,
                       _suggest(ctx, bound, f"{cls}()"))
    return ctx.finding(use.node, use.scope, metric, MIGRATABLE,
                       _suggest(ctx, bound, "Accuracy()"), "exact if predictions are ids",
                       ["exact on class ids [accuracy_class_ids]; on probabilities v1 casts "
                        "them to the labels' integer dtype (0 for p < 1): use "
                        "BinaryAccuracy() on p or SparseCategoricalAccuracy() on scores "
                        "[test_accuracy_on_raw_probabilities]",
                        "not rewritten: the predictions' kind is not known from the code"])


def _precision_recall(use: Use, ctx: Context, bound: dict, metric: str, cls: str) -> Finding:
    kind, weighted = _kind(use, ctx, bound), _text(ctx, bound, "weights") is not None
    shapes = ("with weights, Keras raises `weights can not be broadcast` for labels [B] beside "
              "[B, 1] predictions and [B] weights: pass tf.reshape(labels, [-1, 1]) "
              "[test_keras_rejects_b_labels_with_b1_predictions_and_weights]")
    if kind == "bool":
        notes = [f"{cls}() thresholds the 0/1 predictions at 0.5: the same counts "
                 f"[{use.name}; tests/test_migrate.py]"]
        if weighted:
            return ctx.finding(use.node, use.scope, metric, MIGRATABLE,
                               _suggest(ctx, bound, f"{cls}()"), "exact",
                               notes + [shapes, "not rewritten: the shapes are not in the code"])
        return _finish(use, ctx, metric, MIGRATABLE, "exact", notes,
                       _rewrite(use, ctx, bound, cls), EXACT, _suggest(ctx, bound, f"{cls}()"))
    if kind in ("probabilities", "scores"):
        consequence = ("precision is the share of positive labels" if cls == "Precision"
                       else "recall is 1.0")
        notes = [f"v1 casts predictions to bool: every probability > 0 counts as positive "
                 f"({consequence}) "
                 "[test_precision_recall_on_probabilities]; Keras thresholds at 0.5, and "
                 f"{cls}(thresholds=0.0) reproduces today's number [{use.name}_legacy_nonzero]"]
        if weighted:
            return ctx.finding(use.node, use.scope, metric, WRONG,
                               _suggest(ctx, bound, f"{cls}()"), "corrected",
                               notes + [shapes, "not rewritten: the shapes are not in the code"])
        return _finish(use, ctx, metric, WRONG, "corrected", notes,
                       _rewrite(use, ctx, bound, cls), CORRECTION,
                       _suggest(ctx, bound, f"{cls}()"))
    return ctx.finding(use.node, use.scope, metric, MIGRATABLE, _suggest(ctx, bound, f"{cls}()"),
                       "exact if predictions are p > 0.5",
                       [f"exact for boolean predictions `p > 0.5`, with {cls}() on p [{use.name}]; "
                        "v1 counts any nonzero prediction as positive, Keras thresholds at 0.5: "
                        f"{cls}(thresholds=0.0) reproduces v1 on raw probabilities "
                        f"[{use.name}_legacy_nonzero]", *([shapes] if weighted else []),
                        "not rewritten: the predictions' kind is not known from the code"])


def _rule_precision(use, ctx, bound, metric):
    return _precision_recall(use, ctx, bound, metric, "Precision")


def _rule_recall(use, ctx, bound, metric):
    return _precision_recall(use, ctx, bound, metric, "Recall")


def _rule_auc(use: Use, ctx: Context, bound: dict, metric: str) -> Finding:
    curve = _literal(bound, "curve", "ROC")
    method = _literal(bound, "summation_method", "trapezoidal")
    extra = [f"num_thresholds={_text(ctx, bound, 'num_thresholds')}"] if _text(
        ctx, bound, "num_thresholds") else []
    extra += [f"thresholds={_text(ctx, bound, 'thresholds')}"] if _text(
        ctx, bound, "thresholds") else []
    unpinned = ["num_thresholds/thresholds other than the default 200 are not pinned by the "
                "guide"] if extra else []
    logits = ("v1 raises on predictions outside [0, 1], Keras clips them silently: pass "
              "AUC(from_logits=True) for logits [test_auc_out_of_range_predictions]")
    if curve is None or method is None:
        return ctx.finding(use.node, use.scope, metric, MIGRATABLE,
                           _suggest(ctx, bound, "AUC(...)"), "unknown",
                           ["curve/summation_method are not literals: see the AUC rows of "
                            "docs/migration.md"])
    if curve == "PR" and method == "trapezoidal":
        return ctx.finding(use.node, use.scope, metric, NO_TF2,
                           "none; first switch to summation_method='careful_interpolation', "
                           "check the new number, then AUC(curve='PR')", "no",
                           ["Keras AUC has no 'trapezoidal' for PR; its 'interpolation' is "
                            "v1's careful_interpolation, 1.7e-3 away on the guide's data "
                            "[test_auc_pr_default_summation_differs]"])
    keras_method = {"minoring": "minoring", "majoring": "majoring"}.get(method)
    args = ([f'curve="{curve}"'] if curve == "PR" else []) + (
        [f'summation_method="{keras_method}"'] if keras_method else []) + extra
    ctor = f"AUC({', '.join(args)})"
    if curve == "PR":
        same = "exact" if not keras_method else "1e-6"
        notes = [f"{same} [auc_pr], except for scores on the k/199 threshold grid "
                 "[test_auc_predictions_exactly_on_a_threshold]", logits]
    else:
        same = "1e-6"
        notes = ["v1 adds 1e-6 to its counts, so tiny weights move it (4.9e-5 at weights x 1e-4) "
                 "[auc_roc; test_auc_epsilon_grows_as_weights_shrink]", logits]
    return ctx.finding(use.node, use.scope, metric, MIGRATABLE, _suggest(ctx, bound, ctor),
                       same, notes + unpinned + ["not rewritten: not exact on every input"])


def _rule_mean(use: Use, ctx: Context, bound: dict, metric: str) -> Finding:
    values = bound.get("values")
    weights = _text(ctx, bound, "weights")
    mape = ctx.patterns.mape(values.value, use.scope) if values else None
    if mape:
        labels, predictions = ctx.text(mape["labels"]), ctx.text(mape["predictions"])
        scale = ("drop the `100 *`: builders.mape is in percent" if mape["percent"]
                 else "builders.mape is in percent: 100 x this value")
        return ctx.finding(
            use.node, use.scope, "hand-built MAPE: mean of |(labels - predictions) / labels|",
            FLOAT32, f"builders.mape({labels}, {predictions}"
            + (f", weights={weights})" if weights else ")"), "1e-6 (float64) where labels != 0",
            [_FLOAT32_NOTE, "builders.mape divides by max(|labels|, 1e-7) (this form is inf/NaN "
             "at labels 0) and lines [B] labels up with a [B, 1] head: `labels - predictions` "
             "broadcasts [B] against [B, 1] to [B, B] without an error", scale,
             "Keras twin: MeanAbsolutePercentageError() on [B, 1] labels [mape]"])
    confidence = ctx.patterns.confidence(values.value, use.scope) if values else None
    if confidence is not None:
        probabilities = ctx.text(confidence)
        return ctx.finding(
            use.node, use.scope, "hand-built average confidence: mean of max probability",
            FLOAT32, f"builders.average_confidence({probabilities}"
            + (f", weights={weights})" if weights else ")"), "1e-6 (float64)",
            [_FLOAT32_NOTE, "builders.average_confidence checks the probabilities are in "
             "[0, 1] (logits raise InvalidArgumentError)", "Keras twin: "
             "keras_metrics.AverageConfidence() with labels None [test_average_confidence]"])
    return _finish(use, ctx, metric, MIGRATABLE, "exact",
                   ["Mean.update_state takes the values alone: labels None; float32 state on "
                    "both sides, Mean(dtype='float64') for exact counts [mean]"],
                   _rewrite(use, ctx, bound, "Mean", single_input=True), EXACT,
                   _from_keras(ctx, "Mean()", None, _text(ctx, bound, "values"), weights))


def _regression(use: Use, ctx: Context, bound: dict, metric: str, cls: str) -> Finding:
    labels = _text(ctx, bound, "labels")
    return ctx.finding(
        use.node, use.scope, metric, MIGRATABLE,
        _suggest(ctx, bound, f"{cls}()", labels=f"tf.reshape({labels}, [-1, 1])"),
        "exact with [B] labels and [B, 1] predictions",
        [f"{cls} averages over the last axis: with [B] labels that is the batch (wrong, or "
         "NaN after an empty batch; weights fail) [test_keras_regression_metrics_need_b1_labels]",
         "not rewritten: the shapes are not in the code"])


def _rule_mean_absolute_error(use, ctx, bound, metric):
    return _regression(use, ctx, bound, metric, "MeanAbsoluteError")


def _rule_mean_squared_error(use, ctx, bound, metric):
    return _regression(use, ctx, bound, metric, "MeanSquaredError")


def _rule_root_mean_squared_error(use: Use, ctx: Context, bound: dict, metric: str) -> Finding:
    return _finish(use, ctx, metric, MIGRATABLE, "exact",
                   ["no reshape needed: it squares elementwise [root_mean_squared_error; "
                    "test_root_mean_squared_error_needs_no_reshape]"],
                   _rewrite(use, ctx, bound, "RootMeanSquaredError"), EXACT,
                   _suggest(ctx, bound, "RootMeanSquaredError()"))


def _rule_mean_iou(use: Use, ctx: Context, bound: dict, metric: str) -> Finding:
    classes = _text(ctx, bound, "num_classes") or "C"
    scores = None
    if "predictions" in bound:
        scores = ctx.patterns.is_literal_argmax_last_axis(bound["predictions"].value, use.scope)
    ctor = f"MeanIoU({classes}, sparse_y_pred=False)"
    notes = ["MeanIoU(C, sparse_y_pred=False) takes the scores and argmaxes them [mean_iou]"]
    if scores is not None and "num_classes" in bound:
        return _finish(use, ctx, metric, MIGRATABLE, "exact", notes,
                       _rewrite(use, ctx, bound, "MeanIoU", (classes, "sparse_y_pred=False"),
                                drop=("num_classes",),
                                unwrap=(bound["predictions"].value, scores)),
                       EXACT, _suggest(ctx, bound, ctor, predictions=ctx.text(scores)))
    return ctx.finding(use.node, use.scope, metric, MIGRATABLE,
                       _suggest(ctx, bound, ctor, predictions="scores"),
                       "exact on the scores", notes + [
                           "not rewritten: the predictions are not a literal "
                           "tf.argmax(scores, -1)"])


def _at_k(use: Use, ctx: Context, bound: dict, metric: str, cls: str) -> Finding:
    k, class_id = _text(ctx, bound, "k") or "k", _text(ctx, bound, "class_id")
    ctor = f"{cls}(top_k={k}" + (f", class_id={class_id})" if class_id else ")")
    return ctx.finding(
        use.node, use.scope, metric, MIGRATABLE,
        _suggest(ctx, bound, ctor, labels=f"tf.one_hot({_text(ctx, bound, 'labels')}, C)"),
        "1e-6 (v1 state is float64)",
        ["labels one-hot over the C classes [precision_at_k, recall_at_k]",
         "with no data v1 gives NaN and Keras 0.0 [test_at_k_no_data_is_nan_in_v1]",
         "not rewritten: not exact"])


def _rule_precision_at_k(use, ctx, bound, metric):
    return _at_k(use, ctx, bound, metric, "Precision")


def _rule_sparse_precision_at_k(use, ctx, bound, metric):
    return _at_k(use, ctx, bound, metric, "Precision")


def _rule_recall_at_k(use, ctx, bound, metric):
    return _at_k(use, ctx, bound, metric, "Recall")


def _rule_mean_relative_error(use: Use, ctx: Context, bound: dict, metric: str) -> Finding:
    labels, normalizer = bound.get("labels"), bound.get("normalizer")
    if labels and normalizer and ctx.text(labels.value) == ctx.text(normalizer.value):
        weights = _text(ctx, bound, "weights")
        return ctx.finding(
            use.node, use.scope, metric, FLOAT32,
            f"builders.mape({ctx.text(labels.value)}, {_text(ctx, bound, 'predictions')}"
            + (f", weights={weights})" if weights else ")"), "1e-6 (float64) where labels != 0",
            [_FLOAT32_NOTE, "normalized by the labels it is MAPE / 100: builders.mape is in "
             "percent, and takes max(|labels|, 1e-7)"])
    return _rule_other(use, ctx, bound, metric)


def _rule_other(use: Use, ctx: Context, bound: dict, metric: str) -> Finding:
    if use.name in _UNVERIFIED:
        return ctx.finding(use.node, use.scope, metric, MIGRATABLE,
                           _suggest(ctx, bound, _UNVERIFIED[use.name]), "unknown",
                           [f"candidate {_UNVERIFIED[use.name]}: {_CHECK}"]
                           + (["v1 casts predictions to bool, Keras thresholds at 0.5"]
                              if use.name.endswith(("_positives", "_negatives")) else []))
    return ctx.finding(use.node, use.scope, metric, NO_TF2,
                       "none in tf.keras.metrics or builders", "no",
                       ["keep it, or write it as a custom Keras metric wrapped with "
                        "adapter.from_keras"])


def _literal(bound: dict, key: str, default: str) -> Optional[str]:
    """The string literal passed as `key`, `default` if absent, None if not a literal."""
    if key not in bound or is_none(bound[key].value):
        return default
    value = bound[key].value
    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
