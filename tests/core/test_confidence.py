"""builders.average_confidence against NumPy on seeded weighted streams."""

import numpy as np
import pytest

from estimator_metrics import builders
from estimator_metrics._core.parity import run_stream
from support.data import concat


@pytest.mark.parametrize("weighted", [True, False])
def test_matches_numpy_over_weighted_batches(multiclass_batches, weighted):
    batches = [(p, w if weighted else None) for _, p, w in multiclass_batches]
    probabilities = concat(multiclass_batches, 1).astype(np.float64)
    weights = concat(multiclass_batches, 2) if weighted else np.ones(len(probabilities))
    expected = np.sum(weights * probabilities.max(axis=1)) / np.sum(weights)
    before, value = run_stream(lambda p, w: builders.average_confidence(p, weights=w), batches)
    assert before == 0.0
    np.testing.assert_allclose(value, expected, rtol=1e-12)


def test_b1_weights_and_sequence_predictions(rng):
    probabilities = rng.dirichlet(np.ones(4), size=(6, 3))  # [B, T, C]
    weights = rng.uniform(0, 1, (6, 3))
    _, value = run_stream(
        lambda p, w: builders.average_confidence(p, weights=w), [(probabilities, weights)]
    )
    expected = np.sum(weights * probabilities.max(-1)) / weights.sum()
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    column = rng.uniform(0, 1, (6, 1))
    _, per_example = run_stream(
        lambda p, w: builders.average_confidence(p, weights=w), [(probabilities[:, 0], column)]
    )
    expected = np.sum(column[:, 0] * probabilities[:, 0].max(-1)) / column.sum()
    np.testing.assert_allclose(per_example, expected, rtol=1e-12)


def test_empty_and_zero_weight_batches_give_zero_not_nan():
    empty = (np.zeros([0, 3], np.float32), np.zeros([0], np.float32))
    zero_weight = (np.full([2, 3], 1 / 3, np.float32), np.zeros([2], np.float32))
    before, value = run_stream(
        lambda p, w: builders.average_confidence(p, weights=w), [empty, zero_weight]
    )
    assert before == 0.0 and value == 0.0
