"""`MetricKeys`: each builder's default name, the key its value is reported under."""

from estimator_metrics._core.keys import MetricKeys

__all__ = ["MetricKeys"]
