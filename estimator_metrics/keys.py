"""`MetricKeys`: each builder's default name and the metric keys of the examples and demo."""

from estimator_metrics._core.keys import MetricKeys

__all__ = ["MetricKeys"]
