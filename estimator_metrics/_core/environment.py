"""Which TensorFlow this is, and the clear error for what needs tf.estimator where it is gone.

TensorFlow 2.16 dropped tf.estimator (and moved to Keras 3). Everything of ours that needs it
(the legacy examples, the demo, `estimator-metrics example`) calls `require_estimator` when it
is used, never when it is imported: the package, the builders, the twins, the adapter and
parity all import on TensorFlow 2.16+. Imports TensorFlow only when called.
"""

from __future__ import annotations

import importlib.metadata

from estimator_metrics import _docs

#: The TensorFlow lines with tf.estimator that we support, first and last (setup.cfg's `cpu` and
#: `gpu` extras say the same: tests/keras3/test_installing.py checks it).
ESTIMATOR_LINES = ((2, 12), (2, 15))
#: The Pythons those lines publish wheels for, first and last (setup.cfg's classifiers and the
#: `cpu` extra's resolution say the same: tests/packaging checks it).
ESTIMATOR_PYTHONS = ((3, 9), (3, 11))
#: How the errors name that line, and how to install it.
SUPPORTED = (
    "TensorFlow {0[0]}.{0[1]}-{1[0]}.{1[1]} with tensorflow-estimator of the same line, "
    "on Python {2[0]}.{2[1]}-{3[0]}.{3[1]} "
    '(pip install "estimator-metrics[cpu]")'
).format(*ESTIMATOR_LINES, *ESTIMATOR_PYTHONS)


class EstimatorUnavailableError(ImportError):
    """Something that needs tf.estimator was used where this TensorFlow has none."""


def tensorflow_line(version: str) -> tuple[int, int] | None:
    """(major, minor) of a TensorFlow version string ("2.21.0" -> (2, 21)); None if unreadable."""
    parts = version.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return None


def _distribution_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def found() -> str:
    """What is installed, for messages: TensorFlow, Keras and tensorflow-estimator versions."""
    import tensorflow as tf

    keras = _distribution_version("keras") or getattr(tf.keras, "__version__", None) or "unknown"
    estimator = _distribution_version("tensorflow-estimator")
    return f"TensorFlow {tf.__version__} (Keras {keras}, " + (
        f"tensorflow-estimator {estimator})" if estimator else "no tensorflow-estimator)"
    )


def estimator_problem() -> str | None:
    """What was found and why its tf.estimator cannot be used, or None where it can."""
    import tensorflow as tf

    line = tensorflow_line(tf.__version__)
    first, last = ESTIMATOR_LINES
    if line is not None and line > last:
        return f"{found()}, which has no tf.estimator (TensorFlow 2.16 removed it)"
    if line is None or line < first:
        return f"{found()}, older than the supported line"
    try:
        # tf.estimator is a lazy module: the first attribute imports tensorflow_estimator.
        tf.estimator.Estimator  # noqa: B018
    except (ImportError, AttributeError) as error:
        return f"{found()}, whose tf.estimator cannot be imported ({type(error).__name__}: {error})"
    return None


def estimator_message(what: str, problem: str) -> str:
    """The error text: what needed tf.estimator, the supported line, what was found, and what
    works here instead."""
    return (
        f"{what} needs tf.estimator: {SUPPORTED}; found {problem}. Without Estimator use "
        "estimator_metrics.keras_metrics in a Keras model, or estimator_metrics.builders in "
        f"tf.compat.v1 graphs ({_docs.url('compatibility.md#where-estimator-is-gone')})."
    )


def require_estimator(what: str) -> None:
    """Raises EstimatorUnavailableError naming `what`, the supported line and the TensorFlow
    found, unless tf.estimator works here."""
    problem = estimator_problem()
    if problem is not None:
        raise EstimatorUnavailableError(estimator_message(what, problem))
