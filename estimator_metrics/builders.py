"""Graph metric builders: `(value, update_op)` pairs for `eval_metric_ops`.

`fbeta`, `precision`, `recall` and `precision_recall_fbeta` (all three from one state),
`mape` and `average_confidence`.

Each builder follows `tf.compat.v1.metrics` conventions (argument order, local ON_READ/SUM
state, `metrics_collections`/`updates_collections`, a `name` scope) but keeps its state in
float64 and validates its inputs, statically where it can and at run time where it must.
"""

from estimator_metrics._core.confidence import AVERAGE_CONFIDENCE, average_confidence
from estimator_metrics._core.fbeta import AVERAGES, FBETA, fbeta
from estimator_metrics._core.mape import MAPE, mape
from estimator_metrics._core.precision_recall import (
    PRECISION_RECALL_FBETA,
    precision,
    precision_recall_fbeta,
    recall,
)
from estimator_metrics._core.scores import PRECISION, RECALL
from estimator_metrics._core.state import STATE_DTYPE

__all__ = [
    "AVERAGES",
    "AVERAGE_CONFIDENCE",
    "FBETA",
    "MAPE",
    "PRECISION",
    "PRECISION_RECALL_FBETA",
    "RECALL",
    "STATE_DTYPE",
    "average_confidence",
    "fbeta",
    "mape",
    "precision",
    "precision_recall_fbeta",
    "recall",
]
