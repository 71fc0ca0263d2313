"""Keras twins of the builders: the same value, checks and messages, on Keras 2 and Keras 3.

Each twin calls its builder's own pieces: the argument checks (`fbeta_options`,
`mape_epsilon`), the per-batch increments of the float64 state (`fbeta_increment`,
`mape_increments`, `confidence_increments`) and the value from the state
(`FBetaOptions.from_counts`, `mape_from_state`, `confidence_from_state`). They are written
against what Keras 2 (tf.keras of TF 2.12-2.15) and Keras 3 (TF 2.16+) share: `add_weight`
with keywords only (Keras 2 takes `name` first, Keras 3 `shape`), state that may be built
on the first update, and the TensorFlow backend, since the increments are TensorFlow ops.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

try:  # Private, in TensorFlow since 1.x (checked by the tests on every line).
    from tensorflow.python.ops.control_flow_util import GraphOrParentsInXlaContext
except ImportError:  # pragma: no cover
    GraphOrParentsInXlaContext = None

from estimator_metrics._core.confidence import confidence_from_state, confidence_increments
from estimator_metrics._core.fbeta import COUNTS, fbeta_increment, fbeta_options
from estimator_metrics._core.keys import MetricKeys
from estimator_metrics._core.mape import mape_epsilon, mape_from_state, mape_increments
from estimator_metrics._core.state import STATE_DTYPE

__all__ = ["MAPE", "AverageConfidence", "FBeta"]

#: The package name the twins are registered under for Keras serialization.
PACKAGE = "estimator_metrics"


def _register(cls: type) -> type:
    """Registers `cls` for Keras serialization as "estimator_metrics>Name".

    `keras.saving.register_keras_serializable` (Keras 3, and Keras 2 from 2.12 on), else
    `keras.utils.register_keras_serializable` (older Keras 2).
    """
    saving = getattr(tf.keras, "saving", None)
    register = getattr(saving, "register_keras_serializable", None)
    return (register or tf.keras.utils.register_keras_serializable)(package=PACKAGE)(cls)


def _require_tensorflow_backend(twin: str) -> None:
    """RuntimeError where Keras 3 runs another backend: the updates are TensorFlow ops."""
    backend = tf.keras.backend.backend()
    if backend != "tensorflow":
        raise RuntimeError(
            f"estimator_metrics.keras_metrics.{twin} runs on the TensorFlow backend only (its "
            f"updates are the TensorFlow ops of the builder it twins); Keras runs the "
            f"{backend!r} backend. Set KERAS_BACKEND=tensorflow."
        )


def _refuse_xla(twin: str) -> None:
    """RuntimeError while traced for XLA, which drops the run-time input checks (`Assert`):
    bad input would give a wrong number without a word (e.g. class ids out of range count
    nowhere)."""
    graph = tf.compat.v1.get_default_graph()
    if GraphOrParentsInXlaContext is not None and GraphOrParentsInXlaContext(graph):
        raise RuntimeError(
            f"estimator_metrics.keras_metrics.{twin} cannot run compiled with XLA: XLA drops "
            "the Assert ops that check its inputs at run time. Compile the model with "
            "jit_compile=False (Keras 3's default jit_compile='auto' picks XLA where a GPU "
            "is visible), or call the metric outside tf.function(jit_compile=True)."
        )


class _Twin(tf.keras.metrics.Metric):
    """Float64 state, `result()` cast to `dtype`, `reset_state` to zeros; `update_state`
    checks where it runs and calls `_update`."""

    def __init__(self, name: str, dtype: Any) -> None:
        _require_tensorflow_backend(type(self).__name__)
        super().__init__(name=name, dtype=dtype)

    def _add_state(self, name: str, shape: list[int]):
        # Keywords only: the first positional parameter is `name` in Keras 2, `shape` in
        # Keras 3. Under init_scope a state built on the first update inside a tf.function
        # (model.evaluate) is created once, outside it (Keras 2's add_weight does so
        # itself, Keras 3's does not).
        with tf.init_scope():
            return self.add_weight(name=name, shape=shape, initializer="zeros", dtype=STATE_DTYPE)

    # Not converted by AutoGraph: it branches in Python only (on what the arguments and
    # static shapes settle); conversion would slow tracing and, where Keras 2 converts it
    # (eagerly too), wrap the builder's own errors in "in user code:" tracebacks.
    @tf.autograph.experimental.do_not_convert
    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any | None = None) -> None:
        """Adds one batch: `y_true`, `y_pred` and `sample_weight` are the builder's `labels`,
        `predictions` and `weights`, checked as there."""
        _refuse_xla(type(self).__name__)
        self._update(y_true, y_pred, sample_weight)

    def _update(self, y_true, y_pred, sample_weight) -> None:
        raise NotImplementedError

    def reset_state(self) -> None:
        for variable in self.variables:
            variable.assign(tf.zeros(variable.shape, STATE_DTYPE))

    def _cast(self, value: tf.Tensor) -> tf.Tensor:
        return tf.cast(value, self.dtype)


class _TotalCount(_Twin):
    """A weighted mean: float64 `total` and `count`, added by the builder's increments."""

    def __init__(self, name: str, dtype: Any) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self._add_state("total", [])
        self.count = self._add_state("count", [])

    def _increments(self, y_true, y_pred, sample_weight) -> list[tf.Tensor]:
        raise NotImplementedError

    def _update(self, y_true, y_pred, sample_weight) -> None:
        total, count = self._increments(y_true, y_pred, sample_weight)
        self.total.assign_add(total)
        self.count.assign_add(count)


@_register
class AverageConfidence(_TotalCount):
    """Weighted mean over examples of the largest class probability.

    The Keras twin of `builders.average_confidence`: same value, same input
    checks and messages, float64 state (exact for integer weights up to 2**53).
    `update_state(y_true, y_pred, sample_weight=None)` takes probabilities `y_pred`
    [B, C] (C >= 2); `y_true` is accepted for the Keras signature and ignored.

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

    def __init__(self, name: str = MetricKeys.AVERAGE_CONFIDENCE, dtype: Any = "float64") -> None:
        super().__init__(name=name, dtype=dtype)

    def _increments(self, y_true, y_pred, sample_weight) -> list[tf.Tensor]:
        del y_true  # The confidence of a prediction does not depend on the label.
        return confidence_increments(y_pred, sample_weight)

    def result(self) -> tf.Tensor:
        return self._cast(confidence_from_state(self.total, self.count))

    def get_config(self) -> dict:
        return super().get_config()  # name and dtype: all there is to configure.


@_register
class MAPE(_TotalCount):
    """Mean absolute percentage error, in percent: the Keras twin of `builders.mape`.

    result = 100 * sum(w * |y - p| / max(|y|, epsilon)) / sum(w) over every batch, with
    `builders.mape`'s input checks and messages (which call `y_true` `labels`, `y_pred`
    `predictions` and `sample_weight` `weights`) and float64 state. `y_pred` has the
    shape of `y_true` up to a trailing axis of 1: unlike Keras'
    `MeanAbsolutePercentageError`, `y_true` [B] and `y_pred` [B, 1] are aligned per example.

    Args:
      epsilon: Floor of |y| in the denominator (Keras uses 1e-7), > 0.
      name: Metric name.
      dtype: dtype of `result()`; the state is always float64.

    Example:
      >>> from estimator_metrics.keras_metrics import MAPE
      >>> metric = MAPE()
      >>> metric.update_state([100.0, 200.0], [[110.0], [150.0]], sample_weight=[3.0, 1.0])
      >>> round(float(metric.result()), 4)
      13.75
    """

    def __init__(
        self, *, epsilon: float = 1e-7, name: str = MetricKeys.MAPE, dtype: Any = "float64"
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.epsilon = mape_epsilon(epsilon)

    def _increments(self, y_true, y_pred, sample_weight) -> list[tf.Tensor]:
        return mape_increments(y_true, y_pred, sample_weight, epsilon=self.epsilon)

    def result(self) -> tf.Tensor:
        return self._cast(mape_from_state(self.total, self.count))

    def get_config(self) -> dict:
        return {**super().get_config(), "epsilon": self.epsilon}


@_register
class FBeta(_Twin):
    """Streaming F-beta score: the Keras twin of `builders.fbeta`.

    The same options, defaults, modes and input layouts as `builders.fbeta` (see its
    docstring): `y_true` are its `labels`, `y_pred` its `predictions` and
    `sample_weight` its `weights`, and the input checks are its own, with its messages
    (which name `labels`, `predictions` and `weights`). The state is the same float64
    `counts`, [3, C] per class (tp, fp, fn) or [3] for average="binary".

    With `multilabel=True` and no `num_classes`, C is the static width of the first
    batch's `y_true` or `y_pred` and `counts` is built then (in `model.evaluate`, when
    Keras traces the first step). A width unknown statically needs `num_classes`
    (ValueError saying so). Until then `result()` is 0.0, or for average=None
    `len(classes)` zeros (an empty vector without `classes`).

    Args:
      beta: Weight of recall against precision, > 0.
      num_classes: Number of classes C; needed for multiclass.
      average: "binary", "micro", "macro", "weighted", or None (per-class [C]).
      classes: Optional class ids to report on, as in `builders.fbeta`.
      threshold: Probability cut-off in (0, 1) for probability predictions.
      multilabel: Whether each example may belong to several classes.
      name: Metric name.
      dtype: dtype of `result()`; the state is always float64.

    Example:
      >>> from estimator_metrics.keras_metrics import FBeta
      >>> f1 = FBeta()
      >>> f1.update_state([1, 0, 1, 1], [0.9, 0.6, 0.4, 0.8])
      >>> round(float(f1.result()), 4)
      0.6667
      >>> macro = FBeta(num_classes=3, average="macro", classes=[0, 2])
      >>> macro.update_state([0, 2, 1], [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.3, 0.2]])
      >>> round(float(macro.result()), 4)
      0.8333
    """

    def __init__(
        self,
        *,
        beta: float = 1.0,
        num_classes: int | None = None,
        average: str | None = "binary",
        classes: Any = None,
        threshold: float = 0.5,
        multilabel: bool = False,
        name: str = MetricKeys.FBETA,
        dtype: Any = "float64",
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self._options = fbeta_options(
            beta=beta,
            num_classes=num_classes,
            average=average,
            classes=classes,
            threshold=threshold,
            multilabel=multilabel,
        )
        # The options `counts` is computed with: these, with C once the data has shown it.
        self._settled = self._options if self._options.state_shape else None
        self.counts = self._add_state(COUNTS, self._settled.state_shape) if self._settled else None

    def _update(self, y_true, y_pred, sample_weight) -> None:
        increment = fbeta_increment(y_true, y_pred, sample_weight, self._settled or self._options)
        if self.counts is None:  # Multilabel without num_classes: C from this batch.
            self._settled = self._options.for_increment(increment)
            self.counts = self._add_state(COUNTS, self._settled.state_shape)
        self.counts.assign_add(increment)

    def result(self) -> tf.Tensor:
        if self.counts is None:  # No batch yet, so no C.
            classes = self._options.classes or ()
            return self._cast(tf.zeros([len(classes)] if self._options.average is None else []))
        return self._cast(self._settled.from_counts(self.counts))

    def get_config(self) -> dict:
        options = self._options
        return {
            **super().get_config(),
            "beta": options.beta,
            "num_classes": options.num_classes,
            "average": options.average,
            "classes": None if options.classes is None else list(options.classes),
            "threshold": options.threshold,
            "multilabel": options.multilabel,
        }
