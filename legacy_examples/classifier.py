"""A 10-class classifier on 784 generated features, in classic tf.compat.v1 style.

Eval metrics: accuracy, the average confidence of the top prediction and, beside it, the
expected calibration error (how far accuracy is from confidence, bin by bin).
  legacy: tf.compat.v1.metrics.accuracy, builders.average_confidence and
          builders.calibration_error, and builders.reliability_diagram: the picture,
          written into the evaluation's event file (TensorBoard's Images tab) where
          matplotlib (the `diagram` extra) is installed
  keras:  SparseCategoricalAccuracy, keras_metrics.AverageConfidence and
          keras_metrics.CalibrationError, all through adapter.from_keras

Run: estimator-metrics example classifier --metrics keras
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from estimator_metrics import adapter, builders
from estimator_metrics.keras_metrics import AverageConfidence, CalibrationError

from . import _common

NUM_CLASSES = 10
NUM_FEATURES = 784
TRAIN_EXAMPLES = 6000
EVAL_EXAMPLES = 1000


def make_data(seed: int) -> _common.Data:
    """Noisy class prototypes in 784 dimensions (an MNIST-sized stand-in)."""
    prototypes = np.random.default_rng(seed).normal(size=(NUM_CLASSES, NUM_FEATURES))

    def split(examples: int, part: int):
        rng = np.random.default_rng([seed, part])
        labels = rng.integers(0, NUM_CLASSES, examples)
        x = prototypes[labels] * 0.15 + rng.normal(size=(examples, NUM_FEATURES))
        return {"x": x.astype(np.float32)}, labels.astype(np.int64)

    return _common.Data(*split(TRAIN_EXAMPLES, 1), *split(EVAL_EXAMPLES, 2))


def model_fn(features, labels, mode, params):
    hidden = tf.compat.v1.layers.dense(features["x"], 64, activation=tf.nn.relu)
    logits = tf.compat.v1.layers.dense(hidden, NUM_CLASSES)
    probabilities = tf.nn.softmax(logits)
    predicted = tf.argmax(logits, axis=1)
    # In every mode: tf.estimator.add_metrics hands them to a metric function in EVAL.
    predictions = {"class": predicted, "probabilities": probabilities}
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions=predictions)
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, logits)
    train_op = tf.compat.v1.train.AdamOptimizer(1e-3).minimize(
        loss, global_step=tf.compat.v1.train.get_or_create_global_step()
    )
    if params["metrics"] == "legacy":
        metrics = {
            "accuracy": tf.compat.v1.metrics.accuracy(labels, predicted),
            "average_confidence": builders.average_confidence(probabilities),
            "calibration_error": builders.calibration_error(labels, probabilities),
            **_reliability_diagram(labels, probabilities),
        }
    else:
        metrics = {
            "accuracy": adapter.from_keras(
                tf.keras.metrics.SparseCategoricalAccuracy(), labels, probabilities
            ),
            "average_confidence": adapter.from_keras(AverageConfidence(), None, probabilities),
            "calibration_error": adapter.from_keras(CalibrationError(), labels, probabilities),
        }
    return tf.estimator.EstimatorSpec(
        mode, predictions=predictions, loss=loss, train_op=train_op, eval_metric_ops=metrics
    )


def _reliability_diagram(labels, probabilities) -> dict:
    """{"reliability_diagram": its pair}, or {} without matplotlib: the numbers do not need
    the picture (the example then says what is missing: `_common.DIAGRAM_NOTE`)."""
    if not _common.can_draw():
        return {}
    return {"reliability_diagram": builders.reliability_diagram(labels, probabilities)}


EXAMPLE = _common.Example(
    name="classifier",
    description="A 10-class classifier on 784 generated features: accuracy, average "
    "confidence and calibration error (with the reliability diagram), with legacy or Keras "
    "metrics.",
    make_data=make_data,
    model_fn=model_fn,
    # Accuracy: float32 counters on both sides, same counts: exact. Average confidence and
    # calibration error: float64 on both sides, the same functions.
    tolerances={"accuracy": 1e-7, "average_confidence": 1e-9, "calibration_error": 1e-9},
    default_steps=300,
    draws=True,
)


def main(argv=None) -> int:
    return _common.main(EXAMPLE, argv)


if __name__ == "__main__":
    raise SystemExit(main())
