"""What the Keras of this TensorFlow line has: tests skip by feature, never by version."""

from __future__ import annotations

import pytest
import tensorflow as tf


def needs_keras(*names):
    """Skips a test where tf.keras.metrics lacks a class it uses (F1Score, FBetaScore,
    R2Score: Keras >= 2.13)."""
    missing = [name for name in names if not hasattr(tf.keras.metrics, name)]
    return pytest.mark.skipif(bool(missing), reason=f"tf.keras.metrics has no {missing}")


def stock_estimator_takes_fbeta() -> bool:
    """Whether stock `EstimatorSpec` takes a `tf.keras.metrics.FBetaScore` object.

    It needs the class (Keras >= 2.13) and an update op recorded by its graph-mode
    `update_state` (`metric.updates`, what EstimatorSpec runs): Keras 2.13's records
    none, and EstimatorSpec refuses the metric ("Please call update_state(...)").
    """
    if not hasattr(tf.keras.metrics, "FBetaScore"):
        return False
    with tf.Graph().as_default():
        metric = tf.keras.metrics.FBetaScore(average="micro", threshold=0.5)
        metric.update_state([[1.0, 0.0]], [[0.9, 0.2]])
        return bool(metric.updates)
