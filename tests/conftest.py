"""Shared seeded inputs and a graph-mode stream runner for every test."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.get_logger().setLevel("ERROR")

SEED = 20261121
#: Batch sizes of every multi-batch stream; includes an empty batch.
SIZES = (5, 1, 17, 0, 32, 9)
NUM_CLASSES = 5


def run_stream(build, batches):
    """Runs `build(*placeholders) -> (value, update_op)` over `batches`.

    One graph and session; placeholders have a free batch axis; `None`
    entries of a batch stay `None` (e.g. no weights). Returns the value
    before any update and after all of them, as NumPy.
    """
    first = batches[0]
    with tf.Graph().as_default():
        inputs = [
            None
            if a is None
            else tf.compat.v1.placeholder(
                tf.as_dtype(np.asarray(a).dtype), [None, *np.shape(a)[1:]]
            )
            for a in first
        ]
        value, update = build(*inputs)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            before = sess.run(value)
            for batch in batches:
                feed = {p: a for p, a in zip(inputs, batch) if p is not None}
                sess.run(update, feed_dict=feed)
            return before, sess.run(value)


def stock_estimator_takes_fbeta() -> bool:
    """Whether stock `EstimatorSpec` takes a `tf.keras.metrics.FBetaScore` object.

    It needs the class (Keras >= 2.13) and an update op recorded by its graph-mode
    `update_state` (`metric.updates`, what EstimatorSpec runs): Keras 2.13's records
    none, and EstimatorSpec refuses the metric ("Please call update_state(...)").
    """
    if not hasattr(tf.keras.metrics, "FBetaScore"):
        return False
    with tf.Graph().as_default():
        metric = tf.keras.metrics.FBetaScore(average="micro", threshold=0.5)
        metric.update_state([[1.0, 0.0]], [[0.9, 0.2]])
        return bool(metric.updates)


def concat(batches, index):
    """Concatenates column `index` of a list of batches."""
    return np.concatenate([batch[index] for batch in batches])


def _weights(rng, size):
    # Integer-valued and fractional weights, some zero.
    return (rng.integers(0, 4, size) * rng.choice([0.5, 1.0, 1.5], size)).astype(np.float32)


def _probabilities(rng, size, num_classes):
    logits = rng.normal(size=(size, num_classes)) * 2
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


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
            (labels.astype(np.float32), predictions[:, None].astype(np.float32), _weights(rng, size))
        )
    return out


@pytest.fixture
def binary_batches(rng):
    """(labels int [b], probabilities [b], weights [b])."""
    return [
        (
            rng.integers(0, 2, size).astype(np.int64),
            rng.uniform(0, 1, size).astype(np.float32),
            _weights(rng, size),
        )
        for size in SIZES
    ]


@pytest.fixture
def multiclass_batches(rng):
    """(labels int [b], probabilities [b, NUM_CLASSES], weights [b])."""
    return [
        (
            rng.integers(0, NUM_CLASSES, size).astype(np.int32),
            _probabilities(rng, size, NUM_CLASSES),
            _weights(rng, size),
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
            _weights(rng, size),
        )
        for size in SIZES
    ]


def usage_error(capsys, main, argv) -> str:
    """Runs `main(argv)`, asserts it exits with status 2 (a usage error); returns stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err
