"""The migration guide (docs/migration.md), one test per row and per difference.

Every test runs the legacy `(value, update_op)` pair and its Keras replacement
over the same seeded, weighted multi-batch streams (conftest: batch sizes
5, 1, 17, 0, 32, 9 with integer and fractional weights, some zero) through
`parity.compare`. `test_same_number` also runs the exact `adapter.from_keras`
call the guide prints, in a graph fed through placeholders with a free batch
axis (as in a `model_fn`), and checks it against the eager Keras metric.

Tolerances (relative, on the final value):

* `SAME_OPS = 1e-7`: both sides keep float32 state (Keras metric variables
  are float32 by default, like `tf.compat.v1.metrics`) and add the same
  float32 increments; 1e-7 is about one float32 ulp (2**-23 = 1.2e-7) and
  allows a different reduction order, nothing more. Measured: 0 for every
  such row.
* `F32_VS_F64 = 1e-6`: one side keeps float64 state (our builders, v1
  `precision_at_k`/`recall_at_k`), the Keras side float32; its sums of < 100
  weighted terms each carry a relative rounding error of a few float32 ulps.
  Measured: at most 1.5e-7 (fbeta_binary).
* `AUC_EPSILON = 1e-6`: v1 `auc` adds 1e-6 to its counts where Keras uses
  `divide_no_nan` (see `test_auc_epsilon_grows_as_weights_shrink`); with
  ~50 units of positive weight the effect is < 1e-7. Measured: 9.3e-8.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import fbeta_score

from estimator_metrics import adapter, builders, parity
from support.data import NUM_CLASSES, SIZES, concat
from support.keras import needs_keras

v1 = tf.compat.v1.metrics
K = tf.keras.metrics

SAME_OPS = 1e-7
F32_VS_F64 = 1e-6
AUC_EPSILON = 1e-6

#: F1Score and FBetaScore (Keras >= 2.13): where this line lacks them, the
#: tests and the guide rows ("fbeta_*") that use them skip.
NEEDS_F_SCORES = needs_keras("F1Score", "FBetaScore")


def _row_params(names):
    return [pytest.param(n, marks=NEEDS_F_SCORES) if n.startswith("fbeta_") else n for n in names]


def _one_hot(labels):
    return np.eye(NUM_CLASSES, dtype=np.float32)[labels]


def _col(array):
    """[B] -> [B, 1]."""
    return array[:, None]


@dataclasses.dataclass(frozen=True)
class Row:
    """One guide row: the legacy call, the migrated call, the Keras metric.

    `legacy` and `migrated` build `(value, update_op)` from the placeholders
    of one batch (labels, predictions, weights), exactly as a model_fn
    would; `keras` makes the Keras metric that `migrated` wraps, run eagerly
    by parity.compare on `keras_inputs(batch)`.
    """

    data: str  # conftest fixture of the stream
    legacy: Callable
    migrated: Callable
    keras: Callable[[], tf.keras.metrics.Metric]
    rtol: float
    keras_inputs: Callable | None = None
    batches: Callable | None = None  # Transforms the fixture's batches.


def mean_values(y_true, y_pred):  # Mean of the values passed as y_pred.
    del y_true
    return y_pred


ROWS = {
    # accuracy --------------------------------------------------------------
    "accuracy_binary": Row(
        "binary_batches",
        lambda y, p, w: v1.accuracy(y, tf.cast(p > 0.5, tf.int64), weights=w),
        lambda y, p, w: adapter.from_keras(K.BinaryAccuracy(), y, p, w),
        K.BinaryAccuracy,
        SAME_OPS,
    ),
    "accuracy_class_ids": Row(
        "multiclass_batches",
        lambda y, ids, w: v1.accuracy(y, ids, weights=w),
        lambda y, ids, w: adapter.from_keras(K.Accuracy(), y, ids, w),
        K.Accuracy,
        SAME_OPS,
        batches=lambda bs: [(y, p.argmax(1).astype(np.int32), w) for y, p, w in bs],
    ),
    "accuracy_argmax_sparse": Row(
        "multiclass_batches",
        lambda y, p, w: v1.accuracy(y, tf.argmax(p, -1, output_type=tf.int32), weights=w),
        lambda y, p, w: adapter.from_keras(K.SparseCategoricalAccuracy(), y, p, w),
        K.SparseCategoricalAccuracy,
        SAME_OPS,
    ),
    "accuracy_argmax_one_hot": Row(
        "multiclass_batches",
        lambda y, p, w: v1.accuracy(y, tf.argmax(p, -1, output_type=tf.int32), weights=w),
        lambda y, p, w: adapter.from_keras(
            K.CategoricalAccuracy(), tf.one_hot(y, NUM_CLASSES), p, w
        ),
        K.CategoricalAccuracy,
        SAME_OPS,
        keras_inputs=lambda y, p, w: (_one_hot(y), p, w),
    ),
    # precision / recall ----------------------------------------------------
    "precision": Row(
        "binary_batches",
        lambda y, p, w: v1.precision(y, p > 0.5, weights=w),
        lambda y, p, w: adapter.from_keras(K.Precision(), y, p, w),
        K.Precision,
        SAME_OPS,
    ),
    "precision_legacy_nonzero": Row(
        "binary_batches",
        lambda y, p, w: v1.precision(y, p, weights=w),
        lambda y, p, w: adapter.from_keras(K.Precision(thresholds=0.0), y, p, w),
        lambda: K.Precision(thresholds=0.0),
        SAME_OPS,
    ),
    "recall": Row(
        "binary_batches",
        lambda y, p, w: v1.recall(y, p > 0.5, weights=w),
        lambda y, p, w: adapter.from_keras(K.Recall(), y, p, w),
        K.Recall,
        SAME_OPS,
    ),
    "recall_legacy_nonzero": Row(
        "binary_batches",
        lambda y, p, w: v1.recall(y, p, weights=w),
        lambda y, p, w: adapter.from_keras(K.Recall(thresholds=0.0), y, p, w),
        lambda: K.Recall(thresholds=0.0),
        SAME_OPS,
    ),
    "precision_multilabel": Row(
        "multilabel_batches",
        lambda y, p, w: v1.precision(y, p > 0.5, weights=w),
        lambda y, p, w: adapter.from_keras(K.Precision(), y, p, w),
        K.Precision,
        SAME_OPS,
    ),
    # auc -------------------------------------------------------------------
    "auc_roc": Row(
        "binary_batches",
        lambda y, p, w: v1.auc(y, p, weights=w),
        lambda y, p, w: adapter.from_keras(K.AUC(), y, p, w),
        K.AUC,
        AUC_EPSILON,
    ),
    "auc_pr": Row(
        "binary_batches",
        lambda y, p, w: v1.auc(
            y, p, weights=w, curve="PR", summation_method="careful_interpolation"
        ),
        lambda y, p, w: adapter.from_keras(K.AUC(curve="PR"), y, p, w),
        lambda: K.AUC(curve="PR"),
        SAME_OPS,
    ),
    # mean (one input: the values go in as predictions, labels None) ---------
    "mean": Row(
        "binary_batches",
        lambda y, p, w: v1.mean(p, weights=w),
        lambda y, p, w: adapter.from_keras(K.Mean(), None, p, w),
        K.Mean,
        SAME_OPS,
        keras_inputs=lambda y, p, w: (None, p, w),
    ),
    # regression (labels [B], predictions [B, 1]: the usual Estimator head) --
    "mean_absolute_error": Row(
        "regression_batches",
        lambda y, p, w: v1.mean_absolute_error(y, p, weights=w),
        lambda y, p, w: adapter.from_keras(K.MeanAbsoluteError(), tf.reshape(y, [-1, 1]), p, w),
        K.MeanAbsoluteError,
        SAME_OPS,
        keras_inputs=lambda y, p, w: (_col(y), p, w),
    ),
    "mean_squared_error": Row(
        "regression_batches",
        lambda y, p, w: v1.mean_squared_error(y, p, weights=w),
        lambda y, p, w: adapter.from_keras(K.MeanSquaredError(), tf.reshape(y, [-1, 1]), p, w),
        K.MeanSquaredError,
        SAME_OPS,
        keras_inputs=lambda y, p, w: (_col(y), p, w),
    ),
    "root_mean_squared_error": Row(
        "regression_batches",
        lambda y, p, w: v1.root_mean_squared_error(y, p, weights=w),
        lambda y, p, w: adapter.from_keras(K.RootMeanSquaredError(), y, p, w),
        K.RootMeanSquaredError,
        SAME_OPS,
    ),
    # mean_iou, precision_at_k, recall_at_k ---------------------------------
    "mean_iou": Row(
        "multiclass_batches",
        lambda y, p, w: v1.mean_iou(y, tf.argmax(p, -1), NUM_CLASSES, weights=w),
        lambda y, p, w: adapter.from_keras(K.MeanIoU(NUM_CLASSES, sparse_y_pred=False), y, p, w),
        lambda: K.MeanIoU(NUM_CLASSES, sparse_y_pred=False),
        SAME_OPS,
    ),
    # What `estimator-metrics migrate` writes for mean_iou: MeanIoU(C) on the same class ids.
    "mean_iou_ids": Row(
        "multiclass_batches",
        lambda y, p, w: v1.mean_iou(y, tf.argmax(p, -1), NUM_CLASSES, weights=w),
        lambda y, p, w: adapter.from_keras(K.MeanIoU(NUM_CLASSES), y, tf.argmax(p, -1), w),
        lambda: K.MeanIoU(NUM_CLASSES),
        SAME_OPS,
        keras_inputs=lambda y, p, w: (y, np.argmax(p, -1), w),
    ),
    "precision_at_k": Row(
        "multiclass_batches",
        lambda y, p, w: v1.precision_at_k(tf.cast(y, tf.int64), p, k=2, weights=w),
        lambda y, p, w: adapter.from_keras(K.Precision(top_k=2), tf.one_hot(y, NUM_CLASSES), p, w),
        lambda: K.Precision(top_k=2),
        F32_VS_F64,
        keras_inputs=lambda y, p, w: (_one_hot(y), p, w),
    ),
    "recall_at_k": Row(
        "multiclass_batches",
        lambda y, p, w: v1.recall_at_k(tf.cast(y, tf.int64), p, k=2, weights=w),
        lambda y, p, w: adapter.from_keras(K.Recall(top_k=2), tf.one_hot(y, NUM_CLASSES), p, w),
        lambda: K.Recall(top_k=2),
        F32_VS_F64,
        keras_inputs=lambda y, p, w: (_one_hot(y), p, w),
    ),
    "precision_at_k_class_id": Row(
        "multiclass_batches",
        lambda y, p, w: v1.precision_at_k(tf.cast(y, tf.int64), p, k=2, class_id=3, weights=w),
        lambda y, p, w: adapter.from_keras(
            K.Precision(top_k=2, class_id=3), tf.one_hot(y, NUM_CLASSES), p, w
        ),
        lambda: K.Precision(top_k=2, class_id=3),
        F32_VS_F64,
        keras_inputs=lambda y, p, w: (_one_hot(y), p, w),
    ),
    # our builders ----------------------------------------------------------
    "mape": Row(
        "regression_batches",
        lambda y, p, w: builders.mape(y, p, weights=w),
        lambda y, p, w: adapter.from_keras(
            K.MeanAbsolutePercentageError(), tf.reshape(y, [-1, 1]), p, w
        ),
        K.MeanAbsolutePercentageError,
        F32_VS_F64,
        keras_inputs=lambda y, p, w: (_col(y), p, w),
    ),
    "fbeta_binary": Row(
        "binary_batches",
        lambda y, p, w: builders.fbeta(y, p, beta=0.5, weights=w),
        lambda y, p, w: adapter.from_keras(
            K.FBetaScore(beta=0.5, average="micro", threshold=0.5),
            tf.cast(tf.reshape(y, [-1, 1]), tf.float32),
            tf.reshape(p, [-1, 1]),
            w,
        ),
        lambda: K.FBetaScore(beta=0.5, average="micro", threshold=0.5),
        F32_VS_F64,
        keras_inputs=lambda y, p, w: (_col(y).astype(np.float32), _col(p), w),
    ),
}

for _average in ("micro", "macro", "weighted", None):
    ROWS[f"fbeta_multiclass_{_average}"] = Row(
        "multiclass_batches",
        lambda y, p, w, a=_average: builders.fbeta(
            y, p, beta=0.5, num_classes=NUM_CLASSES, average=a, weights=w
        ),
        lambda y, p, w, a=_average: adapter.from_keras(
            K.FBetaScore(beta=0.5, average=a), tf.one_hot(y, NUM_CLASSES), p, w
        ),
        lambda a=_average: K.FBetaScore(beta=0.5, average=a),
        F32_VS_F64,
        keras_inputs=lambda y, p, w: (_one_hot(y), p, w),
    )
    ROWS[f"fbeta_multilabel_{_average}"] = Row(
        "multilabel_batches",
        lambda y, p, w, a=_average: builders.fbeta(
            y, p, multilabel=True, threshold=0.3, average=a, weights=w
        ),
        lambda y, p, w, a=_average: adapter.from_keras(
            K.F1Score(average=a, threshold=0.3), tf.cast(y, tf.float32), p, w
        ),
        lambda a=_average: K.F1Score(average=a, threshold=0.3),
        F32_VS_F64,
        keras_inputs=lambda y, p, w: (y.astype(np.float32), p, w),
    )


#: Rows whose `migrated` call is not run (test time: each from_keras trace
#: costs ~0.4 s): each repeats a checked row's metric class and input layout,
#: with other constructor arguments (threshold, average, top_k, class_id, curve).
FROM_KERAS_CHECKED_ELSEWHERE = {
    "precision_legacy_nonzero": "precision",
    "recall": "precision",
    "recall_legacy_nonzero": "precision",
    "precision_multilabel": "precision",
    "auc_pr": "auc_roc",
    "mean_squared_error": "mean_absolute_error",
    "recall_at_k": "precision_at_k",
    "precision_at_k_class_id": "precision_at_k",
    **{f"fbeta_multiclass_{a}": "fbeta_multiclass_macro" for a in ("micro", "weighted", None)},
    **{f"fbeta_multilabel_{a}": "fbeta_multilabel_macro" for a in ("micro", "weighted", None)},
}


def _stream(request, row: Row):
    batches = request.getfixturevalue(row.data)
    return row.batches(batches) if row.batches else batches


@pytest.mark.parametrize("name", _row_params(ROWS))
def test_same_number(request, name):
    """The guide's "same number?" column: legacy pair == Keras replacement."""
    row = ROWS[name]
    batches = _stream(request, row)
    assert any(len(b[0]) == 0 for b in batches)  # An empty batch mid-stream.
    legacy = parity.compare(row.legacy, row.keras, batches, keras_inputs=row.keras_inputs)
    assert legacy.agrees(rtol=row.rtol), f"{name}: legacy vs Keras: {legacy}"
    if name not in FROM_KERAS_CHECKED_ELSEWHERE:
        # The printed from_keras call, built on placeholders, equals eager Keras.
        migrated = parity.compare(row.migrated, row.keras, batches, keras_inputs=row.keras_inputs)
        assert migrated.agrees(rtol=SAME_OPS), f"{name}: from_keras vs eager: {migrated}"
    # Not a vacuous agreement: the values are not all zero.
    assert np.any(legacy.legacy != 0)


#: One row per metric family; v1 precision_at_k/recall_at_k give NaN instead.
NO_DATA_ROWS = [
    "accuracy_binary",
    "precision",
    "auc_roc",
    "auc_pr",
    "mean",
    "mean_absolute_error",
    "root_mean_squared_error",
    "mean_iou",
    "mape",
    "fbeta_multiclass_weighted",
    "fbeta_multilabel_macro",
]


@pytest.mark.parametrize("name", _row_params(NO_DATA_ROWS))
def test_no_data_is_zero_on_both_sides(request, name):
    """Only an empty batch and a zero-weight batch: 0.0 on both sides, no NaN."""
    row = ROWS[name]
    first = next(b for b in _stream(request, row) if len(b[0]) > 1)
    empty = tuple(a[:0] for a in first)
    zero_weight = (*first[:2], np.zeros_like(first[2]))
    report = parity.compare(
        row.legacy, row.keras, [empty, zero_weight], keras_inputs=row.keras_inputs
    )
    np.testing.assert_array_equal(report.legacy, np.zeros_like(report.legacy))
    np.testing.assert_array_equal(report.keras, np.zeros_like(report.keras))


def test_average_confidence(multiclass_batches):
    keras_metrics = pytest.importorskip("estimator_metrics.keras_metrics")
    average_confidence = keras_metrics.AverageConfidence
    legacy = parity.compare(
        lambda y, p, w: builders.average_confidence(p, weights=w),
        average_confidence,
        multiclass_batches,
    )
    assert legacy.agrees(rtol=1e-12), legacy  # float64 state on both sides.
    migrated = parity.compare(
        lambda y, p, w: adapter.from_keras(average_confidence(), None, p, w),
        average_confidence,
        multiclass_batches,
    )
    assert migrated.agrees(rtol=1e-12), migrated


# accuracy --------------------------------------------------------------------


def test_accuracy_on_raw_probabilities(binary_batches):
    """v1.accuracy(labels, probabilities) casts probabilities to the labels'
    integer dtype (0 for every p < 1): it is the weighted share of label 0.
    Keras Accuracy casts both to float32 and compares: 0.0. Threshold first."""
    y, p, w = (concat(binary_batches, i) for i in range(3))
    negatives = np.average(y == 0, weights=w)
    thresholded = np.average(y == (p > 0.5), weights=w)
    raw = parity.compare(lambda y, p, w: v1.accuracy(y, p, weights=w), K.Accuracy, binary_batches)
    np.testing.assert_allclose(raw.legacy, negatives, rtol=SAME_OPS)
    assert raw.keras == 0.0
    binary = parity.compare(
        lambda y, p, w: v1.accuracy(y, p, weights=w), K.BinaryAccuracy, binary_batches
    )
    np.testing.assert_allclose(binary.keras, thresholded, rtol=SAME_OPS)
    assert binary.max_abs_diff > 0.05  # 0.509 vs 0.610 on this stream.


# precision / recall ----------------------------------------------------------


@pytest.mark.parametrize(
    "legacy_fn, keras_cls", [(v1.precision, K.Precision), (v1.recall, K.Recall)]
)
def test_precision_recall_on_probabilities(binary_batches, legacy_fn, keras_cls):
    """v1 casts predictions to bool (every p != 0 is positive); Keras
    Precision/Recall threshold at 0.5 (thresholds=None)."""
    y, p, w = (concat(binary_batches, i) for i in range(3))

    def score(predicted):
        tp = np.sum(w * (y == 1) * predicted)
        denominator = np.sum(w * predicted) if legacy_fn is v1.precision else np.sum(w * (y == 1))
        return tp / denominator

    report = parity.compare(lambda y, p, w: legacy_fn(y, p, weights=w), keras_cls, binary_batches)
    np.testing.assert_allclose(report.legacy, score(p != 0), rtol=SAME_OPS)
    np.testing.assert_allclose(report.keras, score(p > 0.5), rtol=SAME_OPS)
    assert report.max_abs_diff > 0.1  # precision 0.491 vs 0.637, recall 1.0 vs 0.477.


@pytest.mark.parametrize("keras_metric", [K.Precision, K.AUC])  # Recall: as Precision.
def test_keras_rejects_b_labels_with_b1_predictions_and_weights(binary_batches, keras_metric):
    """labels [B], predictions [B, 1], weights [B]: v1 aligns them; Keras'
    confusion metrics squeeze the predictions but expand the weights, and
    fail at graph construction. Reshaping labels to [B, 1] fixes it."""
    batches = [(y, _col(p), w) for y, p, w in binary_batches]
    with tf.Graph().as_default():
        labels = tf.compat.v1.placeholder(tf.int64, [None])
        probabilities = tf.compat.v1.placeholder(tf.float32, [None, 1])
        weights = tf.compat.v1.placeholder(tf.float32, [None])
        v1.precision(labels, probabilities > 0.5, weights=weights)  # Fine.
        v1.auc(labels, probabilities, weights=weights)  # Fine.
        with pytest.raises(ValueError, match="weights can not be broadcast to values"):
            adapter.from_keras(keras_metric(), labels, probabilities, weights)
    legacy = {
        K.Precision: lambda y, p, w: v1.precision(y, p > 0.5, weights=w),
        K.Recall: lambda y, p, w: v1.recall(y, p > 0.5, weights=w),
        K.AUC: lambda y, p, w: v1.auc(y, p, weights=w),
    }[keras_metric]
    fixed = parity.compare(
        lambda y, p, w: adapter.from_keras(keras_metric(), tf.reshape(y, [-1, 1]), p, w),
        keras_metric,
        batches,
        keras_inputs=lambda y, p, w: (_col(y), p, w),
    )
    assert fixed.agrees(rtol=SAME_OPS), fixed
    report = parity.compare(
        legacy, keras_metric, batches, keras_inputs=lambda y, p, w: (_col(y), p, w)
    )
    assert report.agrees(rtol=AUC_EPSILON), report


def test_accuracy_takes_b_labels_with_b1_predictions(binary_batches):
    """Unlike Precision/Recall/AUC, the accuracy metrics (MeanMetricWrapper)
    accept labels [B] with predictions [B, 1] and weights [B]."""
    batches = [(y, _col(p), w) for y, p, w in binary_batches]
    report = parity.compare(
        lambda y, p, w: adapter.from_keras(K.BinaryAccuracy(), y, p, w), K.BinaryAccuracy, batches
    )
    assert report.agrees(rtol=SAME_OPS), report
    report = parity.compare(
        lambda y, p, w: v1.accuracy(y, tf.cast(p > 0.5, tf.int64), weights=w),
        K.BinaryAccuracy,
        batches,
    )
    assert report.agrees(rtol=SAME_OPS), report


SHAPES = {
    "labels[B] predictions[B] weights[B]": lambda y, p, w: (y, p, w),
    "labels[B,1] predictions[B] weights[B]": lambda y, p, w: (_col(y), p, w),
    "labels[B,1] predictions[B,1] weights[B]": lambda y, p, w: (_col(y), _col(p), w),
    "labels[B,1] predictions[B,1] weights[B,1]": lambda y, p, w: (_col(y), _col(p), _col(w)),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_shapes_that_agree(binary_batches, shape):
    """Precision (Recall: same code) and AUC agree with v1 for the other
    layouts. (Accuracy metrics take every layout, labels [B] with predictions
    [B, 1] included; RMSE: test_root_mean_squared_error_needs_no_reshape.)"""
    batches = [SHAPES[shape](*b) for b in binary_batches]
    cases = [
        (lambda y, p, w: v1.precision(y, p > 0.5, weights=w), K.Precision, SAME_OPS),
        (lambda y, p, w: v1.auc(y, p, weights=w), K.AUC, AUC_EPSILON),
    ]
    for legacy, keras, rtol in cases:
        report = parity.compare(legacy, keras, batches)
        assert report.agrees(rtol=rtol), (keras.__name__, report)


# auc -------------------------------------------------------------------------


def test_auc_predictions_exactly_on_a_threshold(rng):
    """Both sides use the same 200 thresholds [-1e-7, 1/199, ..., 198/199,
    1+1e-7], and v1 counts p > t. Keras AUC (evenly spaced thresholds) finds
    the bucket as ceil(p * 199) - 1 in float32 instead: for 8 of the 200
    grid values p = float32(k/199) the product rounds past k, so Keras counts
    p above threshold k where v1 does not. Scores quantized to the 1/199 grid
    differ (1.6e-4 ROC, 1.3e-4 PR here); without those 8 values (0 and 1
    included) they agree."""
    thresholds = [-1e-7] + [(i + 1) / 199 for i in range(198)] + [1 + 1e-7]
    np.testing.assert_allclose(K.AUC().thresholds, thresholds, rtol=1e-12)
    grid = (np.arange(200) / 199).astype(np.float32)
    misplaced = np.ceil(grid * np.float32(199)) != np.arange(200)
    np.testing.assert_array_equal(np.flatnonzero(misplaced), [31, 53, 62, 103, 106, 111, 119, 124])

    def stream(values):
        sizes = (*SIZES, len(values))
        return [
            (
                rng.integers(0, 2, size),
                values if size == len(values) else rng.choice(values, size),
                rng.integers(1, 4, size).astype(np.float32),
            )
            for size in sizes
        ]

    for values, agree in [(grid, False), (grid[~misplaced], True)]:
        for curve, method, rtol in [
            ("ROC", "trapezoidal", AUC_EPSILON),
            ("PR", "careful_interpolation", SAME_OPS),
        ]:
            report = parity.compare(
                lambda y, p, w: v1.auc(y, p, weights=w, curve=curve, summation_method=method),
                lambda: K.AUC(curve=curve),
                stream(values),
            )
            if agree:
                assert report.agrees(rtol=rtol), (curve, report)
            else:
                assert 1e-5 < report.max_abs_diff < 1e-2, (curve, report)


def test_auc_out_of_range_predictions(binary_batches):
    """v1 auc asserts predictions in [0, 1]; Keras AUC silently clips them
    (logits give a wrong AUC). Keras AUC(from_logits=True) applies the sigmoid."""
    logits = [(y, np.float32(6) * p - np.float32(3), w) for y, p, w in binary_batches]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"predictions must be in \[0, 1\]"):
        parity.compare(lambda y, p, w: v1.auc(y, p, weights=w), K.AUC, logits)
    clipped = parity.compare(
        lambda y, p, w: v1.auc(y, tf.clip_by_value(p, 0.0, 1.0), weights=w), K.AUC, logits
    )
    assert clipped.agrees(rtol=AUC_EPSILON), clipped
    sigmoid = parity.compare(
        lambda y, p, w: v1.auc(y, tf.sigmoid(p), weights=w), lambda: K.AUC(from_logits=True), logits
    )
    assert sigmoid.agrees(rtol=AUC_EPSILON), sigmoid
    assert sigmoid.keras - clipped.keras > 0.01, (sigmoid, clipped)


@pytest.mark.parametrize(
    "curve, legacy_method, keras_method",
    [
        # ROC trapezoidal/interpolation (both defaults) and PR careful_interpolation/
        # interpolation are the auc_roc and auc_pr rows of test_same_number.
        ("ROC", "careful_interpolation", "interpolation"),  # For ROC: v1 = trapezoidal.
        ("ROC", "minoring", "minoring"),
        ("ROC", "majoring", "majoring"),
        ("PR", "minoring", "minoring"),
        ("PR", "majoring", "majoring"),
    ],
)
def test_auc_summation_methods_that_agree(binary_batches, curve, legacy_method, keras_method):
    report = parity.compare(
        lambda y, p, w: v1.auc(y, p, weights=w, curve=curve, summation_method=legacy_method),
        lambda: K.AUC(curve=curve, summation_method=keras_method),
        binary_batches,
    )
    assert report.agrees(rtol=AUC_EPSILON), report


def test_auc_pr_default_summation_differs(binary_batches):
    """v1's default for PR is 'trapezoidal', which Keras does not offer; the
    Keras default 'interpolation' equals v1's 'careful_interpolation'."""
    report = parity.compare(
        lambda y, p, w: v1.auc(y, p, weights=w, curve="PR"),
        lambda: K.AUC(curve="PR"),
        binary_batches,
    )
    assert 1e-4 < report.max_abs_diff < 1e-2, report  # 0.00169 on this stream.
    with pytest.raises(ValueError, match="Invalid AUC summation method"):
        K.AUC(curve="PR", summation_method="trapezoidal")


def test_auc_epsilon_grows_as_weights_shrink(binary_batches):
    """v1 adds epsilon=1e-6 to true positives (and to the denominators of the
    rates), so its ROC AUC depends on the scale of the weights; Keras' does
    not. Weights x 1e-4 (0.005 units of positive weight): v1 is off by 5e-5."""
    tiny = [(y, p, w * np.float32(1e-4)) for y, p, w in binary_batches]
    report = parity.compare(lambda y, p, w: v1.auc(y, p, weights=w), K.AUC, tiny)
    assert 1e-5 < report.max_abs_diff < 1e-4, report
    unscaled = parity.compare(lambda y, p, w: v1.auc(y, p, weights=w), K.AUC, binary_batches)
    np.testing.assert_allclose(report.keras, unscaled.keras, rtol=1e-6)
    careful_pr = parity.compare(
        lambda y, p, w: v1.auc(
            y, p, weights=w, curve="PR", summation_method="careful_interpolation"
        ),
        lambda: K.AUC(curve="PR"),
        tiny,
    )
    assert careful_pr.agrees(rtol=SAME_OPS), careful_pr  # No epsilon there.


# mean ------------------------------------------------------------------------


def test_keras_mean_takes_values_only(binary_batches):
    """Mean.update_state(values, sample_weight) has one input: from_keras and
    parity.compare take it from `predictions` and want labels=None. The
    callable form from_keras(lambda _, v: v, values, values, w) also works."""
    with tf.Graph().as_default():
        values = tf.constant([1.0, 2.0])
        with pytest.raises(ValueError, match="takes one input"):
            adapter.from_keras(K.Mean(), values, values, tf.constant([1.0, 1.0]))
    with pytest.raises(ValueError, match="takes one input"):
        parity.compare(lambda y, p, w: v1.mean(p, weights=w), K.Mean, binary_batches)
    callable_form = parity.compare(
        lambda y, p, w: adapter.from_keras(lambda _, values: values, p, p, w),
        lambda: K.MeanMetricWrapper(mean_values),
        binary_batches,
    )
    assert callable_form.agrees(rtol=SAME_OPS), callable_form


def test_float32_state_on_both_sides():
    """A weight of 2**24 then 100 unit weights: float32 counters on both sides
    lose every +1 in the same way (relative error 6e-6); a Keras metric with
    dtype="float64" has float64 state and gets it right."""
    batches = [(np.zeros(1, np.float32), np.zeros(1, np.float32), np.float32([2.0**24]))]
    batches += [(np.ones(1, np.float32), np.ones(1, np.float32), np.ones(1, np.float32))] * 100
    truth = 100 / (2**24 + 100)
    f32 = parity.compare(
        lambda y, p, w: v1.mean(p, weights=w), lambda: K.MeanMetricWrapper(mean_values), batches
    )
    assert f32.agrees(rtol=0.0), f32  # Identical float32 arithmetic.
    np.testing.assert_allclose(f32.legacy, 100 / 2**24, rtol=1e-7)  # Count stuck at 2**24.
    assert abs(f32.legacy - truth) / truth > 5e-6
    f64 = parity.compare(
        lambda y, p, w: adapter.from_keras(K.Mean(dtype="float64"), None, p, w),
        lambda: K.MeanMetricWrapper(mean_values, dtype="float64"),
        batches,
    )
    assert f64.agrees(rtol=0.0), f64
    np.testing.assert_allclose(f64.keras, truth, rtol=1e-12)


# precision_at_k / recall_at_k -------------------------------------------------


@pytest.mark.parametrize("name", ["precision_at_k", "recall_at_k"])
def test_at_k_no_data_is_nan_in_v1(request, name):
    """v1 precision_at_k/recall_at_k divide without a zero guard: NaN until
    the first weighted example; Keras Precision/Recall(top_k) give 0.0."""
    row = ROWS[name]
    first = request.getfixturevalue(row.data)[0]
    empty = tuple(a[:0] for a in first)
    zero_weight = (*first[:2], np.zeros_like(first[2]))
    report = parity.compare(
        row.legacy, row.keras, [empty, zero_weight], keras_inputs=row.keras_inputs
    )
    assert np.isnan(report.legacy) and report.keras == 0.0, report


# regression ------------------------------------------------------------------


REDUCING = {  # Keras metric -> (v1 pair, per-example error)
    "MeanAbsoluteError": (
        lambda y, p, w: v1.mean_absolute_error(y, p, weights=w),
        lambda y, p: np.abs(y - p),
    ),
    "MeanSquaredError": (
        lambda y, p, w: v1.mean_squared_error(y, p, weights=w),
        lambda y, p: (y - p) ** 2,
    ),
    "MeanAbsolutePercentageError": (
        lambda y, p, w: builders.mape(y, p, weights=w),
        lambda y, p: 100 * np.abs(y - p) / np.abs(y),
    ),
}


@pytest.mark.parametrize("keras_name", list(REDUCING))
def test_keras_regression_metrics_need_b1_labels(regression_batches, keras_name):
    """Keras MAE/MSE/MAPE average over the last axis. With labels [B] (and
    predictions [B] or [B, 1], squeezed to [B]) that axis is the batch:
    weights [B] then fail at run time (batches of more than one example), and
    without weights each batch counts once (mean of batch means) and an empty
    batch makes the value NaN for good."""
    legacy, error = REDUCING[keras_name]
    keras = getattr(K, keras_name)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Can not squeeze dim"):
        parity.compare(
            lambda y, p, w: adapter.from_keras(keras(), y, p, w), keras, regression_batches
        )
    unweighted = [(y, p, None) for y, p, _ in regression_batches if len(y)]
    report = parity.compare(legacy, keras, unweighted)
    per_example = np.mean(np.concatenate([error(y, p[:, 0]) for y, p, _ in unweighted]))
    batch_means = np.mean([np.mean(error(y, p[:, 0])) for y, p, _ in unweighted])
    np.testing.assert_allclose(report.legacy, per_example, rtol=F32_VS_F64)
    np.testing.assert_allclose(report.keras, batch_means, rtol=F32_VS_F64)
    assert report.max_rel_diff > 0.05  # 9% (MAE), 24% (MSE), 21% (MAPE) here.
    with_empty = [(y, p, None) for y, p, _ in regression_batches]
    assert np.isnan(parity.compare(legacy, keras, with_empty).keras)


@pytest.mark.parametrize("shape", ["labels[B] predictions[B]", "labels[B] predictions[B,1]"])
def test_root_mean_squared_error_needs_no_reshape(regression_batches, shape):
    """RootMeanSquaredError squares elementwise (no mean over the last axis)."""
    batches = [(y, p if shape.endswith("[B,1]") else p[:, 0], w) for y, p, w in regression_batches]
    report = parity.compare(
        lambda y, p, w: adapter.from_keras(K.RootMeanSquaredError(), y, p, w),
        K.RootMeanSquaredError,
        batches,
    )
    assert report.agrees(rtol=SAME_OPS), report
    report = parity.compare(
        lambda y, p, w: v1.root_mean_squared_error(y, p, weights=w), K.RootMeanSquaredError, batches
    )
    assert report.agrees(rtol=SAME_OPS), report


# fbeta -----------------------------------------------------------------------


def _sklearn_fbeta(y_true, y_pred, weights, average, beta=1.0):
    return fbeta_score(
        y_true, y_pred, beta=beta, average=average, sample_weight=weights, zero_division=0
    )


@NEEDS_F_SCORES
@pytest.mark.parametrize("average", ["macro", None])  # micro, weighted: alike.
def test_fbeta_multiclass_keras_threshold_must_be_none(multiclass_batches, average):
    """threshold=0.5 on softmax scores predicts the classes with p > 0.5 (often
    none); builders.fbeta with num_classes takes the argmax."""
    y, p, w = (concat(multiclass_batches, i) for i in range(3))
    report = parity.compare(
        lambda y, p, w: builders.fbeta(y, p, num_classes=NUM_CLASSES, average=average, weights=w),
        lambda: K.F1Score(average=average, threshold=0.5),
        multiclass_batches,
        keras_inputs=lambda y, p, w: (_one_hot(y), p, w),
    )
    np.testing.assert_allclose(
        report.keras, _sklearn_fbeta(_one_hot(y), p > 0.5, w, average), rtol=F32_VS_F64
    )
    assert report.max_abs_diff > 0.03, report  # 0.034 to 0.11 on this stream.


@NEEDS_F_SCORES
@pytest.mark.parametrize("average", ["macro", None])  # micro, weighted: alike.
def test_fbeta_multilabel_keras_threshold_none_is_top_1(multilabel_batches, average):
    """F1Score's default threshold=None predicts only each row's top class."""
    y, p, w = (concat(multilabel_batches, i) for i in range(3))
    report = parity.compare(
        lambda y, p, w: builders.fbeta(y, p, multilabel=True, average=average, weights=w),
        lambda: K.F1Score(average=average),
        multilabel_batches,
        keras_inputs=lambda y, p, w: (y.astype(np.float32), p, w),
    )
    top_1 = p == p.max(axis=1, keepdims=True)
    np.testing.assert_allclose(report.keras, _sklearn_fbeta(y, top_1, w, average), rtol=F32_VS_F64)
    assert report.max_abs_diff > 0.2, report  # 0.25 to 0.33 on this stream.


@NEEDS_F_SCORES
def test_fbeta_keras_threshold_none_marks_every_tied_maximum():
    """Keras threshold=None predicts every class tied at the row maximum;
    builders.fbeta (and tf.argmax) predicts the first one only."""
    labels = np.array([0, 1, 2], np.int32)
    scores = np.array(
        [[0.4, 0.4, 0.2, 0, 0], [0.5, 0.5, 0, 0, 0], [0.1, 0.1, 0.8, 0, 0]], np.float32
    )
    report = parity.compare(
        lambda y, p, w: builders.fbeta(y, p, num_classes=NUM_CLASSES, average="micro"),
        lambda: K.F1Score(average="micro"),
        [(labels, scores, None)],
        keras_inputs=lambda y, p, w: (_one_hot(y), p, w),
    )
    assert report.legacy == pytest.approx(2 / 3)  # argmax: 0, 0, 2 -> 2 of 3 right.
    assert report.keras == pytest.approx(0.75)  # 5 predicted, 3 hits: 2*3 / (5 + 3).


@NEEDS_F_SCORES
def test_fbeta_binary_keras_needs_2d_inputs_and_a_threshold(binary_batches):
    """FBetaScore refuses [B] inputs; on [B, 1] with threshold=None the one
    column is always the row maximum, so every example is predicted positive."""
    with pytest.raises(ValueError, match="FBetaScore expects 2D inputs"):
        parity.compare(
            lambda y, p, w: builders.fbeta(y, p, weights=w),
            K.F1Score,
            binary_batches,
            keras_inputs=lambda y, p, w: (y.astype(np.float32), p, w),
        )
    y, p, w = (concat(binary_batches, i) for i in range(3))
    report = parity.compare(
        lambda y, p, w: builders.fbeta(y, p, weights=w),
        lambda: K.F1Score(average="micro"),
        binary_batches,
        keras_inputs=lambda y, p, w: (_col(y).astype(np.float32), _col(p), w),
    )
    np.testing.assert_allclose(report.legacy, _sklearn_fbeta(y, p > 0.5, w, "binary"), rtol=1e-9)
    np.testing.assert_allclose(report.keras, _sklearn_fbeta(y, p > 0, w, "binary"), rtol=F32_VS_F64)
    assert report.max_abs_diff > 0.1, report  # 0.545 vs 0.658 on this stream.


@NEEDS_F_SCORES
def test_fbeta_keras_weights_must_be_b(binary_batches, multiclass_batches):
    """F1Score/FBetaScore multiply by expand_dims(sample_weight, 1): weights
    [B, 1] become [B, 1, 1] and broadcast against [B, C] to [B, B, C]. For
    average="micro" the result is silently wrong (each batch's tp, fp, fn are
    the unweighted counts times the batch's total weight); for other averages
    the update fails."""
    report = parity.compare(
        lambda y, p, w: builders.fbeta(y, p, weights=w),
        lambda: K.F1Score(average="micro", threshold=0.5),
        binary_batches,
        keras_inputs=lambda y, p, w: (_col(y).astype(np.float32), _col(p), _col(w)),
    )
    tp = fp = fn = 0.0
    for y, p, w in binary_batches:
        predicted = p > 0.5
        tp += w.sum() * np.sum(predicted & (y == 1))
        fp += w.sum() * np.sum(predicted & (y == 0))
        fn += w.sum() * np.sum(~predicted & (y == 1))
    np.testing.assert_allclose(report.keras, 2 * tp / (2 * tp + fp + fn), rtol=F32_VS_F64)
    assert report.max_abs_diff > 0.02, report  # 0.545 vs 0.505 on this stream.
    with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot update variable"):
        parity.compare(
            lambda y, p, w: builders.fbeta(
                y, p, num_classes=NUM_CLASSES, average="macro", weights=w
            ),
            lambda: K.F1Score(average="macro"),
            multiclass_batches,
            keras_inputs=lambda y, p, w: (_one_hot(y), p, _col(w)),
        )


@NEEDS_F_SCORES
def test_fbeta_keras_needs_float_labels_in_graph():
    """FBetaScore/F1Score convert y_true with dtype=float32: a NumPy int array
    converts, an int tensor (every input_fn label) raises. Cast first."""
    with tf.Graph().as_default():
        labels = tf.compat.v1.placeholder(tf.int64, [None, 1])
        probabilities = tf.compat.v1.placeholder(tf.float32, [None, 1])
        with pytest.raises(ValueError, match="requested dtype float32 for Tensor with dtype int64"):
            adapter.from_keras(K.F1Score(threshold=0.5), labels, probabilities)
        adapter.from_keras(K.F1Score(threshold=0.5), tf.cast(labels, tf.float32), probabilities)


# the guide's before/after model_fn -------------------------------------------
# Kept identical to the snippet in docs/migration.md.


def model_fn_before(features, labels, mode):
    logits = tf.compat.v1.layers.dense(features["x"], 1)  # [B, 1]
    probabilities = tf.sigmoid(logits)  # [B, 1]
    loss = tf.compat.v1.losses.sigmoid_cross_entropy(tf.reshape(labels, [-1, 1]), logits)
    eval_metric_ops = {
        # labels: int64 [B]. Predictions must be bool: v1 treats any nonzero as positive.
        "precision": tf.compat.v1.metrics.precision(
            labels, probabilities > 0.5, weights=features["weight"]
        ),
    }
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=eval_metric_ops)


def model_fn_after(features, labels, mode):
    logits = tf.compat.v1.layers.dense(features["x"], 1)  # [B, 1]
    probabilities = tf.sigmoid(logits)  # [B, 1]
    loss = tf.compat.v1.losses.sigmoid_cross_entropy(tf.reshape(labels, [-1, 1]), logits)
    eval_metric_ops = {
        # A new metric object per model_fn call; thresholds=None means p > 0.5.
        # Labels [B] -> [B, 1] like the predictions, or the weights fail to broadcast.
        "precision": adapter.from_keras(
            tf.keras.metrics.Precision(),
            tf.reshape(labels, [-1, 1]),
            probabilities,
            features["weight"],
        ),
    }
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=eval_metric_ops)


def _evaluate(model_fn, batches, kernel):
    with tf.Graph().as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, kernel.shape[0]])
        labels = tf.compat.v1.placeholder(tf.int64, [None])
        weights = tf.compat.v1.placeholder(tf.float32, [None])
        spec = model_fn({"x": x, "weight": weights}, labels, tf.estimator.ModeKeys.EVAL)
        value, update_op = spec.eval_metric_ops["precision"]
        with tf.compat.v1.Session() as sess:
            sess.run(
                [
                    tf.compat.v1.global_variables_initializer(),
                    tf.compat.v1.local_variables_initializer(),
                ]
            )
            (dense_kernel,) = [v for v in tf.compat.v1.global_variables() if "kernel" in v.name]
            dense_kernel.load(kernel, sess)
            for features, y, w in batches:
                sess.run(update_op, {x: features, labels: y, weights: w})
            return sess.run(value), tf.compat.v1.global_variables()


def test_guide_snippet_before_after(rng):
    kernel = rng.normal(size=(3, 1)).astype(np.float32)
    batches = [
        (
            rng.normal(size=(size, 3)).astype(np.float32),
            rng.integers(0, 2, size),
            rng.integers(0, 4, size).astype(np.float32),
        )
        for size in SIZES
    ]
    before, _ = _evaluate(model_fn_before, batches, kernel)
    after, global_variables = _evaluate(model_fn_after, batches, kernel)
    assert [v.name for v in global_variables] == ["dense/kernel:0", "dense/bias:0"]
    x, y, w = (np.concatenate([b[i] for b in batches]) for i in range(3))
    predicted = (1 / (1 + np.exp(-(x @ kernel)[:, 0]))) > 0.5
    expected = np.sum(w * predicted * (y == 1)) / np.sum(w * predicted)
    assert 0 < before < 1
    np.testing.assert_allclose(after, before, rtol=SAME_OPS)
    np.testing.assert_allclose(after, expected, rtol=1e-6)
