"""migrate: the third-party `tf_metrics` family (guillaumegenthial/tf_metrics).

`tf_metrics.precision/recall/f1/fbeta(labels, predictions, num_classes,
pos_indices, weights, average)`, common in NER Estimators, count a float64
confusion matrix over the flattened ids and cast the result to float32.
Each over `pos_indices` is scikit-learn's `precision_score`/`recall_score`/
`fbeta_score(labels=pos_indices, average=...)`, which is `builders.precision`/`recall`/
`fbeta(..., classes=pos_indices, average=...)`, for every average.
"""

from __future__ import annotations

from estimator_metrics.migrate._model import Finding, Status
from estimator_metrics.migrate._rule import Call, Rule, float64_notes

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


#: The builder of each tf_metrics function: the same options (average, pos_indices as
#: `classes`, num_classes, beta) and the same zero for an empty denominator.
_BUILDERS = {"precision": "precision", "recall": "recall", "f1": "fbeta", "fbeta": "fbeta"}


def tf_metrics(call: Call) -> Finding:
    """tf_metrics.* -> builders.precision / recall / fbeta on the flattened ids."""
    name, builder = call.name, _BUILDERS[call.name]
    average = call.text("average") or '"micro"'  # tf_metrics' default.
    classes = call.text("pos_indices")
    labels, predictions = _flat(call.text("labels")), _flat(call.text("predictions"))
    weights = call.text("weights")
    beta = call.text("beta") if name == "fbeta" else None
    options = [f"num_classes={call.text('num_classes') or 'C'}", f"average={average}"]
    options += [f"classes={classes}"] if classes else []
    options += [f"beta={beta}"] if beta and beta not in ("1", "1.0") else []
    weight = f"weights=tf.reshape(tf.cast({weights}, tf.float64), [-1]), " if weights else ""
    return call.finding(
        Status.MIGRATABLE,
        f"builders.{builder}({labels}, {predictions}, {weight}{', '.join(options)})",
        "1e-6 (tf_metrics rounds to float32)",
        [
            "tf_metrics counts a float64 confusion matrix of the flattened ids and returns "
            "float32; pos_indices restrict the averaging to those classes, as scikit-learn's "
            f"labels= does, and builders.{builder}'s classes= does: every average "
            "(micro, macro, weighted), and 0.0 where a denominator is 0, as zero_division=0",
            f"builders.{builder} takes [B] ids: both sides flattened, as tf_metrics does; needs "
            "weights of the labels' shape (a [B, T] mask for [B, T] tags)",
            "tf_metrics is third-party and not installed here: compare both on your data "
            "before switching",
            *float64_notes(call, f"builders.{builder}"),
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
