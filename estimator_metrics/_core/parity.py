"""Side-by-side check of a graph metric pair and a Keras metric on the same batches.

Use it while migrating: run the `(value, update_op)` pair your `model_fn`
uses today and its Keras replacement over the same data, and see the largest
difference before switching.

The legacy side runs in a graph and a session of its own (`run_stream`), fed batch by batch
from placeholders; the tests use the same runner. Its `static` says how much of each input's
shape the placeholders know, as input pipelines hand tensors over: "batch" (the batch axis
None, the rest static, as `tf.data` batches), "none" (every dimension None, as
`padded_batch` or `parse_example`) or "unknown" (no shape at all: `placeholder(shape=None)`,
`tf.numpy_function`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf

from estimator_metrics._comparison import Comparison
from estimator_metrics._core.adapter import update_inputs

__all__ = ["Comparison", "ParityReport", "compare"]

Batch = Sequence[Any]  # (labels, predictions[, weights]) as NumPy arrays or None.
PairFn = Callable[..., tuple[tf.Tensor, Any]]
KerasInputs = Callable[..., tuple[Any, Any, Any]]
#: What `run_stream`'s placeholders may know of the shapes (see the module docstring).
STATIC = ("batch", "none", "unknown")


@dataclasses.dataclass(frozen=True)
class ParityReport:
    """Final values of both sides and their largest elementwise difference."""

    legacy: np.ndarray
    keras: np.ndarray
    max_abs_diff: float
    max_rel_diff: float

    def comparisons(
        self, rtol: float = 1e-6, atol: float = 0.0, *, metric: str = "value"
    ) -> list[Comparison]:
        """One `Comparison` per element, legacy left and Keras right, as `np.allclose` judges.

        Args:
          rtol: Each element accepts |legacy - keras| <= atol + rtol * |keras|; where keras
            is not finite, nothing but equality.
          atol: See `rtol`.
          metric: The name of a scalar value; an element of an array is `metric[i, ...]`.

        Returns:
          The comparisons in NumPy's element order.

        Example:
          >>> report = ParityReport(np.array([1.0, 2.0]), np.array([1.0, 2.1]), 0.1, 0.05)
          >>> for c in report.comparisons(rtol=0.01):
          ...     print(c.metric, c.verdict)
          value[0] agree (tolerance 1e-02)
          value[1] DIFFER (tolerance 2e-02)
        """
        return [
            Comparison(
                metric if self.keras.ndim == 0 else f"{metric}[{', '.join(map(str, index))}]",
                float(self.legacy[index]),
                float(self.keras[index]),
                atol + rtol * abs(float(self.keras[index]))
                if math.isfinite(self.keras[index])
                else 0.0,
            )
            for index in np.ndindex(self.keras.shape)
        ]

    def agrees(self, rtol: float = 1e-6, atol: float = 0.0) -> bool:
        """Whether every element satisfies |legacy - keras| <= atol + rtol * |keras|."""
        return all(c.agrees for c in self.comparisons(rtol, atol))

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


# ------------------------------------------------- the legacy side: one graph, one session


class StreamValues(NamedTuple):
    """The pair's value before any update and after the last, as float64 NumPy arrays."""

    before: np.ndarray
    after: np.ndarray


def placeholder(array: Any, static: str = "batch") -> tf.Tensor:
    """A placeholder for `array`'s dtype, knowing as much of its shape as `static` says."""
    if static not in STATIC:
        raise ValueError(f"Expected `static` in {STATIC}, received static={static!r}")
    array = np.asarray(array)
    if static == "unknown":
        shape = None
    elif static == "none" or array.ndim == 0:
        shape = [None] * array.ndim
    else:
        shape = [None, *array.shape[1:]]
    return tf.compat.v1.placeholder(tf.as_dtype(array.dtype), shape)


def run_stream(
    build: Callable[..., tuple[Any, Any]],
    batches: Sequence[Sequence[Any]],
    *,
    static: str = "batch",
) -> StreamValues:
    """Runs `build(*placeholders)`'s update op once per batch in a fresh graph.

    Args:
      build: Makes the `(value, update_op)` pair from one placeholder per batch element.
      batches: Tuples of arrays with the same structure; a None element stays None (e.g.
        no weights) and is not fed.
      static: How much of the shapes the placeholders know, see the module docstring.
    """
    if not batches:
        raise ValueError("Expected at least one batch, received none")
    with tf.Graph().as_default():
        inputs = [None if a is None else placeholder(a, static) for a in batches[0]]
        value, update_op = build(*inputs)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.local_variables_initializer())
            before = session.run(value)
            for i, batch in enumerate(batches):
                if len(batch) != len(inputs):
                    raise ValueError(
                        f"Expected every batch to hold {len(inputs)} arrays, as batches[0] "
                        f"does, received {len(batch)} in batches[{i}]"
                    )
                session.run(update_op, {p: a for p, a in zip(inputs, batch) if p is not None})
            after = session.run(value)
    return StreamValues(np.asarray(before, np.float64), np.asarray(after, np.float64))
