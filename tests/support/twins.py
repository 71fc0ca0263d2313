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
from estimator_metrics.keras_metrics import MAPE, AverageConfidence, FBeta
from support.data import SEED, probabilities, weights

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


def _regression(rng, zeros=0):
    n = NUM_EXAMPLES
    labels = (rng.uniform(0.5, 20, n) * rng.choice([-1, 1], n)).astype(np.float32)
    labels[rng.choice(n, zeros, replace=False)] = 0.0  # Where epsilon is the denominator.
    predictions = labels * rng.uniform(0.5, 1.5, n) + rng.normal(size=n)
    return labels, predictions[:, None].astype(np.float32), weights(rng, n)  # [B] vs [B, 1].


# ------------------------------------------------------------------------------- oracles


def _f64(array):
    return np.asarray(array, np.float64)


def _fbeta_oracle(y_true, y_pred, w, **kwargs):
    from sklearn.metrics import fbeta_score

    return fbeta_score(y_true, y_pred, sample_weight=_f64(w), zero_division=0, **kwargs)


def _fbeta_case(name, data, sklearn_inputs, **options):
    """builders.fbeta and keras_metrics.FBeta with `options`; `sklearn_inputs(y, p, w)` ->
    the (y_true, y_pred, sample_weight) scikit-learn scores."""
    sklearn_options = {
        "beta": options.get("beta", 1.0),
        "average": options.get("average", "binary"),
    }
    if sklearn_options["average"] != "binary":
        sklearn_options["labels"] = options.get("classes") or list(
            range(options.get("num_classes") or NUM_CLASSES)
        )
    return TwinCase(
        name,
        data,
        lambda y, p, w: builders.fbeta(y, p, w, **options),
        lambda: FBeta(**options),
        lambda y, p, w: _fbeta_oracle(*sklearn_inputs(y, p, w), **sklearn_options),
    )


def _above(threshold):
    return lambda y, p, w: (y, (p > threshold).astype(np.int64), w)


def _argmax(y, p, w):
    """Ids of the last axis of scores (and of one-hot labels), flattened, with the weights
    of each example repeated over its positions (sequences)."""
    ids = y.argmax(axis=-1) if y.ndim == p.ndim else y
    positions = ids.size // len(w)
    return ids.reshape(-1), p.argmax(axis=-1).reshape(-1), np.repeat(w, positions)


def _mape_oracle(epsilon):
    def oracle(y, p, w):
        y, p = _f64(y), _f64(p)[:, 0]
        return 100 * np.average(np.abs(y - p) / np.maximum(np.abs(y), epsilon), weights=_f64(w))

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
        _confidence_case("average_confidence", _multiclass),
        _confidence_case("average_confidence_many_classes", _many_classes),
    )


def _confidence_case(name, data) -> TwinCase:
    return TwinCase(
        name,
        data,
        lambda y, p, w: builders.average_confidence(p, w),
        AverageConfidence,
        lambda y, p, w: np.average(_f64(p).max(axis=1), weights=_f64(w)),
    )


CASES = _cases()
CASES_BY_NAME = {case.name: case for case in CASES}
