"""Graph metric builders: `(value, update_op)` pairs for `eval_metric_ops`.

Each builder follows `tf.compat.v1.metrics` conventions (local, ON_READ/SUM
state; `metrics_collections`/`updates_collections`; a `name` scope) but keeps
its state in float64 and validates its inputs.
"""

from estimator_metrics._confidence import AVERAGE_CONFIDENCE, average_confidence
from estimator_metrics._fbeta import AVERAGES, FBETA, fbeta
from estimator_metrics._mape import MAPE, mape
from estimator_metrics._state import STATE_DTYPE

__all__ = [
    "AVERAGES",
    "AVERAGE_CONFIDENCE",
    "FBETA",
    "MAPE",
    "STATE_DTYPE",
    "average_confidence",
    "fbeta",
    "mape",
]
