"""Seeded inputs for multi-batch streams, and small utilities every test file may use."""

from __future__ import annotations

import numpy as np
import pytest

SEED = 20261121
#: Batch sizes of every multi-batch stream; includes an empty batch.
SIZES = (5, 1, 17, 0, 32, 9)
NUM_CLASSES = 5


def concat(batches, index):
    """Concatenates column `index` of a list of batches."""
    return np.concatenate([batch[index] for batch in batches])


def weights(rng, size):
    """Integer-valued and fractional weights, some zero."""
    return (rng.integers(0, 4, size) * rng.choice([0.5, 1.0, 1.5], size)).astype(np.float32)


def probabilities(rng, size, num_classes):
    logits = rng.normal(size=(size, num_classes)) * 2
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


def usage_error(capsys, main, argv) -> str:
    """Runs `main(argv)`, asserts it exits with status 2 (a usage error); returns stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err
