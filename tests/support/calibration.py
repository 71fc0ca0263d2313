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
