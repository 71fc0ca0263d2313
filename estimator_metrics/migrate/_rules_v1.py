"""migrate: what each `tf.compat.v1.metrics` call becomes (rules and their table).

Every replacement and tolerance comes from docs/migration.md (test names in
brackets are in tests/parity/test_migration_guide.py unless a file is named). A
call is rewritten (`Fix.EXACT`) only when the code itself proves the guide's
"exact" condition and every use of its pair accepts the new one (`_pairs`):

* `accuracy(labels, ids)` -> `Accuracy()`: predictions are class ids or 0/1
  values (`tf.argmax(...)`, a comparison, a cast of one, or a variable or dict
  entry holding one of those).
* `precision`/`recall(labels, b)` -> `Precision()`/`Recall()`: `b` is boolean
  (or 0/1) and there are no weights (with weights, labels [B] beside [B, 1]
  predictions make Keras raise, and shapes are not in the code).
* `mean(values, weights)` -> `Mean()` with labels None, always.
* `root_mean_squared_error` -> `RootMeanSquaredError()`, always.
* `mean_iou(labels, predictions, C)` -> `MeanIoU(C)` on the same class ids, always.

v1 accuracy/precision/recall given probabilities (a `tf.sigmoid` or
`tf.nn.softmax` output) are `wrong under stock Estimator`; `--fix-wrong`
rewrites them (`Fix.CORRECTION`) to the Keras metric that thresholds them.
Every printed replacement is code that runs for the shapes it names.
"""

from __future__ import annotations

import functools

from estimator_metrics.migrate._model import Finding, Fix, Status
from estimator_metrics.migrate._rule import (
    COLLECTIONS,
    Call,
    Rule,
    finish,
    float64_notes,
    from_keras_text,
    no_tf2,
    rewrite_to_keras,
    suggest,
)

_LPW = ("labels", "predictions", "weights", *COLLECTIONS, "name")
_FLOAT32_NOTE = (
    "tf.compat.v1.metrics count in float32: once a total reaches 2**24, +1 is "
    "lost; our builders count in float64"
)
_SHAPES = (
    "valid when labels, predictions and weights have the same shape; for [B] labels "
    "beside [B, 1] predictions pass tf.reshape(labels, [-1, 1]) (with weights Keras "
    "raises `weights can not be broadcast` otherwise)"
)
_PREDICTION_KINDS = ("ids", "bool", "probabilities", "scores")


def _swapped(call: Call) -> list:
    """A note when the labels argument is computed from the model and the predictions
    argument reads like labels (`accuracy(tf.argmax(logits, 1), labels)`)."""
    labels, predictions = call.value("labels"), call.value("predictions")
    if labels is None or predictions is None:
        return []
    if (
        call.ctx.values.kind(labels) in _PREDICTION_KINDS
        and "label" in call.ctx.text(predictions).lower()
        and call.ctx.values.kind(predictions) is None
    ):
        return [
            f"labels and predictions look swapped (labels={call.ctx.text(labels)}, "
            f"predictions={call.ctx.text(predictions)}): from_keras takes y_true first"
        ]
    return []


def accuracy(call: Call) -> Finding:
    kind = call.kind()
    notes = _swapped(call)
    if kind in ("ids", "bool"):
        return finish(
            call,
            Status.MIGRATABLE,
            "exact",
            [
                "Accuracy compares ids as v1 does (float32 on both sides)",
                *notes,
            ],
            rewrite_to_keras(call, "Accuracy"),
            Fix.EXACT,
            suggest(call, "Accuracy()"),
        )
    if kind in ("probabilities", "scores"):
        cls = "BinaryAccuracy" if kind == "probabilities" else "SparseCategoricalAccuracy"
        return finish(
            call,
            Status.WRONG,
            "corrected",
            [
                "v1 accuracy casts the predictions to the labels' integer dtype: every "
                "probability < 1 becomes class 0, so today's number is the share of "
                "label 0",
                f"{cls} "
                + (
                    "thresholds them at 0.5" if kind == "probabilities" else "compares their argmax"
                ),
                *notes,
            ],
            rewrite_to_keras(call, cls),
            Fix.CORRECTION,
            suggest(call, f"{cls}()"),
        )
    return call.finding(
        Status.MIGRATABLE,
        suggest(call, "Accuracy()"),
        "exact if predictions are ids",
        [
            "exact on class ids; on probabilities v1 casts "
            "them to the labels' integer dtype (0 for p < 1): use "
            "BinaryAccuracy() on p or SparseCategoricalAccuracy() on scores",
            *notes,
            "not rewritten: the predictions' kind is not known from the code",
        ],
    )


def _to_keras_class(
    call: Call, cls: str, status: Status, same: str, notes: list, fix: Fix
) -> Finding:
    """`cls()` through the adapter, rewritten unless weights are passed: then whether Keras
    takes them depends on shapes the code does not show (`_SHAPES`)."""
    suggestion = suggest(call, f"{cls}()")
    if call.value("weights") is not None:
        notes = notes + [_SHAPES, "not rewritten: the shapes are not in the code"]
        return call.finding(status, suggestion, same, notes)
    return finish(call, status, same, notes, rewrite_to_keras(call, cls), fix, suggestion)


def _in_a_triple(call: Call) -> list:
    """A note when a hand-built F-beta reads this pair: one builder gives all three."""
    match = call.ctx.handbuilt.fbeta_reading(call.call) if call.call is not None else None
    if match is None:
        return []
    return [
        f"with the hand-built F-beta of line {call.ctx.module.line(match.node)}: one "
        "builders.precision_recall_fbeta call gives precision, recall and F-beta from one state "
        "(see that finding)"
    ]


def _precision_recall(call: Call, cls: str) -> Finding:
    kind = call.kind()
    swapped = _swapped(call) + _in_a_triple(call)
    if kind == "bool":
        notes = [
            f"{cls}() thresholds the 0/1 predictions at 0.5: the same counts",
            *swapped,
        ]
        return _to_keras_class(call, cls, Status.MIGRATABLE, "exact", notes, Fix.EXACT)
    if kind in ("probabilities", "scores"):
        consequence = (
            "precision is the share of positive labels" if cls == "Precision" else "recall is 1.0"
        )
        notes = [
            f"v1 casts predictions to bool: every probability > 0 counts as positive "
            f"({consequence}); Keras thresholds "
            f"at 0.5, and {cls}(thresholds=0.0) reproduces today's number",
            *swapped,
        ]
        return _to_keras_class(call, cls, Status.WRONG, "corrected", notes, Fix.CORRECTION)
    return call.finding(
        Status.MIGRATABLE,
        suggest(call, f"{cls}()"),
        "exact if predictions are p > 0.5",
        [
            f"exact for boolean predictions `p > 0.5`, with {cls}() on p; v1 "
            "counts any nonzero prediction as positive, Keras thresholds at 0.5: "
            f"{cls}(thresholds=0.0) reproduces v1 on raw probabilities",
            *swapped,
            *([_SHAPES] if call.value("weights") is not None else []),
            "not rewritten: the predictions' kind is not known from the code",
        ],
    )


def auc(call: Call) -> Finding:
    curve = call.literal("curve", "ROC")
    method = call.literal("summation_method", "trapezoidal")
    extra = [
        f"{key}={call.text(key)}" for key in ("num_thresholds", "thresholds") if call.text(key)
    ]
    unpinned = (
        ["num_thresholds/thresholds other than the default 200 are not pinned by the guide"]
        if extra
        else []
    )
    logits = (
        "v1 raises on predictions outside [0, 1], Keras clips them silently: pass "
        "AUC(from_logits=True) for logits"
    )
    if curve is None or method is None:
        return call.finding(
            Status.MIGRATABLE,
            "see the docs (auc)",
            "unknown",
            ["curve/summation_method are not literals: the Keras arguments depend on their values"],
        )
    if curve == "PR" and method == "trapezoidal":
        return call.finding(
            Status.NO_TF2,
            "none; first switch to summation_method='careful_interpolation', "
            "check the new number, then AUC(curve='PR')",
            "no",
            [
                "Keras AUC has no 'trapezoidal' for PR; its 'interpolation' is "
                "v1's careful_interpolation, 1.7e-3 away on the guide's data"
            ],
        )
    keras_method = {"minoring": "minoring", "majoring": "majoring"}.get(method)
    args = (
        ([f'curve="{curve}"'] if curve == "PR" else [])
        + ([f'summation_method="{keras_method}"'] if keras_method else [])
        + extra
    )
    ctor = f"AUC({', '.join(args)})"
    if curve == "PR":
        same = "exact" if not keras_method else "1e-6"
        notes = [
            f"{same}, except for scores on the k/199 threshold grid",
            logits,
        ]
    else:
        same = "1e-6"
        notes = [
            "v1 adds 1e-6 to its counts, so tiny weights move it (4.9e-5 at weights x 1e-4)",
            logits,
        ]
    return call.finding(
        Status.MIGRATABLE,
        suggest(call, ctor),
        same,
        notes + unpinned + ["not rewritten: not exact on every input"],
    )


def mean(call: Call) -> Finding:
    values, weights = call.value("values"), call.text("weights")
    weight_text = f", weights={weights})" if weights else ")"
    handbuilt = call.ctx.handbuilt
    mape = handbuilt.mape(values) if values is not None else None
    if mape:
        labels, predictions = call.ctx.text(mape["labels"]), call.ctx.text(mape["predictions"])
        scale = (
            "drop the `100 *`: builders.mape is in percent"
            if mape["percent"]
            else "builders.mape is in percent: 100 x this value"
        )
        call.metric = "hand-built MAPE: mean of |(labels - predictions) / labels|"
        return call.finding(
            Status.FLOAT32,
            f"builders.mape({labels}, {predictions}{weight_text}",
            "1e-6 (float64) where labels != 0",
            [
                _FLOAT32_NOTE,
                "builders.mape divides by max(|labels|, 1e-7) (this form is inf/NaN "
                "at labels 0) and lines [B] labels up with a [B, 1] head: `labels - predictions` "
                "broadcasts [B] against [B, 1] to [B, B] without an error",
                scale,
                "Keras twin: MeanAbsolutePercentageError() on [B, 1] labels",
                *float64_notes(call, "builders.mape"),
            ],
        )
    confidence = handbuilt.confidence(values) if values is not None else None
    if confidence is not None:
        call.metric = "hand-built average confidence: mean of max probability"
        return call.finding(
            Status.FLOAT32,
            f"builders.average_confidence({call.ctx.text(confidence)}{weight_text}",
            "1e-6 (float64)",
            [
                _FLOAT32_NOTE,
                "builders.average_confidence checks the probabilities are in "
                "[0, 1] (logits raise InvalidArgumentError)",
                "Keras twin: keras_metrics.AverageConfidence() with labels None",
                *float64_notes(call, "builders.average_confidence"),
            ],
        )
    return finish(
        call,
        Status.MIGRATABLE,
        "exact",
        [
            "Mean.update_state takes the values alone: labels None; float32 state on "
            "both sides, Mean(dtype='float64') for exact counts"
        ],
        rewrite_to_keras(call, "Mean", single_input=True),
        Fix.EXACT,
        from_keras_text(call.ctx, "Mean()", None, call.text("values"), weights=weights),
    )


def _regression(call: Call, cls: str) -> Finding:
    """MAE/MSE: Keras averages over the last axis, so both sides go to [N, 1] elements."""
    labels, predictions = call.text("labels"), call.text("predictions")
    weights = call.text("weights")
    replacement = from_keras_text(
        call.ctx,
        f"{cls}()",
        f"tf.reshape({labels}, [-1, 1])",
        f"tf.reshape({predictions}, [-1, 1])",
        weights=f"tf.reshape({weights}, [-1])" if weights else None,
    )
    return call.finding(
        Status.MIGRATABLE,
        replacement,
        "exact when labels, predictions (and weights) have one value per element",
        [
            f"{cls} averages over the last axis: flattening both sides to [N, 1] makes that axis "
            "one element, the mean v1 takes, for [B] labels beside a [B, 1] head as for "
            "[B, T] tags",
            "needs labels, predictions"
            + (" and weights" if weights else "")
            + " with the same number of elements "
            "(broadcast [B] weights to the predictions' shape first)",
            "not rewritten: the shapes are not in the code",
        ],
    )


def root_mean_squared_error(call: Call) -> Finding:
    return finish(
        call,
        Status.MIGRATABLE,
        "exact",
        ["no reshape needed: it squares elementwise"],
        rewrite_to_keras(call, "RootMeanSquaredError"),
        Fix.EXACT,
        suggest(call, "RootMeanSquaredError()"),
    )


def mean_iou(call: Call) -> Finding:
    classes = call.text("num_classes")
    notes = [
        "MeanIoU(C) takes the same class ids and flattens them as v1 does",
        *_swapped(call),
    ]
    if classes is None:
        return call.finding(
            Status.MIGRATABLE,
            "see the docs (mean_iou)",
            "exact",
            notes + ["not rewritten: num_classes is not given"],
        )
    ctor = f"MeanIoU({classes})"
    return finish(
        call,
        Status.MIGRATABLE,
        "exact",
        notes,
        rewrite_to_keras(call, "MeanIoU", (classes,), drop=("num_classes",)),
        Fix.EXACT,
        suggest(call, ctor),
    )


def _at_k(call: Call, cls: str) -> Finding:
    k, class_id = call.text("k") or "1", call.text("class_id")
    ctor = f"{cls}(top_k={k}" + (f", class_id={class_id})" if class_id else ")")
    scores = call.text("predictions")
    return call.finding(
        Status.MIGRATABLE,
        suggest(call, ctor, labels=f"tf.one_hot({call.text('labels')}, tf.shape({scores})[-1])"),
        "1e-6 (v1 state is float64)",
        [
            "labels one-hot over the classes of the [B, C] scores",
            "needs [B] class-id labels (squeeze [B, 1] labels first)",
            "with no data v1 gives NaN and Keras 0.0",
            "not rewritten: not exact",
        ],
    )


def mean_relative_error(call: Call) -> Finding:
    labels, normalizer = call.value("labels"), call.value("normalizer")
    if labels is not None and normalizer is not None and labels.deep_equals(normalizer):
        weights = call.text("weights")
        return call.finding(
            Status.FLOAT32,
            f"builders.mape({call.text('labels')}, {call.text('predictions')}"
            + (f", weights={weights})" if weights else ")"),
            "1e-6 (float64) where labels != 0",
            [
                _FLOAT32_NOTE,
                "normalized by the labels it is MAPE / 100: builders.mape is in "
                "percent, and takes max(|labels|, 1e-7)",
                *float64_notes(call, "builders.mape"),
            ],
        )
    return no_tf2(call)


_C = COLLECTIONS
_THRESHOLDS = ("labels", "predictions", "thresholds", "weights", *_C, "name")
_AT_K = ("labels", "predictions", "k", "class_id", "weights", *_C, "name")
_AUC = (
    "labels",
    "predictions",
    "weights",
    "num_thresholds",
    *_C,
    "curve",
    "name",
    "summation_method",
    "thresholds",
)
_VALUES = ("values", "weights", *_C, "name")
V1 = "tf.compat.v1.metrics."
#: Options that change what a metric computes: a `**kwargs` that may hold one makes it unsure.
_OPTIONS = ("weights",)


def _rule(params: tuple, transform, docs: str, *options: str) -> Rule:
    return Rule(params, transform, depends_on=(*options, *_OPTIONS), docs=docs)


def _candidate(params: tuple, cls: str, *keys: str) -> Rule:
    """A Keras class that is not in the migration guide: suggested, with a check to run."""
    return Rule(params, keras=cls, keras_args=keys, depends_on=(*keys, *_OPTIONS), docs=_CANDIDATES)


_CANDIDATES = "migrate.md#keras-classes-the-guide-does-not-pin"
#: The tf.compat.v1.metrics family (tf.metrics in TF 1.x), keyed by qualified name.
TABLE = {
    V1 + "accuracy": _rule(_LPW, accuracy, "migrate.md#accuracy"),
    V1 + "precision": _rule(
        _LPW, functools.partial(_precision_recall, cls="Precision"), "migrate.md#precision-recall"
    ),
    V1 + "recall": _rule(
        _LPW, functools.partial(_precision_recall, cls="Recall"), "migrate.md#precision-recall"
    ),
    V1 + "auc": _rule(
        _AUC, auc, "migrate.md#auc", "curve", "summation_method", "num_thresholds", "thresholds"
    ),
    V1 + "mean": _rule(_VALUES, mean, "migrate.md#mean"),
    V1 + "mean_absolute_error": _rule(
        _LPW, functools.partial(_regression, cls="MeanAbsoluteError"), "migrate.md#mae-mse"
    ),
    V1 + "mean_squared_error": _rule(
        _LPW, functools.partial(_regression, cls="MeanSquaredError"), "migrate.md#mae-mse"
    ),
    V1 + "root_mean_squared_error": _rule(_LPW, root_mean_squared_error, "migrate.md#rmse"),
    V1 + "mean_iou": _rule(
        ("labels", "predictions", "num_classes", "weights", *_C, "name"),
        mean_iou,
        "migrate.md#mean-iou",
        "num_classes",
    ),
    **{
        V1 + name: _rule(_AT_K, functools.partial(_at_k, cls=cls), "migrate.md#top-k", "k")
        for name, cls in (
            ("precision_at_k", "Precision"),
            ("sparse_precision_at_k", "Precision"),
            ("recall_at_k", "Recall"),
        )
    },
    V1 + "mean_relative_error": _rule(
        ("labels", "predictions", "normalizer", "weights", *_C, "name"),
        mean_relative_error,
        "migrate.md#mape-and-average-confidence",
        "normalizer",
    ),
    V1 + "mean_tensor": _candidate(_VALUES, "MeanTensor"),
    **{
        V1 + name: _candidate(_LPW, cls)
        for name, cls in (
            ("true_positives", "TruePositives"),
            ("false_positives", "FalsePositives"),
            ("true_negatives", "TrueNegatives"),
            ("false_negatives", "FalseNegatives"),
        )
    },
    **{
        f"{V1}{name}_at_thresholds": _candidate(_THRESHOLDS, cls, "thresholds")
        for name, cls in (
            ("true_positives", "TruePositives"),
            ("false_positives", "FalsePositives"),
            ("true_negatives", "TrueNegatives"),
            ("false_negatives", "FalseNegatives"),
            ("precision", "Precision"),
            ("recall", "Recall"),
        )
    },
    V1 + "sensitivity_at_specificity": _candidate(
        ("labels", "predictions", "specificity", "weights", "num_thresholds", *_C, "name"),
        "SensitivityAtSpecificity",
        "specificity",
    ),
    V1 + "specificity_at_sensitivity": _candidate(
        ("labels", "predictions", "sensitivity", "weights", "num_thresholds", *_C, "name"),
        "SpecificityAtSensitivity",
        "sensitivity",
    ),
    # Every other v1 metric: neither Keras nor our builders give its number.
    V1 + "*": Rule(None, no_tf2, docs="migrate.md#no-tf2-equivalent"),
}
