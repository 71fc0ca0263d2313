"""A graph-mode custom loss with data-dependent masking, in classic tf.compat.v1 style.

A linear regressor whose labels are missing (NaN) for about a quarter of the
examples. The loss is the mean squared error over the examples that have a
label, the mask being computed from the data with TF ops (`tf.math.is_finite`)
inside the graph: gradients flow through it without eager execution.

Masking labels that are NaN takes two `tf.where`s. A single
`tf.where(mask, tf.square(predictions - labels), 0)` has the right value but
NaN gradients: the gradient of the discarded branch is 0, and 0 times the
NaN derivative of `tf.square(predictions - NaN)` is NaN. So the labels are
made safe (NaN -> 0) before the error is computed, and the error is then
masked (`masked_loss`).

The pitfall beside it (`numpy_step_loss`, `params["loss"] = "numpy_step"`):
the same loss with its squared error computed by NumPy in `tf.numpy_function`
has no gradient at all (TF cannot differentiate NumPy code, and
`tf.compat.v1.gradients` returns None). The model_fn adds an L2 penalty on the
kernel, so training still runs without an error: the kernel only decays, and
the bias, reachable only through the NumPy step, never moves.

Eval metrics: mean absolute error over the labelled examples (weights = mask).
  legacy: tf.compat.v1.metrics.mean_absolute_error(safe labels, head, mask)
  keras:  MeanAbsoluteError with [B, 1] safe labels and sample_weight=mask,
          through adapter.from_keras

Run: estimator-metrics example custom_loss --metrics keras
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from estimator_metrics import adapter

from . import _common

NUM_FEATURES = 6
TRAIN_EXAMPLES = 2000
EVAL_EXAMPLES = 500
MISSING_RATE = 0.25
NOISE = 0.3
L2 = 1e-3
LEARNING_RATE = 0.05
LOSSES = ("masked", "numpy_step")


def make_data(seed: int) -> _common.Data:
    """Linear targets (bias 3) with noise; a quarter of the labels are NaN."""
    weights = np.random.default_rng(seed).normal(size=NUM_FEATURES)
    weights *= 2.0 / np.linalg.norm(weights)  # x @ weights has std 2.

    def split(examples: int, part: int):
        rng = np.random.default_rng([seed, part])
        x = rng.normal(size=(examples, NUM_FEATURES))
        y = x @ weights + 3.0 + NOISE * rng.normal(size=examples)
        y[rng.random(examples) < MISSING_RATE] = np.nan  # Missing labels.
        return {"x": x.astype(np.float32)}, y.astype(np.float32)

    return _common.Data(*split(TRAIN_EXAMPLES, 1), *split(EVAL_EXAMPLES, 2))


def label_mask(labels: tf.Tensor) -> tf.Tensor:
    """bool [B]: the examples whose label is present (finite)."""
    return tf.math.is_finite(labels)


def safe_labels(labels: tf.Tensor) -> tf.Tensor:
    """`labels` with every missing label replaced by 0 (then masked out)."""
    return tf.where(label_mask(labels), labels, tf.zeros_like(labels))


def masked_loss(labels: tf.Tensor, predictions: tf.Tensor) -> tf.Tensor:
    """Mean squared error over the labelled examples; 0.0 if there are none.

    Args:
      labels: float32 [B], NaN (or +-inf) where the label is missing.
      predictions: float32 [B, 1] (or [B]).
    """
    mask = label_mask(labels)
    errors = tf.square(tf.reshape(predictions, [-1]) - safe_labels(labels))
    errors = tf.where(mask, errors, tf.zeros_like(errors))
    return tf.math.divide_no_nan(
        tf.reduce_sum(errors), tf.reduce_sum(tf.cast(mask, errors.dtype)), name="masked_loss"
    )


def _numpy_masked_squared_error(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    mask = np.isfinite(labels)
    errors = np.square(predictions.reshape(-1)[mask] - labels[mask])
    return np.asarray(errors.mean() if mask.any() else 0.0, dtype=np.float32)


def numpy_step_loss(labels: tf.Tensor, predictions: tf.Tensor) -> tf.Tensor:
    """`masked_loss`'s value, computed by NumPy: it has no gradient.

    `tf.numpy_function` runs NumPy on the values; TF cannot differentiate
    it, so nothing before it gets a gradient from this loss.
    """
    loss = tf.numpy_function(
        _numpy_masked_squared_error, [labels, predictions], tf.float32, name="numpy_step_loss"
    )
    return tf.ensure_shape(loss, [])


def l2_penalty(kernel: tf.Tensor) -> tf.Tensor:
    """The kernel's L2 penalty (the bias has none)."""
    return L2 * tf.reduce_sum(tf.square(kernel))


def model_fn(features, labels, mode, params):
    predictions = tf.compat.v1.layers.dense(
        features["x"], 1, kernel_regularizer=l2_penalty, name="linear"
    )  # [B, 1]
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"predictions": predictions})
    # params["loss"] (optional): "masked" (default), or "numpy_step" for the pitfall.
    kind = params.get("loss", "masked")
    if kind not in LOSSES:
        raise ValueError(f"Expected params['loss'] in {LOSSES}, received {kind!r}")
    data_loss = masked_loss if kind == "masked" else numpy_step_loss
    loss = data_loss(labels, predictions) + tf.compat.v1.losses.get_regularization_loss()
    train_op = tf.compat.v1.train.GradientDescentOptimizer(LEARNING_RATE).minimize(
        loss, global_step=tf.compat.v1.train.get_or_create_global_step()
    )
    # Metrics on the labelled examples: weights = mask, and the labels made
    # safe first, as 0 * |NaN - p| is NaN.
    mask = tf.cast(label_mask(labels), tf.float32)
    if params["metrics"] == "legacy":
        metrics = {
            "mae": tf.compat.v1.metrics.mean_absolute_error(
                safe_labels(labels), predictions, weights=mask
            ),
        }
    else:
        metrics = {
            # MeanAbsoluteError averages over the last axis: [B, 1] labels.
            "mae": adapter.from_keras(
                tf.keras.metrics.MeanAbsoluteError(),
                tf.reshape(safe_labels(labels), [-1, 1]),
                predictions,
                sample_weight=mask,
            ),
        }
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op, eval_metric_ops=metrics)


EXAMPLE = _common.Example(
    name="custom_loss",
    description="A linear regressor whose loss masks missing (NaN) labels with graph ops: "
    "MAE over the labelled examples, with legacy or Keras metrics.",
    make_data=make_data,
    model_fn=model_fn,
    # MAE: float32 total and count on both sides, the same weighted absolute
    # errors summed the same way: exact (measured 0); 1e-7 allows a few float32
    # ulps (1.5e-8 at 0.23).
    tolerances={"mae": 1e-7},
    default_steps=300,
)


def main(argv=None) -> int:
    return _common.main(EXAMPLE, argv)


if __name__ == "__main__":
    raise SystemExit(main())
