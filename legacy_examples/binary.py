"""A binary classifier with two logits [B, 2] on imbalanced data (30% positives).

Eval metrics: F-beta (beta=0.5, positive class 1, from the argmax of the two
columns) and accuracy.
  legacy: builders.fbeta(labels, probabilities, beta=0.5, num_classes=2) and
          tf.compat.v1.metrics.accuracy(labels, argmax)
  keras:  FBetaScore(beta=0.5, average=None, threshold=None) on one-hot labels
          [B, 2] and the probabilities [B, 2], element 1 of its per-class
          value; SparseCategoricalAccuracy; all through adapter.from_keras

Why these Keras arguments: `threshold=None` predicts each row's top column,
that is the argmax of the two softmax columns, and `average=None` keeps one
F-beta per column; column 1 counts exactly the true positives, false positives
and false negatives of class 1. (`average="micro"` would pool both columns,
which is accuracy, not F-beta of class 1.) The one difference: a row whose two
probabilities are exactly equal is predicted as both classes by Keras and as
class 0 by argmax; trained softmax outputs do not tie in practice.

Run: estimator-metrics example binary --metrics keras
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from estimator_metrics import adapter, builders

from . import _common

NUM_FEATURES = 10
POSITIVE_RATE = 0.3
BETA = 0.5
TRAIN_EXAMPLES = 3000
EVAL_EXAMPLES = 1000


def make_data(seed: int) -> _common.Data:
    """Two overlapping Gaussian classes; 30% of the examples are positive (class 1)."""
    direction = np.random.default_rng(seed).normal(size=NUM_FEATURES)
    direction /= np.linalg.norm(direction)

    def split(examples: int, part: int):
        rng = np.random.default_rng([seed, part])
        labels = (rng.random(examples) < POSITIVE_RATE).astype(np.int64)
        # Class means 2.4 apart along `direction`, unit noise: about 90% of the
        # examples can be classified right, positives less often than negatives.
        x = rng.normal(size=(examples, NUM_FEATURES)) + np.outer(labels * 2.4 - 1.2, direction)
        return {"x": x.astype(np.float32)}, labels

    return _common.Data(*split(TRAIN_EXAMPLES, 1), *split(EVAL_EXAMPLES, 2))


def model_fn(features, labels, mode, params):
    hidden = tf.compat.v1.layers.dense(features["x"], 16, activation=tf.nn.relu)
    logits = tf.compat.v1.layers.dense(hidden, 2)  # [B, 2]
    probabilities = tf.nn.softmax(logits)
    predicted = tf.argmax(logits, axis=1)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(
            mode, predictions={"class": predicted, "probabilities": probabilities}
        )
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, logits)
    train_op = tf.compat.v1.train.AdamOptimizer(1e-2).minimize(
        loss, global_step=tf.compat.v1.train.get_or_create_global_step()
    )
    if params["metrics"] == "legacy":
        metrics = {
            # num_classes=2 with float [B, 2] scores: argmax, positive class 1.
            "fbeta": builders.fbeta(labels, probabilities, beta=BETA, num_classes=2),
            "accuracy": tf.compat.v1.metrics.accuracy(labels, predicted),
        }
    else:
        # Per-class [2] value; class 1's element shares the metric's update op.
        fbeta_per_class, fbeta_update = adapter.from_keras(
            tf.keras.metrics.FBetaScore(beta=BETA, average=None, threshold=None),
            tf.one_hot(labels, 2),  # float32 [B, 2]: FBetaScore needs float labels.
            probabilities,
        )
        metrics = {
            "fbeta": (fbeta_per_class[1], fbeta_update),
            "accuracy": adapter.from_keras(
                tf.keras.metrics.SparseCategoricalAccuracy(), labels, probabilities
            ),
        }
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op, eval_metric_ops=metrics)


EXAMPLE = _common.Example(
    name="binary",
    description="A binary classifier with two logits on 30%-positive data: F-beta (beta=0.5) "
    "and accuracy, with legacy or Keras metrics.",
    make_data=make_data,
    model_fn=model_fn,
    # F-beta: the same integer counts on both sides (float64 in builders.fbeta,
    # float32 in Keras, exact below 2**24); only the final formula is
    # evaluated in float64 vs float32: a few float32 ulps of a value < 1.
    # Accuracy: float32 counters on both sides, same counts: exact.
    tolerances={"fbeta": 1e-6, "accuracy": 1e-7},
    default_steps=300,
    keras_classes=("FBetaScore",),
)


def main(argv=None) -> int:
    return _common.main(EXAMPLE, argv)


if __name__ == "__main__":
    raise SystemExit(main())
