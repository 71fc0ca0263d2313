"""Keras metric objects as correct `(value, update_op)` pairs for Estimator.

Stock `EstimatorSpec` turns a Keras metric into `(metric.result(), metric.updates[0])`:
only the last op of the first `update_state` call, so a metric updated twice counts once
and metrics whose update assigns several variables (FBetaScore, F1Score, R2Score) come out
as 0.0 or NaN. `from_keras` runs the whole `update_state`, every time.
"""

from estimator_metrics._core.adapter import from_keras, per_class

__all__ = ["from_keras", "per_class"]
