"""A regressor with a [B, 1] output and [B] labels, in classic tf.compat.v1 style.

Eval metrics: root mean squared error and mean absolute percentage error.
  legacy: tf.compat.v1.metrics.root_mean_squared_error and builders.mape, both
          given the [B] labels and the [B, 1] head as they are (both align them)
  keras:  RootMeanSquaredError and MeanAbsolutePercentageError, both through
          adapter.from_keras; MAPE gets the labels reshaped to [B, 1]

The shape trap: `labels - predictions` with labels [B] and predictions [B, 1]
broadcasts to [B, B] without an error, comparing every label with every
prediction. Keras MAE/MSE/MAPE given [B] labels average over the wrong axis.
Both modes here compute the per-example error of the same example.

Run: estimator-metrics example regressor --metrics keras
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from estimator_metrics import adapter, builders

from . import _common

NUM_FEATURES = 8
TRAIN_EXAMPLES = 2000
EVAL_EXAMPLES = 500
#: Targets are centred far from 0, so that MAPE is well defined.
TARGET_MEAN = 20.0
NOISE = 0.5


def make_data(seed: int) -> _common.Data:
    """Targets 20 + a linear and a mildly nonlinear part + noise, all in [6, 34]."""
    weights = np.random.default_rng(seed).normal(size=NUM_FEATURES)
    weights *= 2.5 / np.linalg.norm(weights)  # The linear part has std 2.5.

    def split(examples: int, part: int):
        rng = np.random.default_rng([seed, part])
        x = rng.normal(size=(examples, NUM_FEATURES))
        y = TARGET_MEAN + x @ weights + np.tanh(x[:, 0] * x[:, 1])
        y += NOISE * rng.normal(size=examples)
        # Away from 0 by construction (the linear part would need 5.6 std).
        y = np.clip(y, 6.0, 34.0)
        return {"x": x.astype(np.float32)}, y.astype(np.float32)

    return _common.Data(*split(TRAIN_EXAMPLES, 1), *split(EVAL_EXAMPLES, 2))


def model_fn(features, labels, mode, params):
    hidden = tf.compat.v1.layers.dense(features["x"], 32, activation=tf.nn.relu)
    # The output bias starts at the target mean, as one would standardize the
    # targets: the layers then only learn the deviations.
    predictions = tf.compat.v1.layers.dense(
        hidden, 1, bias_initializer=tf.compat.v1.constant_initializer(TARGET_MEAN)
    )  # [B, 1]
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"predictions": predictions})
    # labels: float32 [B]; the loss lines them up with the [B, 1] head.
    loss = tf.compat.v1.losses.mean_squared_error(tf.reshape(labels, [-1, 1]), predictions)
    train_op = tf.compat.v1.train.AdamOptimizer(1e-2).minimize(
        loss, global_step=tf.compat.v1.train.get_or_create_global_step()
    )
    if params["metrics"] == "legacy":
        metrics = {
            "rmse": tf.compat.v1.metrics.root_mean_squared_error(labels, predictions),
            "mape": builders.mape(labels, predictions),
        }
    else:
        metrics = {
            # RootMeanSquaredError squares elementwise and does not average over
            # the last axis: [B] labels with the [B, 1] head agree with v1.
            "rmse": adapter.from_keras(
                tf.keras.metrics.RootMeanSquaredError(), labels, predictions
            ),
            # MeanAbsolutePercentageError averages over the last axis: it needs
            # [B, 1] labels, or it averages over the batch (see docs/migration.md).
            "mape": adapter.from_keras(
                tf.keras.metrics.MeanAbsolutePercentageError(),
                tf.reshape(labels, [-1, 1]),
                predictions,
            ),
        }
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op, eval_metric_ops=metrics)


EXAMPLE = _common.Example(
    name="regressor",
    description="A regressor with a [B, 1] head and [B] labels: RMSE and MAPE, with legacy "
    "or Keras metrics.",
    make_data=make_data,
    model_fn=model_fn,
    # RMSE: float32 total and count on both sides, the same squared errors
    # summed the same way: exact (measured 0); 1e-6 allows a few float32 ulps
    # (6e-8 at 0.55, 2.4e-7 at 3).
    # MAPE (in percent, ~2.2): builders.mape divides and sums in float64, Keras
    # divides each error and sums the batches in float32, so they differ by
    # float32 rounding (measured 9e-8 to 1.3e-7); the float32 sums of 500 errors
    # in 8 batches stay below ~1e-6 relative. 1e-5 absolute is ~5e-6 relative.
    tolerances={"rmse": 1e-6, "mape": 1e-5},
    default_steps=300,
)


def main(argv=None) -> int:
    return _common.main(EXAMPLE, argv)


if __name__ == "__main__":
    raise SystemExit(main())
