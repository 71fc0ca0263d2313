"""`calibration_error` and `reliability_diagram`: how often a classifier is right against how
sure it is, from one float64 state of equal-width confidence bins.

The state `bins` [3, num_bins] holds, per bin, the weight of its examples, the sum of their
weighted confidences and the sum of their weighted correctness: O(bins), whatever the number
of examples, and exact like every other state here (float64). Bins are equal-width on
[0, 1], left-closed, a confidence of exactly 1.0 in the last bin: the bins of
`tf.histogram_fixed_width_bins`, which TensorFlow Probability's `expected_calibration_error`
uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import tensorflow as tf

from estimator_metrics._core import arguments as _arguments
from estimator_metrics._core import checks as _checks
from estimator_metrics._core import decode as _decode
from estimator_metrics._core import diagram as _diagram
from estimator_metrics._core import inputs as _inputs
from estimator_metrics._core import rows as _rows
from estimator_metrics._core import shapes as _shapes
from estimator_metrics._core import state as _state
from estimator_metrics._core.keys import MetricKeys
from estimator_metrics._core.shapes import any_of, at_least, equal, negate

CALIBRATION_ERROR = MetricKeys.CALIBRATION_ERROR
RELIABILITY_DIAGRAM = MetricKeys.RELIABILITY_DIAGRAM
NORMS = _arguments.NORMS
#: The state: float64 [3, num_bins], rows weight, confidence sum, correct sum per bin.
BINS = "bins"


def calibration_error(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    *,
    num_bins: int = 15,
    norm: str = "l1",
    metrics_collections: Iterable[str] | None = None,
    updates_collections: Iterable[str] | None = None,
    name: str | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Streaming calibration error: how far accuracy is from confidence, bin by bin.

    Each example falls in one of `num_bins` equal-width bins of its confidence (left-closed,
    1.0 in the last bin, as `tfp.stats.expected_calibration_error`). With W_b the weight of
    bin b, acc_b and conf_b its weighted mean correctness and confidence, W the total:

    * `norm="l1"`, the expected calibration error (ECE): sum_b W_b / W * |acc_b - conf_b|;
    * `norm="max"`, the maximum calibration error (MCE): max over bins with W_b > 0;
    * `norm="l2"`, the RMS calibration error: sqrt(sum_b W_b / W * (acc_b - conf_b)**2).

    Modes, by the shape of `predictions` (probabilities, in [0, 1]):

    * multiclass, [B, C] (or [..., C]) with C >= 2: top-label calibration. The confidence
      is the largest probability, correct means its class (the first on ties, as
      `builders.fbeta`'s argmax) is the label. Labels are class ids [B] (or [B, 1],
      [B, T] for sequences) or one-hot [B, C].
    * binary, [B] or [B, 1]: the probability p of class 1, binned as it is; acc_b is the
      (weighted) fraction of class 1 in the bin, conf_b the mean p: scikit-learn's
      `calibration_curve`. Labels 0/1. Not top-label on max(p, 1 - p): folding the two
      halves together lets over-confidence below 0.5 cancel under-confidence above it in
      one bin, and a binary model's users read p, not max(p, 1 - p). For top-label, pass
      `tf.concat([1 - p, p], axis=-1)`.

    Shapes the static graph leaves open are read when the update runs, and checked.

    Args:
      labels: Class ids, or one-hot rows (multiclass); 0/1 (binary).
      predictions: Probabilities [B, C] / [..., C], or of class 1 [B] / [B, 1].
      weights: Optional non-negative weights: a scalar, of length 1, or the shape of the
        class ids or its leading axes ([B] per example).
      num_bins: Number of equal-width bins on [0, 1], an int >= 1.
      norm: "l1" (ECE), "l2" (RMS) or "max" (MCE).
      metrics_collections: Collections to add `value` to.
      updates_collections: Collections to add `update_op` to.
      name: Name scope, default "calibration_error".

    Returns:
      `(value, update_op)`: float64 scalar tensors; 0.0 before any weight.

    Example:
      >>> import tensorflow as tf
      >>> from estimator_metrics import builders
      >>> with tf.Graph().as_default():
      ...     ece, update = builders.calibration_error(
      ...         [0, 1, 1, 0], [[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]], num_bins=5
      ...     )
      ...     with tf.compat.v1.Session() as sess:
      ...         sess.run(tf.compat.v1.local_variables_initializer())
      ...         _ = sess.run(update)
      ...         print(round(float(sess.run(ece)), 4))
      0.4
    """
    _state.require_graph("calibration_error")
    num_bins, norm = calibration_options(num_bins=num_bins, norm=norm)
    with tf.compat.v1.name_scope(_arguments.check_name(name, CALIBRATION_ERROR)):
        increment, _ = calibration_increment(labels, predictions, weights, num_bins)
        return _state.streaming_pair(
            [(BINS, [3, num_bins])],
            [increment],
            lambda bins: calibration_from_bins(bins, norm),
            metrics_collections,
            updates_collections,
        )


def reliability_diagram(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    *,
    num_bins: int = 15,
    metrics_collections: Iterable[str] | None = None,
    updates_collections: Iterable[str] | None = None,
    name: str | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """The reliability diagram, as a serialized image `Summary` for TensorBoard.

    The bins, modes, inputs and checks of `calibration_error`. `value` is a scalar string:
    a serialized `tf.compat.v1.Summary` holding one PNG, accuracy per bin against
    confidence with the diagonal, each bin's share of the weight below, and the ECE and
    MCE in the caption. `Estimator.evaluate` writes a bytes metric value into the
    evaluation's event file as that Summary (under the metric's key, "key/0"), so the
    picture sits in TensorBoard's Images tab beside the scalars at every evaluation.

    Drawn by matplotlib (the `diagram` extra: ImportError naming it while the graph is
    built if missing) on its Agg canvas: no display, on the host, once per evaluation
    when `value` is read; `update_op` only adds to the state and returns it.

    Args:
      labels: As `calibration_error`.
      predictions: As `calibration_error`.
      weights: As `calibration_error`.
      num_bins: Number of equal-width bins on [0, 1], an int >= 1.
      metrics_collections: Collections to add `value` to.
      updates_collections: Collections to add `update_op` to.
      name: Name scope and the image's tag, default "reliability_diagram".

    Returns:
      `(value, update_op)`: a tf.string scalar, and the updated float64 state
      [3, num_bins] (weight, confidence sum, correct sum per bin).
    """
    _state.require_graph("reliability_diagram")
    num_bins, _ = calibration_options(num_bins=num_bins, norm="l1")
    _diagram.require_matplotlib("estimator_metrics.builders.reliability_diagram")
    tag = _arguments.check_name(name, RELIABILITY_DIAGRAM)
    with tf.compat.v1.name_scope(tag):
        increment, binary = calibration_increment(labels, predictions, weights, num_bins)
        return _state.streaming_pair(
            [(BINS, [3, num_bins])],
            [increment],
            lambda bins: diagram_summary(bins, binary if isinstance(binary, bool) else None, tag),
            metrics_collections,
            updates_collections,
            updated=tf.identity,
        )


def calibration_options(*, num_bins: Any, norm: Any) -> tuple[int, str]:
    """`num_bins` and `norm` after their checks (ValueError naming each)."""
    return _arguments.positive_int(num_bins, "num_bins"), _arguments.one_of(norm, "norm", NORMS)


@tf.autograph.experimental.do_not_convert  # Graph-building code: nothing to convert.
def calibration_increment(
    labels: Any, predictions: Any, weights: Any, num_bins: int
) -> tuple[tf.Tensor, _shapes.Cond]:
    """One batch's float64 [3, num_bins] increment, after its checks, and whether the batch
    is binary (a bool where the static shape tells, else a tensor).

    What `calibration_error` and `reliability_diagram` add to their state per update, and
    `keras_metrics.CalibrationError` per `update_state`.
    """
    labels = _inputs.to_tensor(labels, "labels")
    predictions = _inputs.to_tensor(predictions, "predictions")
    shape = _shapes.dims(predictions)
    rank, width = _shapes.rank(shape), _shapes.last(shape)
    has_axis = at_least(rank, 2)
    binary = any_of(negate(has_axis), equal(width, 1))
    checks = _checks.require(
        _shapes.all_of(at_least(rank, 1), any_of(negate(has_axis), at_least(width, 1))),
        "Expected `predictions` of shape [B, C] with C >= 2 class probabilities, or [B] / "
        "[B, 1] probabilities of class 1",
        {"predictions.shape": predictions},
    )
    if not predictions.dtype.is_floating:
        predictions = tf.cast(predictions, _state.STATE_DTYPE)
    # One row per example: [N, C], or [N, 1] for the probability of class 1.
    with tf.control_dependencies(checks):
        if isinstance(shape, list) and len(shape) == 2 and binary is False:
            rows = predictions  # [B, C] already: no reshape (an op at every update).
        else:
            rows = tf.reshape(
                predictions,
                _shapes.as_vector([-1, _shapes.select(has_axis, lambda: width, lambda: 1)]),
            )
        if binary is True:
            confidence, check = _rows.unit_row_max(rows)
            predicted = None
        else:  # The largest probability and its class, in one read (`top_k`).
            confidence, predicted, check = _rows.unit_row_top(rows)
    checks += _checks.assert_check(check, "`predictions` must be finite and lie in [0, 1]")
    label_ids, label_shape, label_checks = _decode.label_ids_for(
        labels,
        predictions,
        _shapes.leading(shape, has_axis),
        _shapes.select(binary, lambda: 2, lambda: width),
    )
    w, weight_checks = _inputs.broadcast_weights(weights, label_shape, "`labels`")
    with tf.control_dependencies(checks + label_checks + weight_checks):
        confidence = tf.cast(confidence, _state.STATE_DTYPE)
        # Binary: class 1 is what p is the probability of; else the top label.
        target = _shapes.select(binary, lambda: tf.ones_like(label_ids), lambda: predicted)
        correct = tf.cast(tf.equal(label_ids, target), _state.STATE_DTYPE)
        bins = bin_ids(confidence, num_bins)
        columns = [tf.ones_like(confidence), confidence, correct]
        if w is not None:
            columns = [w, w * confidence, w * correct]
        return bin_sums(bins, tf.stack(columns), num_bins), binary


def bin_sums(bins: tf.Tensor, columns: tf.Tensor, num_bins: int) -> tf.Tensor:
    """float64 [3, num_bins]: each row of `columns` [3, N] summed over the examples of each
    bin (`bins` [N], int32 in [0, num_bins)), the state's layout.

    One `DenseBincount` over the bins repeated per row, weighted by the rows: cheaper than
    stacking the columns side by side (a strided copy) for one `unsorted_segment_sum` and
    transposing its sums (benchmarks/results.md, note 12). Its sums are float64 like the
    state's, so no weight is rounded on the way.
    """
    repeated = tf.stack([bins] * columns.shape[0])
    return tf.raw_ops.DenseBincount(input=repeated, size=num_bins, weights=columns)


def bin_ids(confidence: tf.Tensor, num_bins: int) -> tf.Tensor:
    """int32 bin of each float64 confidence in [0, 1]: floor(confidence * num_bins), 1.0 in
    the last bin.

    `tf.histogram_fixed_width_bins(confidence, [0.0, 1.0], num_bins)` gives the same bins
    (tests/core/test_calibration.py) with 10 ops where these are 3: on [0, 1] there is
    nothing to shift or scale and nothing below 0 to clip, and a cast to int rounds a
    non-negative float down. The product is exact in float64 for float32 and float64
    confidences, so no confidence lands in a neighbour's bin by rounding.
    """
    return tf.cast(tf.minimum(confidence * num_bins, num_bins - 1), tf.int32)


def calibration_from_bins(bins, norm: str) -> tf.Tensor:
    """The calibration error of the state `bins` [3, num_bins] by `norm`; 0.0 without weight.

    W_b * |acc_b - conf_b| is |correct sum - confidence sum| of the bin: the ECE needs no
    division per bin, and an empty bin adds nothing to any norm.
    """
    weight, confidence, correct = tf.unstack(tf.convert_to_tensor(bins))
    gap = tf.abs(correct - confidence)
    total = tf.reduce_sum(weight)
    if norm == "l1":
        return tf.math.divide_no_nan(tf.reduce_sum(gap), total, name="value")
    per_bin = tf.math.divide_no_nan(gap, weight)  # |acc_b - conf_b|; 0 where W_b = 0.
    if norm == "max":
        return tf.reduce_max(per_bin, name="value")
    return tf.sqrt(tf.math.divide_no_nan(tf.reduce_sum(gap * per_bin), total), name="value")


def diagram_summary(bins, binary: bool | None, tag: str) -> tf.Tensor:
    """The serialized image `Summary` (a tf.string scalar) of the state `bins`, drawn on the
    host when it runs; `binary` names the axes (None: not known statically)."""
    bins = tf.convert_to_tensor(bins)
    title = _diagram.title(tag, RELIABILITY_DIAGRAM)

    def draw(state: np.ndarray, ece: np.ndarray, mce: np.ndarray) -> np.ndarray:
        png, width, height = _diagram.draw_png(
            state, ece=float(ece), mce=float(mce), binary=binary, title=title
        )
        # An object array: a bytes dtype would drop trailing NUL bytes.
        return np.array(_diagram.image_summary(png, width, height, tag), dtype=object)

    with tf.name_scope("caption"):
        caption = [calibration_from_bins(bins, "l1"), calibration_from_bins(bins, "max")]
    summary = tf.numpy_function(draw, [bins, *caption], tf.string, name="value")
    summary.set_shape([])
    return summary
