"""The `estimator-metrics demo` job: legacy vs Keras metrics on the classic examples, and
every builder in a real Estimator beside a NumPy recomputation."""

from estimator_metrics.demo.job import run

__all__ = ["run"]
