"""migrate: the third-party `tf_metrics` family (guillaumegenthial/tf_metrics).

`tf_metrics.precision/recall/f1/fbeta(labels, predictions, num_classes,
pos_indices, weights, average)`, common in NER Estimators, count a float64
confusion matrix over the flattened ids and cast the result to float32.
F-beta over `pos_indices` is scikit-learn's `fbeta_score(labels=pos_indices,
average=...)`, which is `builders.fbeta(..., classes=pos_indices, average=...)`.
"""

from __future__ import annotations

from estimator_metrics.migrate._model import Finding, Status
from estimator_metrics.migrate._rule import Call, Rule, float64_notes, from_keras_text

TF_METRICS_PARAMS = (
    "labels",
    "predictions",
    "num_classes",
    "pos_indices",
    "weights",
    "average",
    "beta",
)


def _flat(text: str | None) -> str | None:
    return f"tf.reshape({text}, [-1])" if text else None


def tf_metrics(call: Call) -> Finding:
    """tf_metrics.* -> builders.fbeta (F-beta) or Keras Precision/Recall (micro)."""
    ctx, name = call.ctx, call.name
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
            "see the docs (tf_metrics)",
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
                "needs weights of the labels' shape (a [B, T] mask for [B, T] tags)",
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
            f"micro {name} over pos_indices is {cls}() on the one-hot columns of those classes",
            "not rewritten: third-party metric",
        ],
    )


TABLE = {
    f"tf_metrics.{name}": Rule(
        TF_METRICS_PARAMS,
        tf_metrics,
        suggest_only="third-party metric",
        depends_on=TF_METRICS_PARAMS[2:],
        docs="migrate.md#third-party-tf-metrics",
    )
    for name in ("precision", "recall", "f1", "fbeta")
}
