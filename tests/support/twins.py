"""Each builder beside its Keras twin on the same batches, and the places to run them.

A `TwinCase` is one configuration: its data, the builder call, the twin and an
independent NumPy/scikit-learn oracle. The places (all cut into the same batches of
`BATCH_SIZE`):

* `builder_in_graph`: the builder's `(value, update_op)` in a `tf.compat.v1` graph and
  session, one update per batch (the reference every place is compared with);
* `twin_eagerly`: the twin's `update_state` per batch, then `result()`;
* `twin_in_model_evaluate`: the twin compiled into a Keras model that passes its input
  through, in `model.evaluate(batch_size=BATCH_SIZE)`.

No `tensorflow_estimator` here: these places also run on Keras 3 (TF 2.16+), where
Estimator is gone (`pytest -m keras3`). Estimator places are in
`tests/keras_metrics/test_twins_estimator.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from estimator_metrics import builders
from estimator_metrics._core.parity import run_stream
from estimator_metrics.keras_metrics import (
    MAPE,
    AverageConfidence,
    CalibrationError,
    FBeta,
    Precision,
    Recall,
)
from support import calibration
from support.data import SEED, probabilities, weights
from support.oracles import prfs

#: Examples per case, and per batch: batches of 16, 16, 16, 16 and 6.
NUM_EXAMPLES = 70
BATCH_SIZE = 16
NUM_CLASSES = 5
MANY_CLASSES = 80  # >= PROBED_FROM and KEYED_FROM in estimator_metrics/_core/rows.py.
#: Every place equals the builder to this relative tolerance (both are float64 sums of
#: the same float64 increments of the same float32 inputs, batch by batch).
RTOL = 1e-12

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclasses.dataclass(frozen=True)
class TwinCase:
    """A builder and its twin with the same options, on data of one layout.

    `data(rng)` -> (labels, predictions, weights), NumPy, NUM_EXAMPLES long;
    `builder(labels, predictions, weights)` -> `(value, update_op)` in a graph;
    `twin()` -> a new Keras metric; `oracle(labels, predictions, weights)` -> float64.
    """

    name: str
    data: Callable[[np.random.Generator], Arrays]
    builder: Callable[..., tuple]
    twin: Callable[[], tf.keras.metrics.Metric]
    oracle: Callable[..., Any]

    def arrays(self) -> Arrays:
        return self.data(np.random.default_rng([SEED, len(self.name)]))


def batches(arrays: Arrays) -> list[Arrays]:
    """`arrays` cut as `Estimator.evaluate` and `model.evaluate` cut them."""
    starts = range(0, len(arrays[0]), BATCH_SIZE)
    return [tuple(a[i : i + BATCH_SIZE] for a in arrays) for i in starts]


def builder_in_graph(case: TwinCase, arrays: Arrays) -> np.ndarray:
    """The builder over `batches(arrays)`, fed from placeholders with a None batch axis."""
    return run_stream(case.builder, batches(arrays)).after


def twin_eagerly(case: TwinCase, arrays: Arrays) -> np.ndarray:
    metric = case.twin()
    for labels, predictions, weights_ in batches(arrays):
        metric.update_state(labels, predictions, sample_weight=weights_)
    return np.asarray(metric.result(), np.float64)


def _no_loss(y_true, y_pred):
    del y_true  # Keras 3 wants a loss to evaluate; the metrics are what is measured.
    return 0.0 * tf.reduce_sum(y_pred)


def twin_in_model_evaluate(case: TwinCase, arrays: Arrays) -> np.ndarray:
    """The twin in `model.evaluate` of a model whose output is its input (predictions)."""
    labels, predictions, weights_ = arrays
    model = tf.keras.Sequential([tf.keras.layers.Lambda(lambda x: x)])
    twin = case.twin()
    model.compile(loss=_no_loss, weighted_metrics=[twin])
    results = model.evaluate(
        predictions,
        labels,
        sample_weight=weights_,
        batch_size=BATCH_SIZE,
        verbose=0,
        return_dict=True,
    )
    return np.asarray(results[twin.name], np.float64)


# ---------------------------------------------------------------------------------- data


def _binary(rng):
    n = NUM_EXAMPLES
    return rng.integers(0, 2, n), rng.uniform(0, 1, n).astype(np.float32), weights(rng, n)


def _two_scores(rng):
    n = NUM_EXAMPLES
    logits = rng.normal(size=(n, 2)).astype(np.float32) * 3  # Logits: scores need not be in [0, 1].
    return rng.integers(0, 2, n), logits, weights(rng, n)


def _multiclass(rng, one_hot=False):
    n = NUM_EXAMPLES
    labels = rng.integers(0, NUM_CLASSES, n)
    if one_hot:
        labels = np.eye(NUM_CLASSES, dtype=np.float32)[labels]
    return labels, probabilities(rng, n, NUM_CLASSES), weights(rng, n)


def _many_classes(rng):
    """Probabilities over MANY_CLASSES: wide enough for the keyed paths (_core/rows.py)."""
    n = NUM_EXAMPLES
    labels, scores = rng.integers(0, MANY_CLASSES, n), probabilities(rng, n, MANY_CLASSES)
    scores[np.arange(0, n, 2), labels[::2]] += 1.0  # Every other example scored right.
    return labels, scores / scores.sum(axis=1, keepdims=True), weights(rng, n)


def _sequences(rng, length=4):
    n = NUM_EXAMPLES
    scores = probabilities(rng, n * length, NUM_CLASSES).reshape(n, length, NUM_CLASSES)
    return rng.integers(0, NUM_CLASSES, (n, length)), scores, weights(rng, n)


def _multilabel(rng):
    shape = (NUM_EXAMPLES, NUM_CLASSES)
    return (
        rng.integers(0, 2, shape),
        rng.uniform(0, 1, shape).astype(np.float32),
        weights(rng, NUM_EXAMPLES),
    )


def _unseen_class(rng):
    """Multiclass probabilities where class 0 is never true and never predicted."""
    labels, scores, w = _multiclass(rng)
    scores[:, 0] = 0.0
    return np.maximum(labels, 1), scores, w


def _regression_columns(rng, columns=3):
    """[B, K] targets and predictions: K outputs per example."""
    shape = (NUM_EXAMPLES, columns)
    labels = (rng.uniform(0.5, 20, shape) * rng.choice([-1, 1], shape)).astype(np.float32)
    predictions = labels * rng.uniform(0.5, 1.5, shape) + rng.normal(size=shape)
    return labels, predictions.astype(np.float32), weights(rng, NUM_EXAMPLES)


def _regression(rng, zeros=0):
    n = NUM_EXAMPLES
    labels = (rng.uniform(0.5, 20, n) * rng.choice([-1, 1], n)).astype(np.float32)
    labels[rng.choice(n, zeros, replace=False)] = 0.0  # Where epsilon is the denominator.
    predictions = labels * rng.uniform(0.5, 1.5, n) + rng.normal(size=n)
    return labels, predictions[:, None].astype(np.float32), weights(rng, n)  # [B] vs [B, 1].


# ------------------------------------------------------------------------------- oracles


def _f64(array):
    return np.asarray(array, np.float64)


#: Each metric of the confusion family: its builder and its twin.
CONFUSION = {
    "fbeta": (builders.fbeta, FBeta),
    "precision": (builders.precision, Precision),
    "recall": (builders.recall, Recall),
}


def _fbeta_case(name, data, sklearn_inputs, metric="fbeta", **options):
    """The builder and twin of `metric` (fbeta, precision, recall) with `options`;
    `sklearn_inputs(y, p, w)` -> the (y_true, y_pred, sample_weight) scikit-learn scores."""
    sklearn_options = {
        "beta": options.get("beta", 1.0),
        "average": options.get("average", "binary"),
        "zero_division": options.get("zero_division", 0),
    }
    if sklearn_options["average"] != "binary":
        sklearn_options["labels"] = options.get("classes") or list(
            range(options.get("num_classes") or NUM_CLASSES)
        )
    builder, twin = CONFUSION[metric]
    return TwinCase(
        name,
        data,
        lambda y, p, w: builder(y, p, w, **options),
        lambda: twin(**options),
        lambda y, p, w: _sklearn(sklearn_inputs(y, p, w), sklearn_options)[metric],
    )


def _sklearn(inputs, options):
    """scikit-learn's precision, recall and F-beta of (y_true, y_pred, sample_weight)."""
    y_true, y_pred, w = inputs
    return prfs(y_true, y_pred, sample_weight=_f64(w), **options)


def _above(threshold):
    return lambda y, p, w: (y, (p > threshold).astype(np.int64), w)


def _argmax(y, p, w):
    """Ids of the last axis of scores (and of one-hot labels), flattened, with the weights
    of each example repeated over its positions (sequences)."""
    ids = y.argmax(axis=-1) if y.ndim == p.ndim else y
    positions = ids.size // len(w)
    return ids.reshape(-1), p.argmax(axis=-1).reshape(-1), np.repeat(w, positions)


def _mape_oracle(epsilon, multioutput=None):
    """100 * the weighted mean of |y - p| / max(|y|, epsilon): over every value ([B] labels,
    [B, 1] predictions), or per column of [B, K] ones, averaged by `multioutput`'s weights."""

    def oracle(y, p, w):
        y, p = _f64(y), _f64(p)
        if multioutput is None:
            p = p[:, 0]
        errors = np.abs(y - p) / np.maximum(np.abs(y), epsilon)
        per_column = 100 * np.average(errors, weights=_f64(w), axis=0)
        if multioutput in (None, "raw_values"):
            return per_column
        return np.average(per_column, weights=multioutput)

    return oracle


def _cases() -> tuple[TwinCase, ...]:
    return (
        _fbeta_case("fbeta_binary", _binary, _above(0.3), beta=0.5, threshold=0.3),
        _fbeta_case("fbeta_binary_two_scores", _two_scores, _argmax, num_classes=2),
        _fbeta_case(
            "fbeta_macro_one_hot",
            lambda rng: _multiclass(rng, one_hot=True),
            _argmax,
            beta=2.0,
            num_classes=NUM_CLASSES,
            average="macro",
        ),
        _fbeta_case(
            "fbeta_weighted", _multiclass, _argmax, num_classes=NUM_CLASSES, average="weighted"
        ),
        _fbeta_case(
            "fbeta_micro_classes",
            _multiclass,
            _argmax,
            num_classes=NUM_CLASSES,
            average="micro",
            classes=[1, 2],
        ),
        _fbeta_case(
            "fbeta_per_class_classes",
            _multiclass,
            _argmax,
            num_classes=NUM_CLASSES,
            average=None,
            classes=[3, 0, 4],
        ),
        _fbeta_case(
            "fbeta_macro_many_classes",
            _many_classes,
            _argmax,
            num_classes=MANY_CLASSES,
            average="macro",
        ),
        # Tags [B, T] against scores [B, T, C], weights [B] per sequence.
        _fbeta_case(
            "fbeta_sequences_macro", _sequences, _argmax, num_classes=NUM_CLASSES, average="macro"
        ),
        _fbeta_case(
            "fbeta_multilabel_macro",
            _multilabel,
            _above(0.3),
            num_classes=NUM_CLASSES,
            average="macro",
            threshold=0.3,
            multilabel=True,
        ),
        # No num_classes: the twin builds its state from the first batch's width.
        _fbeta_case(
            "fbeta_multilabel_per_class_lazy",
            _multilabel,
            _above(0.5),
            beta=1.5,
            average=None,
            multilabel=True,
        ),
        _fbeta_case(
            "fbeta_macro_nan_for_a_class_never_seen",
            _unseen_class,
            _argmax,
            num_classes=NUM_CLASSES,
            average="macro",
            zero_division=float("nan"),
        ),
        _fbeta_case(
            "fbeta_multilabel_samples",
            _multilabel,
            _above(0.4),
            beta=2.0,
            num_classes=NUM_CLASSES,
            average="samples",
            threshold=0.4,
            multilabel=True,
            zero_division=1,
        ),
        _fbeta_case("precision_binary", _binary, _above(0.3), "precision", threshold=0.3),
        _fbeta_case(
            "precision_weighted_one_hot_zero_division_1",
            lambda rng: _multiclass(rng, one_hot=True),
            _argmax,
            "precision",
            num_classes=NUM_CLASSES,
            average="weighted",
            zero_division=1,
        ),
        _fbeta_case(
            "precision_multilabel_samples_lazy",
            _multilabel,
            _above(0.5),
            "precision",
            average="samples",
            classes=[4, 1, 2],
            multilabel=True,
        ),
        _fbeta_case(
            "recall_per_class_nan",
            _unseen_class,
            _argmax,
            "recall",
            num_classes=NUM_CLASSES,
            average=None,
            zero_division=float("nan"),
        ),
        _fbeta_case(
            "recall_sequences_micro_classes",
            _sequences,
            _argmax,
            "recall",
            num_classes=NUM_CLASSES,
            average="micro",
            classes=[1, 3],
        ),
        _fbeta_case(
            "recall_multilabel_macro_lazy",
            _multilabel,
            _above(0.5),
            "recall",
            average="macro",
            multilabel=True,
        ),
        TwinCase(
            "mape",
            _regression,
            lambda y, p, w: builders.mape(y, p, w),
            MAPE,
            _mape_oracle(1e-7),
        ),
        TwinCase(
            "mape_epsilon_zero_labels",
            lambda rng: _regression(rng, zeros=5),
            lambda y, p, w: builders.mape(y, p, w, epsilon=0.5),
            lambda: MAPE(epsilon=0.5),
            _mape_oracle(0.5),
        ),
        TwinCase(
            "mape_raw_values",
            _regression_columns,
            lambda y, p, w: builders.mape(y, p, w, multioutput="raw_values"),
            lambda: MAPE(multioutput="raw_values"),
            _mape_oracle(1e-7, "raw_values"),
        ),
        TwinCase(
            "mape_column_weights",
            _regression_columns,
            lambda y, p, w: builders.mape(y, p, w, multioutput=[0.5, 0.0, 2.0]),
            lambda: MAPE(multioutput=[0.5, 0.0, 2.0]),
            _mape_oracle(1e-7, [0.5, 0.0, 2.0]),
        ),
        _confidence_case("average_confidence", _multiclass),
        _confidence_case("average_confidence_many_classes", _many_classes),
        _calibration_case("calibration_error", _multiclass, calibration.top_label),
        _calibration_case(
            "calibration_error_one_hot_max",
            lambda rng: _multiclass(rng, one_hot=True),
            calibration.top_label,
            norm="max",
        ),
        _calibration_case(
            "calibration_error_many_classes_l2",
            _many_classes,
            calibration.top_label,
            num_bins=10,
            norm="l2",
        ),
        _calibration_case(
            "calibration_error_sequences", _sequences, calibration.top_label, per_example=4
        ),
        _calibration_case("calibration_error_binary", _binary, calibration.of_class_1, num_bins=8),
    )


def _confidence_case(name, data) -> TwinCase:
    return TwinCase(
        name,
        data,
        lambda y, p, w: builders.average_confidence(p, w),
        AverageConfidence,
        lambda y, p, w: np.average(_f64(p).max(axis=1), weights=_f64(w)),
    )


def _calibration_case(name, data, decide, per_example=1, **options) -> TwinCase:
    """builders.calibration_error and keras_metrics.CalibrationError with `options`, against
    the NumPy bins of `decide(labels, predictions)` (weights repeated over sequences)."""

    def oracle(y, p, w):
        state = calibration.bins(
            *decide(y, p), np.repeat(_f64(w), per_example), options.get("num_bins", 15)
        )
        return calibration.calibration_error(state, options.get("norm", "l1"))

    return TwinCase(
        name,
        data,
        lambda y, p, w: builders.calibration_error(y, p, w, **options),
        lambda: CalibrationError(**options),
        oracle,
    )


CASES = _cases()
CASES_BY_NAME = {case.name: case for case in CASES}
