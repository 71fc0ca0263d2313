"""estimator-metrics: exact, validated evaluation metrics for tf.estimator.

`builders` returns `(value, update_op)` pairs for
`EstimatorSpec(eval_metric_ops=...)`.
"""

from estimator_metrics import builders

__version__ = "0.1.0"

__all__ = ["builders", "__version__"]
