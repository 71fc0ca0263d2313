"""Side-by-side check of a graph metric pair and a Keras metric on the same batches.

Use it while migrating: run the `(value, update_op)` pair your `model_fn`
uses today and its Keras replacement over the same data, and see the largest
difference before switching.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from estimator_metrics._core.adapter import update_inputs
from estimator_metrics._core.session import run_stream

__all__ = ["ParityReport", "compare"]

Batch = Sequence[Any]  # (labels, predictions[, weights]) as NumPy arrays or None.
PairFn = Callable[..., tuple[tf.Tensor, Any]]
KerasInputs = Callable[..., tuple[Any, Any, Any]]


@dataclasses.dataclass(frozen=True)
class ParityReport:
    """Final values of both sides and their largest elementwise difference."""

    legacy: np.ndarray
    keras: np.ndarray
    max_abs_diff: float
    max_rel_diff: float

    def agrees(self, rtol: float = 1e-6, atol: float = 0.0) -> bool:
        """Whether every element satisfies |legacy - keras| <= atol + rtol * |keras|."""
        return bool(np.allclose(self.legacy, self.keras, rtol=rtol, atol=atol, equal_nan=False))

    def __str__(self) -> str:
        return (
            f"legacy={np.array2string(self.legacy, precision=8)} "
            f"keras={np.array2string(self.keras, precision=8)} "
            f"max|diff|={self.max_abs_diff:.3g} max rel diff={self.max_rel_diff:.3g}"
        )


def compare(
    pair_fn: PairFn,
    keras_metric: tf.keras.metrics.Metric | Callable[[], tf.keras.metrics.Metric],
    batches: Sequence[Batch],
    *,
    keras_inputs: KerasInputs | None = None,
) -> ParityReport:
    """Runs both metrics over `batches` and reports their largest difference.

    Args:
      pair_fn: Builds the legacy pair from placeholder tensors, one per batch
        element, e.g. `lambda y, p, w: builders.mape(y, p, weights=w)`; it is
        called once in a fresh graph and its `update_op` runs per batch.
      keras_metric: A Keras metric, or a zero-argument factory of one; it is
        reset and updated eagerly, once per batch.
      batches: Tuples of NumPy arrays (or None, e.g. for absent weights),
        all with the same structure; the first axis is the batch axis.
      keras_inputs: Maps one batch to `(y_true, y_pred, sample_weight)` for
        the Keras metric (e.g. one-hot labels); by default the batch's first
        three elements (weights None if absent). As with `adapter.from_keras`,
        a metric whose `update_state` takes one input (Mean, Sum) gets
        `y_pred`, and `y_true` must be None.

    Returns:
      A `ParityReport` of both final values (float64) and their differences.

    Example:
      >>> import numpy as np, tensorflow as tf
      >>> from estimator_metrics import builders, parity
      >>> batches = [(np.array([2.0, 4.0]), np.array([1.0, 5.0]))]
      >>> report = parity.compare(lambda y, p: builders.mape(y, p),
      ...                         tf.keras.metrics.MeanAbsolutePercentageError(), batches)
      >>> report.agrees(rtol=1e-6), float(report.legacy)
      (True, 37.5)
    """
    if not batches:
        raise ValueError("Expected at least one batch, received none")
    legacy = run_stream(pair_fn, batches).after
    keras = _run_keras(keras_metric, batches, keras_inputs)
    if legacy.shape != keras.shape:
        raise ValueError(
            f"The two sides give values of different shapes: legacy {legacy.shape}, "
            f"keras {keras.shape}"
        )
    diff = np.abs(legacy - keras)
    rel = np.divide(diff, np.abs(keras), out=np.where(diff > 0, np.inf, 0.0), where=keras != 0)
    return ParityReport(
        legacy, keras, float(np.max(diff, initial=0.0)), float(np.max(rel, initial=0.0))
    )


def _run_keras(keras_metric, batches: Sequence[Batch], keras_inputs) -> np.ndarray:
    with tf.init_scope():  # Keras' side runs eagerly even if called in a graph.
        metric = (
            keras_metric if isinstance(keras_metric, tf.keras.metrics.Metric) else keras_metric()
        )
        metric.reset_state()
        for batch in batches:
            y_true, y_pred, weights = (
                keras_inputs(*batch) if keras_inputs else (*batch[:2], _third(batch))
            )
            # As in from_keras: update_state(values) metrics take y_pred.
            metric.update_state(*update_inputs(metric, y_true, y_pred), sample_weight=weights)
        return np.asarray(metric.result(), dtype=np.float64)


def _third(batch: Batch):
    return batch[2] if len(batch) > 2 else None
