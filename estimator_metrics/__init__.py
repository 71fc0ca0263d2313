"""estimator-metrics: exact, validated evaluation metrics for tf.estimator.

`estimator_metrics.builders` returns `(value, update_op)` pairs for
`EstimatorSpec(eval_metric_ops=...)`. Submodules load on first use, so the
command line can quiet TensorFlow before it is imported.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = ("adapter", "builders", "diagnostics", "keras_metrics", "keys", "parity")

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
