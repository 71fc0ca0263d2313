"""One graph and one session: a `(value, update_op)` pair fed batch by batch from placeholders.

Used by `parity.compare` and by the tests. `static` says how much of each input's shape the
placeholders know, as input pipelines hand tensors over: "batch" (the batch axis None, the
rest static, as `tf.data` batches), "none" (every dimension None, as `padded_batch` or
`parse_example`) or "unknown" (no shape at all: `placeholder(shape=None)`,
`tf.numpy_function`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf

STATIC = ("batch", "none", "unknown")


class StreamValues(NamedTuple):
    """The pair's value before any update and after the last, as float64 NumPy arrays."""

    before: np.ndarray
    after: np.ndarray


def placeholder(array: Any, static: str = "batch") -> tf.Tensor:
    """A placeholder for `array`'s dtype, knowing as much of its shape as `static` says."""
    if static not in STATIC:
        raise ValueError(f"Expected `static` in {STATIC}, received static={static!r}")
    array = np.asarray(array)
    if static == "unknown":
        shape = None
    elif static == "none" or array.ndim == 0:
        shape = [None] * array.ndim
    else:
        shape = [None, *array.shape[1:]]
    return tf.compat.v1.placeholder(tf.as_dtype(array.dtype), shape)


def run_stream(
    build: Callable[..., tuple[Any, Any]],
    batches: Sequence[Sequence[Any]],
    *,
    static: str = "batch",
) -> StreamValues:
    """Runs `build(*placeholders)`'s update op once per batch in a fresh graph.

    Args:
      build: Makes the `(value, update_op)` pair from one placeholder per batch element.
      batches: Tuples of arrays with the same structure; a None element stays None (e.g.
        no weights) and is not fed.
      static: How much of the shapes the placeholders know, see the module docstring.
    """
    return run_streams(lambda *inputs: {"": build(*inputs)}, batches, static=static)[""]


def run_streams(
    build: Callable[..., Mapping[str, tuple[Any, Any]]],
    batches: Sequence[Sequence[Any]],
    *,
    static: str = "batch",
) -> dict[str, StreamValues]:
    """As `run_stream`, for `build` returning `{key: (value, update_op)}` (e.g. the pairs of
    `builders.precision_recall_fbeta`): every update op runs once per batch, in one run."""
    if not batches:
        raise ValueError("Expected at least one batch, received none")
    with tf.Graph().as_default():
        inputs = [None if a is None else placeholder(a, static) for a in batches[0]]
        pairs = dict(build(*inputs))
        values = {key: value for key, (value, _) in pairs.items()}
        updates = [update for _, update in pairs.values()]
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.local_variables_initializer())
            before = session.run(values)
            for i, batch in enumerate(batches):
                if len(batch) != len(inputs):
                    raise ValueError(
                        f"Expected every batch to hold {len(inputs)} arrays, as batches[0] "
                        f"does, received {len(batch)} in batches[{i}]"
                    )
                session.run(updates, {p: a for p, a in zip(inputs, batch) if p is not None})
            after = session.run(values)
    return {
        key: StreamValues(np.asarray(before[key], np.float64), np.asarray(after[key], np.float64))
        for key in pairs
    }
