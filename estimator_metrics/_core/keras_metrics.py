"""Keras twins of the builders: the same value, checks and messages, on Keras 2 and Keras 3.

Each twin calls its builder's own pieces: the argument checks (`confusion_options`,
`mape_epsilon`, `mape_multioutput`, `calibration_options`), the per-batch increments of the
float64 state (`confusion_increment`, `mape_increments`, `confidence_increments`,
`calibration_increment`) and the value from the state (`scores`, `mape_from_state`,
`confidence_from_state`, `calibration_from_bins`); what they share as Keras metrics is
`keras_twin`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from estimator_metrics._core import diagram as _diagram
from estimator_metrics._core import keras_twin as _twin
from estimator_metrics._core import scores as _scores
from estimator_metrics._core.calibration import (
    BINS,
    calibration_from_bins,
    calibration_increment,
    calibration_options,
)
from estimator_metrics._core.confidence import confidence_from_state, confidence_increments
from estimator_metrics._core.confusion import COUNTS, confusion_increment, confusion_options
from estimator_metrics._core.keys import MetricKeys
from estimator_metrics._core.mape import (
    STATE,
    mape_epsilon,
    mape_from_state,
    mape_increments,
    mape_multioutput,
)

__all__ = ["MAPE", "AverageConfidence", "CalibrationError", "FBeta", "Precision", "Recall"]


class _TotalCount(_twin.Twin):
    """A weighted mean: float64 `total` and `count`, added by the builder's increments.

    Their `shape` is [] or [K]; None builds them on the first update, from the static
    shape of its increments (`MAPE` per output column, K read from the data).
    """

    def __init__(self, name: str, dtype: Any, shape: list[int] | None = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.count = None
        if shape is not None:
            self.total, self.count = (self._add_state(key, shape) for key in STATE)

    def _increments(self, y_true, y_pred, sample_weight) -> list[tf.Tensor]:
        raise NotImplementedError

    def _update(self, y_true, y_pred, sample_weight) -> None:
        total, count = self._increments(y_true, y_pred, sample_weight)
        if self.total is None:
            self.total, self.count = (
                self._add_state(key, increment.shape.as_list())
                for key, increment in zip(STATE, (total, count))
            )
        self.total.assign_add(total)
        self.count.assign_add(count)


@_twin.register
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
        super().__init__(name=name, dtype=dtype, shape=[])

    def _increments(self, y_true, y_pred, sample_weight) -> list[tf.Tensor]:
        del y_true  # The confidence of a prediction does not depend on the label.
        return confidence_increments(y_pred, sample_weight)

    def result(self) -> tf.Tensor:
        return self._cast(confidence_from_state(self.total, self.count))

    def get_config(self) -> dict[str, Any]:
        return super().get_config()  # name and dtype: all there is to configure.


@_twin.register
class MAPE(_TotalCount):
    """Mean absolute percentage error, in percent: the Keras twin of `builders.mape`.

    result = 100 * sum(w * |y - p| / max(|y|, epsilon)) / sum(w) over every batch, with
    `builders.mape`'s options, input checks and messages (which call `y_true` `labels`,
    `y_pred` `predictions` and `sample_weight` `weights`) and float64 state. `y_pred` has
    the shape of `y_true` up to a trailing axis of 1: unlike Keras'
    `MeanAbsolutePercentageError`, `y_true` [B] and `y_pred` [B, 1] are aligned per example.
    With `multioutput="raw_values"` the state is built on the first update, K wide (the
    static last axis of its `y_true` or `y_pred`); until then `result()` is an empty vector.

    Args:
      epsilon: Floor of |y| in the denominator (Keras uses 1e-7), > 0.
      multioutput: "uniform_average", "raw_values" ([K] errors) or K column weights, as
        in `builders.mape`.
      name: Metric name.
      dtype: dtype of `result()`; the state is always float64.

    Example:
      >>> from estimator_metrics.keras_metrics import MAPE
      >>> metric = MAPE()
      >>> metric.update_state([100.0, 200.0], [[110.0], [150.0]], sample_weight=[3.0, 1.0])
      >>> round(float(metric.result()), 4)
      13.75
      >>> per_column = MAPE(multioutput=[3.0, 1.0])
      >>> per_column.update_state([[100.0, 10.0], [200.0, 20.0]], [[110.0, 10.0], [150.0, 25.0]])
      >>> round(float(per_column.result()), 4)
      16.25
    """

    def __init__(
        self,
        *,
        epsilon: float = 1e-7,
        multioutput: str | Sequence[float] = "uniform_average",
        name: str = MetricKeys.MAPE,
        dtype: Any = "float64",
    ) -> None:
        epsilon = mape_epsilon(epsilon)
        multioutput = mape_multioutput(multioutput)
        shape = [] if multioutput == "uniform_average" else None
        if not isinstance(multioutput, str):
            shape = [len(multioutput)]
        super().__init__(name=name, dtype=dtype, shape=shape)
        self.epsilon, self.multioutput = epsilon, multioutput

    def _increments(self, y_true, y_pred, sample_weight) -> list[tf.Tensor]:
        return mape_increments(
            y_true, y_pred, sample_weight, epsilon=self.epsilon, multioutput=self.multioutput
        )

    def result(self) -> tf.Tensor:
        if self.total is None:  # "raw_values" before any batch: no K yet.
            return self._cast(tf.zeros([0]))
        return self._cast(mape_from_state(self.total, self.count, self.multioutput))

    def get_config(self) -> dict[str, Any]:
        multioutput = self.multioutput
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "multioutput": multioutput if isinstance(multioutput, str) else list(multioutput),
        }


class _Confusion(_twin.Twin):
    """A twin of the confusion family: the builders' `counts` state, one of its `scores`.

    With `multilabel=True` and no `num_classes`, C is the static width of the first batch's
    `y_true` or `y_pred` (a width unknown statically needs `num_classes`: ValueError saying
    so), and `counts` is built then (in `model.evaluate`, when Keras traces the first
    step), except for average="samples", whose state does not depend on C.
    """

    #: The score this twin reports (a key of `scores.METRICS`).
    METRIC = ""

    def __init__(self, name: str, dtype: Any, **options: Any) -> None:
        super().__init__(name=name, dtype=dtype)
        self._options = confusion_options(**options)
        # The options `counts` is computed with: these, with C once the data has shown it.
        settled = self._options.num_classes is not None or not self._options.multilabel
        self._settled = self._options if settled else None
        shape = self._options.state_shape
        self.counts = self._add_state(COUNTS, shape) if shape else None

    def _update(self, y_true, y_pred, sample_weight) -> None:
        increment, settled = confusion_increment(
            y_true, y_pred, sample_weight, self._settled or self._options
        )
        self._settled = settled
        if self.counts is None:  # Multilabel without num_classes: C from this batch.
            self.counts = self._add_state(COUNTS, settled.state_shape)
        self.counts.assign_add(increment)

    def result(self) -> tf.Tensor:
        options = self._settled or self._options
        if self.counts is None:  # No batch yet, so no C: every score is undefined.
            classes = options.classes or ()
            shape = [len(classes)] if options.average is None else []
            return self._cast(_scores.undefined(options, shape))
        values = _scores.scores(self.counts, options, {self.METRIC: self.METRIC})
        return self._cast(values[self.METRIC])

    def get_config(self) -> dict[str, Any]:
        options = self._options
        return {
            **super().get_config(),
            "num_classes": options.num_classes,
            "average": options.average,
            "classes": None if options.classes is None else list(options.classes),
            "threshold": options.threshold,
            "multilabel": options.multilabel,
            "zero_division": options.zero_division,
        }


@_twin.register
class FBeta(_Confusion):
    """Streaming F-beta score: the Keras twin of `builders.fbeta`.

    The same options, defaults, modes and input layouts as `builders.fbeta` (see its
    docstring): `y_true` are its `labels`, `y_pred` its `predictions` and
    `sample_weight` its `weights`, and the input checks are its own, with its messages
    (which name `labels`, `predictions` and `weights`). The state is the same float64
    `counts`, [3, C] per class (tp, fp, fn), [3] for average="binary", [3, 3] for
    average="samples".

    With `multilabel=True` and no `num_classes`, C is the static width of the first
    batch's `y_true` or `y_pred` and `counts` is built then (in `model.evaluate`, when
    Keras traces the first step). A width unknown statically needs `num_classes`
    (ValueError saying so). Until then `result()` is `zero_division`, or for average=None
    `len(classes)` of them (an empty vector without `classes`).

    Args:
      beta: Weight of recall against precision, > 0.
      num_classes: Number of classes C; needed for multiclass.
      average: "binary", "micro", "macro", "weighted", "samples" (multilabel), or None
        (per-class [C]).
      classes: Optional class ids to report on, as in `builders.fbeta`.
      threshold: Probability cut-off in (0, 1) for probability predictions.
      multilabel: Whether each example may belong to several classes.
      zero_division: The score where it is undefined: 0, 1 or `float("nan")`.
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

    METRIC = MetricKeys.FBETA

    def __init__(
        self,
        *,
        beta: float = 1.0,
        num_classes: int | None = None,
        average: str | None = "binary",
        classes: Sequence[int] | None = None,
        threshold: float = 0.5,
        multilabel: bool = False,
        zero_division: float = 0,
        name: str = MetricKeys.FBETA,
        dtype: Any = "float64",
    ) -> None:
        super().__init__(
            name,
            dtype,
            beta=beta,
            num_classes=num_classes,
            average=average,
            classes=classes,
            threshold=threshold,
            multilabel=multilabel,
            zero_division=zero_division,
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta": self._options.beta}


class _Score(_Confusion):
    """Precision or recall: every option of `FBeta` but `beta`; the name defaults to METRIC."""

    def __init__(
        self,
        *,
        num_classes: int | None = None,
        average: str | None = "binary",
        classes: Sequence[int] | None = None,
        threshold: float = 0.5,
        multilabel: bool = False,
        zero_division: float = 0,
        name: str | None = None,
        dtype: Any = "float64",
    ) -> None:
        super().__init__(
            name or self.METRIC,
            dtype,
            num_classes=num_classes,
            average=average,
            classes=classes,
            threshold=threshold,
            multilabel=multilabel,
            zero_division=zero_division,
        )


@_twin.register
class Precision(_Score):
    """Streaming precision: the Keras twin of `builders.precision`.

    Not `tf.keras.metrics.Precision` (thresholds, float32 state, no averages): the options,
    modes, input layouts, checks, messages and float64 `counts` state of
    `builders.precision`, which are `builders.fbeta`'s (see `FBeta`), with `y_true`,
    `y_pred` and `sample_weight` for `labels`, `predictions` and `weights`.

    Args:
      num_classes: Number of classes C; needed for multiclass.
      average: "binary", "micro", "macro", "weighted", "samples" (multilabel), or None
        (per-class [C]).
      classes: Optional class ids to report on, as in `builders.precision`.
      threshold: Probability cut-off in (0, 1) for probability predictions.
      multilabel: Whether each example may belong to several classes.
      zero_division: The precision where nothing was predicted: 0, 1 or `float("nan")`.
      name: Metric name, default "precision".
      dtype: dtype of `result()`; the state is always float64.

    Example:
      >>> from estimator_metrics.keras_metrics import Precision
      >>> precision = Precision(num_classes=3, average="macro", zero_division=1)
      >>> precision.update_state([0, 1, 2, 2], [0, 2, 2, 2])
      >>> round(float(precision.result()), 4)
      0.8889
    """

    METRIC = MetricKeys.PRECISION


@_twin.register
class Recall(_Score):
    """Streaming recall: the Keras twin of `builders.recall`.

    Not `tf.keras.metrics.Recall` (thresholds, float32 state, no averages): the options,
    modes, input layouts, checks, messages and float64 `counts` state of `builders.recall`,
    which are `builders.fbeta`'s (see `FBeta`), with `y_true`, `y_pred` and
    `sample_weight` for `labels`, `predictions` and `weights`.

    Args:
      num_classes: Number of classes C; needed for multiclass.
      average: "binary", "micro", "macro", "weighted", "samples" (multilabel), or None
        (per-class [C]).
      classes: Optional class ids to report on, as in `builders.recall`.
      threshold: Probability cut-off in (0, 1) for probability predictions.
      multilabel: Whether each example may belong to several classes.
      zero_division: The recall of a class that never occurs: 0, 1 or `float("nan")`.
      name: Metric name, default "recall".
      dtype: dtype of `result()`; the state is always float64.

    Example:
      >>> from estimator_metrics.keras_metrics import Recall
      >>> recall = Recall(multilabel=True, average="samples")
      >>> recall.update_state([[1, 0, 1], [0, 1, 0]], [[0.9, 0.2, 0.1], [0.3, 0.8, 0.7]])
      >>> round(float(recall.result()), 4)
      0.75
    """

    METRIC = MetricKeys.RECALL


@_twin.register
class CalibrationError(_twin.Twin):
    """Streaming calibration error: the Keras twin of `builders.calibration_error`.

    The same options, defaults, modes (top-label for [B, C] probabilities, the probability
    of class 1 for [B] / [B, 1]), bins and input checks as `builders.calibration_error`
    (see its docstring): `y_true` are its `labels`, `y_pred` its `predictions` and
    `sample_weight` its `weights`, and its messages name those. The state is the same
    float64 `bins` [3, num_bins] (weight, confidence sum, correct sum per bin), from which
    `reliability_diagram()` draws the picture `builders.reliability_diagram` draws.

    Args:
      num_bins: Number of equal-width bins on [0, 1], an int >= 1.
      norm: "l1" (ECE), "l2" (RMS) or "max" (MCE).
      name: Metric name.
      dtype: dtype of `result()`; the state is always float64.

    Example:
      >>> from estimator_metrics.keras_metrics import CalibrationError
      >>> ece = CalibrationError(num_bins=5)
      >>> ece.update_state([0, 1, 1, 0], [[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]])
      >>> round(float(ece.result()), 4)
      0.4
    """

    def __init__(
        self,
        *,
        num_bins: int = 15,
        norm: str = "l1",
        name: str = MetricKeys.CALIBRATION_ERROR,
        dtype: Any = "float64",
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.num_bins, self.norm = calibration_options(num_bins=num_bins, norm=norm)
        self.bins = self._add_state(BINS, [3, self.num_bins])
        # Whether the predictions were binary, where a batch's static shape told (the
        # diagram's axis labels); None until then.
        self._binary = None

    def _update(self, y_true, y_pred, sample_weight) -> None:
        increment, binary = calibration_increment(y_true, y_pred, sample_weight, self.num_bins)
        if isinstance(binary, bool):
            self._binary = binary
        self.bins.assign_add(increment)

    def result(self) -> tf.Tensor:
        return self._cast(calibration_from_bins(self.bins, self.norm))

    def reliability_diagram(self) -> bytes:
        """The reliability diagram of the state as PNG bytes (eagerly; matplotlib, the
        `diagram` extra). For TensorBoard: `tf.summary.image(name,
        tf.io.decode_png(png)[None])` inside a `tf.summary.create_file_writer` context."""
        _diagram.require_matplotlib("estimator_metrics.keras_metrics.CalibrationError")
        png, _, _ = _diagram.draw_png(
            self.bins.numpy(),
            ece=float(calibration_from_bins(self.bins, "l1")),
            mce=float(calibration_from_bins(self.bins, "max")),
            binary=self._binary,
            title=_diagram.title(self.name, MetricKeys.CALIBRATION_ERROR),
        )
        return png

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_bins": self.num_bins, "norm": self.norm}
