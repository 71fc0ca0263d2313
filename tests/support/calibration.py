"""NumPy oracles of the calibration metrics: the bins, the three norms, the two modes.

Written from the definitions, independently of estimator_metrics: confidences binned by
floor(confidence * num_bins), the last bin closed (TensorFlow Probability's
`histogram_fixed_width_bins`, which tests/core/test_calibration.py checks these bins
against), in float64, where the product of a float32 or float64 confidence and a small
integer is exact.
"""

from __future__ import annotations

import numpy as np


def top_label(labels: np.ndarray, probabilities: np.ndarray):
    """(confidence, correct) per example of multiclass probabilities [..., C] and class ids
    (or one-hot rows): the largest probability, and whether its class (the first on ties)
    is the label; flattened."""
    probabilities = np.asarray(probabilities, np.float64)
    labels = np.asarray(labels)
    if labels.ndim == probabilities.ndim:  # One-hot.
        labels = labels.argmax(axis=-1)
    rows = probabilities.reshape(-1, probabilities.shape[-1])
    correct = rows.argmax(axis=1) == labels.reshape(-1)
    return rows.max(axis=1), correct.astype(np.float64)


def of_class_1(labels: np.ndarray, probabilities: np.ndarray):
    """(confidence, correct) of binary probabilities of class 1 [B] or [B, 1] and 0/1 labels:
    p itself, and whether the label is 1; flattened."""
    confidence = np.asarray(probabilities, np.float64).reshape(-1)
    return confidence, (np.asarray(labels).reshape(-1) == 1).astype(np.float64)


def bins(confidence, correct, weights, num_bins: int) -> np.ndarray:
    """The state [3, num_bins]: weight, weighted confidence sum, weighted correct sum."""
    confidence = np.asarray(confidence, np.float64)
    weights = np.ones_like(confidence) if weights is None else np.asarray(weights, np.float64)
    index = np.clip(np.floor(confidence * num_bins), 0, num_bins - 1).astype(np.int64)
    return np.stack(
        [
            np.bincount(index, weights, num_bins),
            np.bincount(index, weights * confidence, num_bins),
            np.bincount(index, weights * np.asarray(correct, np.float64), num_bins),
        ]
    )


def calibration_error(state: np.ndarray, norm: str) -> float:
    """ECE ("l1"), RMS ("l2") or MCE ("max") of a state, from per-bin accuracy and
    confidence; 0.0 without weight."""
    weight, confidence_sum, correct_sum = state
    total = weight.sum()
    if total == 0:
        return 0.0
    full = weight > 0
    gap = np.abs(correct_sum[full] / weight[full] - confidence_sum[full] / weight[full])
    share = weight[full] / total
    if norm == "l1":
        return float(np.sum(share * gap))
    if norm == "l2":
        return float(np.sqrt(np.sum(share * gap**2)))
    return float(gap.max())


def detection_ece(y_true, y_pred, nbins: int):
    """`(value, update_op)` of tensorflow/models' object_detection streaming ECE, re-implemented
    from its description (object_detection/metrics/calibration_metrics.py) for the migrate
    rule's tests: three float32 local variables [nbins] (count, sum of 0/1 labels, sum of
    scores per bin), bins by `tf.histogram_fixed_width_bins(y_pred, [0, 1], nbins)` on the
    float32 scores, and sum_b count_b / total * |labels_b / count_b - scores_b / count_b|
    with 0 for every division by 0. Graph mode."""
    import tensorflow as tf

    def variable(name):
        return tf.compat.v1.Variable(
            tf.zeros([nbins], tf.float32),
            trainable=False,
            collections=[tf.compat.v1.GraphKeys.LOCAL_VARIABLES],
            name=name,
        )

    def ece(counts, labels_sum, scores_sum):
        def share(numerator, denominator):
            safe = tf.where(denominator > 0, denominator, tf.ones_like(denominator))
            return tf.where(denominator > 0, numerator / safe, tf.zeros_like(numerator))

        gap = tf.abs(share(labels_sum, counts) - share(scores_sum, counts))
        total = tf.fill([nbins], tf.reduce_sum(counts))
        return tf.reduce_sum(gap * share(counts, total))

    y_pred = tf.cast(y_pred, tf.float32)
    state = [variable(name) for name in ("counts", "labels_sum", "scores_sum")]
    bins = tf.histogram_fixed_width_bins(y_pred, [0.0, 1.0], nbins=nbins)
    columns = [tf.ones_like(y_pred), tf.cast(y_true, tf.float32), y_pred]
    updated = [
        tf.compat.v1.assign_add(v, tf.math.bincount(bins, weights=c, minlength=nbins))
        for v, c in zip(state, columns)
    ]
    return ece(*state), ece(*updated)
