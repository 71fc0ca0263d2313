"""TF2 Keras metrics with the semantics of our builders, for migrated code."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from estimator_metrics._core.confidence import confidence_increments
from estimator_metrics._core.state import STATE_DTYPE

__all__ = ["AverageConfidence"]


@tf.keras.utils.register_keras_serializable(package="estimator_metrics")
class AverageConfidence(tf.keras.metrics.Metric):
    """Weighted mean over examples of the largest class probability.

    The Keras twin of `builders.average_confidence`: same value, same input
    checks, float64 state (exact for integer weights up to 2**53). `y_true`
    is accepted for the Keras signature and ignored.

    Args:
      name: Metric name.
      dtype: dtype of `result()`; the state is always float64.

    Example:
      >>> from estimator_metrics.keras_metrics import AverageConfidence
      >>> metric = AverageConfidence()
      >>> metric.update_state(None, [[0.9, 0.1], [0.3, 0.7]], sample_weight=[1.0, 3.0])
      >>> round(float(metric.result()), 4)
      0.75
    """

    def __init__(self, name: str = "average_confidence", dtype: Any = "float64"):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_weight("total", initializer="zeros", dtype=STATE_DTYPE)
        self.count = self.add_weight("count", initializer="zeros", dtype=STATE_DTYPE)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any | None = None):
        """Adds one batch of probabilities `y_pred` [B, C] (C >= 2)."""
        del y_true  # The confidence of a prediction does not depend on the label.
        total, count = confidence_increments(y_pred, sample_weight)
        self.total.assign_add(total)
        self.count.assign_add(count)

    def result(self) -> tf.Tensor:
        return tf.cast(tf.math.divide_no_nan(self.total, self.count), self.dtype)

    def reset_state(self) -> None:
        for variable in (self.total, self.count):
            variable.assign(tf.zeros_like(variable))

    def get_config(self) -> dict:
        return super().get_config()  # name and dtype: all there is to configure.
