"""migrate: tf.contrib metrics, third-party tf_metrics, tf.contrib.learn, hand-built metrics.

* `tf.contrib.metrics.streaming_*` wrap a v1 metric (predictions first): the
  v1 rule's finding, never rewritten. `f1_score` and the rest: no TF2 equivalent.
* `tf_metrics.precision/recall/f1/fbeta(labels, predictions, num_classes,
  pos_indices, weights, average)` (guillaumegenthial/tf_metrics, common in
  NER Estimators): a float64 confusion matrix over the flattened ids, its
  result cast to float32. F-beta over `pos_indices` is scikit-learn's
  `fbeta_score(labels=pos_indices, average=...)`, which is
  `builders.fbeta(..., classes=pos_indices, average=...)`.
* `tf.contrib.learn.MetricSpec`: no TF2 equivalent.
* Hand-built F-beta, and other arithmetic over float32 v1 counters.
"""

from __future__ import annotations

import libcst as cst

from estimator_metrics.migrate._handbuilt import Counters, FBeta
from estimator_metrics.migrate._model import Finding, Kind, Status
from estimator_metrics.migrate._rule import Call, float64_notes, from_keras_text
from estimator_metrics.migrate._values import string

#: contrib streaming metrics that wrap a v1 metric, with their (predictions first) order.
STREAMING = {
    f"streaming_{name}": name
    for name in (
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
}
TF_METRICS_PARAMS = (
    "labels",
    "predictions",
    "num_classes",
    "pos_indices",
    "weights",
    "average",
    "beta",
)


def contrib_f1(call: Call) -> Finding:
    return call.finding(
        Status.NO_TF2,
        "none; builders.fbeta(labels, predictions, threshold=t) at a threshold you choose",
        "no",
        [
            "contrib f1_score is the best F1 over num_thresholds=200 thresholds, chosen on the "
            "evaluation data itself; Keras F1Score and builders.fbeta use one fixed threshold: a "
            "different number",
            "tf.contrib is gone in TF 2",
        ],
    )


def contrib_other(call: Call) -> Finding:
    return call.finding(
        Status.NO_TF2,
        "none in tf.keras.metrics or builders",
        "no",
        [
            "tf.contrib is gone in TF 2: keep the computation as a custom Keras "
            "metric and wrap it with adapter.from_keras"
        ],
    )


def _flat(text: str | None) -> str | None:
    return f"tf.reshape({text}, [-1])" if text else None


def tf_metrics(call: Call) -> Finding:
    """tf_metrics.* -> builders.fbeta (F-beta) or Keras Precision/Recall (micro)."""
    ctx, name = call.ctx, call.use.name
    average = call.literal("average", "micro")
    classes = call.text("pos_indices")
    labels, predictions = _flat(call.text("labels")), _flat(call.text("predictions"))
    weights = call.text("weights")
    num_classes = call.text("num_classes") or "C"
    notes = [
        "tf_metrics counts a float64 confusion matrix of the flattened ids and returns "
        "float32; pos_indices restrict the averaging to those classes, as scikit-learn's "
        "labels= does",
        "tf_metrics is third-party and not installed here: compare both "
        "on your data before switching",
    ]
    if average is None:
        return call.finding(
            Status.MIGRATABLE,
            "see docs/migration.md (tf_metrics)",
            "unknown",
            notes + ["average is not a literal"],
        )
    if name in ("f1", "fbeta"):
        beta = call.text("beta") if name == "fbeta" else None
        options = [f"num_classes={num_classes}", f'average="{average}"']
        options += [f"classes={classes}"] if classes else []
        options += [f"beta={beta}"] if beta and beta != "1" else []
        weight = f"weights=tf.reshape(tf.cast({weights}, tf.float64), [-1]), " if weights else ""
        replacement = f"builders.fbeta({labels}, {predictions}, {weight}{', '.join(options)})"
        return call.finding(
            Status.MIGRATABLE,
            replacement,
            "1e-6 (tf_metrics rounds to float32)",
            notes
            + [
                "builders.fbeta takes [B] ids: both sides flattened, as tf_metrics does; "
                "needs weights of the labels' shape (a [B, T] mask for [B, T] tags) "
                "[tests/migrate/test_migrate_run.py]",
                *float64_notes(call, "builders.fbeta"),
                "not rewritten: third-party metric",
            ],
        )
    cls = "Precision" if name == "precision" else "Recall"
    if average != "micro":
        return call.finding(
            Status.NO_TF2,
            "none in tf.keras.metrics or builders",
            "no",
            notes
            + [
                f"no Keras metric or builder averages {name} per class ({average}); "
                f"keep it, or average one adapter.from_keras({ctx.keras}.{cls}"
                "(class_id=k), ...) per class in pos_indices on one-hot inputs"
            ],
        )
    depth = f"{num_classes}"
    keep = (
        (lambda ids: f"tf.gather(tf.one_hot({ids}, {depth}), {classes}, axis=1)")
        if classes
        else (lambda ids: f"tf.one_hot({ids}, {depth})")
    )
    replacement = from_keras_text(
        ctx, f"{cls}()", keep(labels), keep(predictions), weights=_flat(weights)
    )
    return call.finding(
        Status.MIGRATABLE,
        replacement,
        "1e-6 (tf_metrics rounds to float32)",
        notes
        + [
            f"micro {name} over pos_indices is {cls}() on the one-hot columns of those "
            "classes [tests/migrate/test_migrate_run.py]",
            "not rewritten: third-party metric",
        ],
    )


def metric_spec(call: Call) -> Finding:
    metric_fn = call.value("metric_fn")
    key = call.value("prediction_key")
    what = call.ctx.text(metric_fn) if metric_fn is not None else "its metric_fn"
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


# -- hand-built metrics ------------------------------------------------------------------


def _beta(ctx, factors: list) -> str:
    texts = [ctx.text(f) for f in factors]
    if len(texts) == 1 and texts[0].endswith(" ** 2"):
        return texts[0][: -len(" ** 2")]
    if len(texts) == 2 and texts[0] == texts[1]:
        return texts[0]
    if len(texts) == 1 and string(factors[0]) is None:
        return f"sqrt({texts[0]})"
    return f"sqrt({' * '.join(texts)})"


def _fbeta_call(ctx, precision, recall, beta: str) -> str:
    """builders.fbeta with the labels, predictions and weights precision and recall share."""

    def arguments(call):
        return [(a.keyword.value if a.keyword else None, ctx.text(a.value)) for a in call.args]

    beta_text = f", beta={beta}" if beta != "1.0" else ""
    if arguments(precision) != arguments(recall):
        return (
            "see builders.fbeta: precision and recall here take different arguments; pass "
            f"the labels, predictions and weights= they should share{beta_text}"
        )
    values = {}
    for position, (keyword, text) in enumerate(arguments(precision)):
        key = keyword or ("labels", "predictions", "weights", "", "", "")[min(position, 5)]
        values[key] = text
    weights = f", weights={values['weights']}" if values.get("weights") else ""
    return (
        f"builders.fbeta({values.get('labels', 'labels')}, "
        f"{values.get('predictions', 'predictions')}{weights}{beta_text})"
    )


def hand_built_fbeta(ctx, match: FBeta) -> Finding:
    beta = "1.0" if not match.beta_squared else _beta(ctx, match.beta_squared)
    name = "F1" if beta == "1.0" else f"F-beta (beta={beta})"
    via = " through a helper" if _is_helper_call(ctx, match) else ""
    metric = (
        f"hand-built {name}{via} from v1 precision (line {ctx.module.line(match.precision)})"
        f" and recall (line {ctx.module.line(match.recall)})"
    )
    zero = (
        "divide_no_nan gives 0.0 when precision + recall = 0, as builders.fbeta does"
        if match.no_nan
        else "this expression is NaN (0/0) when precision + recall = 0; builders.fbeta gives 0.0"
    )
    return ctx.finding(
        match.node,
        match.function,
        metric,
        Status.FLOAT32,
        _fbeta_call(ctx, match.precision, match.recall, beta),
        "1e-6 (float64 counts)" + ("" if match.no_nan else "; 0.0 where this is NaN"),
        [
            "v1 precision and recall count in float32; builders.fbeta counts TP/FP/FN in float64 "
            "[test_float32_state_on_both_sides]",
            zero,
            "builders.fbeta thresholds float predictions at 0.5 (threshold=...); v1 counts every "
            "nonzero prediction as positive: pass the same bool or 0/1 predictions to keep "
            "today's reading",
            "builders.fbeta returns float64 (value and update op): cast where float32 is needed",
            "not rewritten: "
            + (
                "float32 vs float64 counts"
                if match.no_nan
                else "a different number where this one is NaN"
            ),
        ],
    )


def _is_helper_call(ctx, match: FBeta) -> bool:
    return hasattr(match.node, "func") and bool(ctx.module.functions_named(match.node.func))


def _counted(ctx, match: Counters) -> tuple:
    """(labels, predictions, num_classes) texts the counters were computed on, where visible."""
    call = match.halves[0].call
    first = call.args[0].value if call.args else None
    matrix = first if match.halves[0].metric == "mean_tensor" else None
    if (
        matrix is not None
        and isinstance(matrix, cst.Call)
        and ctx.values.op(matrix) in ("confusion_matrix", "math.confusion_matrix")
    ):
        texts = [ctx.text(a.value) for a in matrix.args[:3]]
        return (*texts, *["C"] * (3 - len(texts)))
    texts = [ctx.text(a.value) for a in call.args[:2]]
    return (*texts, *["predictions"] * (2 - len(texts)), "C")


def hand_built_counters(ctx, match: Counters) -> Finding:
    metrics = {h.metric for h in match.halves}
    basic = {"true_positives", "false_positives", "true_negatives", "false_negatives"}
    lines = ", ".join(sorted({str(ctx.module.line(h.call)) for h in match.halves}))
    labels, predictions, classes = _counted(ctx, match)
    adapter = ctx.adapter or "adapter"
    if basic <= metrics:
        name = "MCC"
        replacement = (
            f'one {adapter}.from_keras({ctx.keras}.TruePositives(dtype="float64"), '
            f"{labels}, {predictions}) per counter (FalsePositives, TrueNegatives, "
            "FalseNegatives likewise), and the same formula over their pairs"
        )
        advice = (
            "Keras TruePositives... with dtype='float64' count exactly; they threshold "
            "predictions at 0.5 where v1 counts every nonzero one: pass bool or 0/1 "
            "predictions"
        )
    elif match.diagonal and "mean_tensor" in metrics:
        name = "per-class IoU from a confusion matrix"
        replacement = (
            f"one {adapter}.from_keras({ctx.keras}.IoU({classes}, "
            f'target_class_ids=[k], dtype="float64"), {labels}, {predictions}) per '
            "class k, on class ids"
        )
        advice = (
            "tf.keras.metrics.IoU(num_classes, target_class_ids=[k]) is the IoU of "
            "class k, TP / (TP + FP + FN), on the class ids the matrix counts; "
            "dtype='float64' counts exactly (its default is float32)"
        )
    elif metrics == basic - {"true_negatives"}:
        name = "IoU-style ratio of TP, FP and FN"
        replacement = from_keras_text(
            ctx, 'IoU(2, target_class_ids=[1], dtype="float64")', labels, predictions
        )
        advice = (
            "IoU(2, target_class_ids=[1]) is TP / (TP + FP + FN) of the positive class on "
            "0/1 labels and predictions (Keras casts predictions to integers, v1 counts "
            "every nonzero one: pass 0/1 predictions); dtype='float64' counts exactly"
        )
    else:
        name = "ratio of v1 counters"
        replacement = (
            "none ready-made; count with Keras metrics of dtype='float64' through "
            "adapter.from_keras and keep the formula"
        )
        advice = "Keras confusion-count metrics take dtype='float64'"
    return ctx.finding(
        match.node,
        match.function,
        f"hand-built {name} from float32 v1 counters ({', '.join(sorted(metrics))}, "
        f"line{'s' if ',' in lines else ''} {lines})",
        Status.FLOAT32,
        replacement,
        "1e-6 (float64 counts)",
        [
            "v1 counters are float32: once a count reaches 2**24, +1 is lost "
            "[test_float32_state_on_both_sides]",
            advice,
            "not rewritten: hand-built",
        ],
    )


#: Registry rows of this module: (kind, name or None for the kind's default, label, params, rule).
MORE_TABLE = (
    (Kind.CONTRIB, "f1_score", "tf.contrib.metrics.{name}", None, contrib_f1),
    (Kind.CONTRIB, None, "tf.contrib.metrics.{name}", None, contrib_other),
    (Kind.TF_METRICS, None, "tf_metrics.{name}", TF_METRICS_PARAMS, tf_metrics),
    (
        Kind.CONTRIB_LEARN,
        None,
        "tf.contrib.learn.{name}",
        ("metric_fn", "prediction_key", "label_key", "weight_key"),
        metric_spec,
    ),
)
