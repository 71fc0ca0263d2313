"""What every Keras twin shares: registration, the backend and XLA guards, float64 state.

Written against what Keras 2 (tf.keras of TF 2.12-2.15) and Keras 3 (TF 2.16+) share:
`add_weight` with keywords only (Keras 2 takes `name` first, Keras 3 `shape`), state that may
be built on the first update, and the TensorFlow backend, since the increments the twins add
are the builders' TensorFlow ops.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

try:  # Private, in TensorFlow since 1.x (checked by the tests on every line).
    from tensorflow.python.ops.control_flow_util import GraphOrParentsInXlaContext
except ImportError:  # pragma: no cover
    GraphOrParentsInXlaContext = None

from estimator_metrics._core.state import STATE_DTYPE

#: The package name the twins are registered under for Keras serialization.
PACKAGE = "estimator_metrics"


def register(cls: type) -> type:
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


class Twin(tf.keras.metrics.Metric):
    """Float64 state, `result()` cast to `dtype`, `reset_state` to zeros; `update_state`
    checks where it runs and calls `_update`."""

    def __init__(self, name: str, dtype: Any) -> None:
        _require_tensorflow_backend(type(self).__name__)
        super().__init__(name=name, dtype=dtype)

    def _add_state(self, name: str, shape: list[int]) -> Any:
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
