"""Seeded multi-batch fixtures for every test; helpers live in the `support` package."""

from __future__ import annotations

import contextlib
import os
import platform
from importlib import metadata

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics._core.environment import estimator_problem
from support.data import NUM_CLASSES, SEED, SIZES, probabilities, weights

tf.get_logger().setLevel("ERROR")

#: Test modules that need tf.estimator or Keras 2 as soon as they are imported (an Estimator
#: hook as a base class, Keras 2-only metric classes or `metric.updates` at module level).
#: Where TensorFlow has no tf.estimator (2.16+: Keras 3) pytest leaves them out; every other
#: module is collected there, so `make test-keras3` also fails when one stops importing.
ESTIMATOR_ONLY_MODULES = (
    "adapter/test_adapter_robustness.py",
    "benchmarks/test_benchmarks.py",
    "migrate/test_migrate_estimator.py",
)
if estimator_problem() is not None:
    collect_ignore = list(ESTIMATOR_ONLY_MODULES)


@pytest.fixture(scope="session", autouse=True)
def _record_versions(record_testsuite_property):
    """Python and the stack, in the junit XML's properties when pytest writes one (`make
    matrix` reads them into its table)."""
    record_testsuite_property("python", platform.python_version())
    record_testsuite_property("tensorflow", tf.__version__)
    for name in ("tensorflow-estimator", "keras", "numpy"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            record_testsuite_property(name, metadata.version(name))


@pytest.fixture
def rng():
    return np.random.default_rng(SEED)


@pytest.fixture
def regression_batches(rng):
    """(labels [b], predictions [b, 1], weights [b]); labels away from 0."""
    out = []
    for size in SIZES:
        labels = rng.uniform(0.5, 20, size) * rng.choice([-1, 1], size)
        predictions = labels * rng.uniform(0.5, 1.5, size) + rng.normal(size=size)
        out.append(
            (labels.astype(np.float32), predictions[:, None].astype(np.float32), weights(rng, size))
        )
    return out


@pytest.fixture
def binary_batches(rng):
    """(labels int [b], probabilities [b], weights [b])."""
    return [
        (
            rng.integers(0, 2, size).astype(np.int64),
            rng.uniform(0, 1, size).astype(np.float32),
            weights(rng, size),
        )
        for size in SIZES
    ]


@pytest.fixture
def multiclass_batches(rng):
    """(labels int [b], probabilities [b, NUM_CLASSES], weights [b])."""
    return [
        (
            rng.integers(0, NUM_CLASSES, size).astype(np.int32),
            probabilities(rng, size, NUM_CLASSES),
            weights(rng, size),
        )
        for size in SIZES
    ]


@pytest.fixture
def multilabel_batches(rng):
    """(labels 0/1 [b, NUM_CLASSES], probabilities [b, NUM_CLASSES], weights [b])."""
    return [
        (
            rng.integers(0, 2, (size, NUM_CLASSES)).astype(np.int32),
            rng.uniform(0, 1, (size, NUM_CLASSES)).astype(np.float32),
            weights(rng, size),
        )
        for size in SIZES
    ]
