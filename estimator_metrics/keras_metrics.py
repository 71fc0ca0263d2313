"""TF2 Keras metrics with the semantics of our builders, for migrated code."""

from estimator_metrics._core.keras_twins import AverageConfidence

__all__ = ["AverageConfidence"]
