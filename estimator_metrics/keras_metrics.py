"""Keras twins of the builders, for migrated code: Keras 2 (TF 2.12-2.15) and Keras 3 (TF 2.16+).

`FBeta` twins `builders.fbeta`, `Precision` `builders.precision`, `Recall`
`builders.recall`, `MAPE` `builders.mape`, `AverageConfidence` `builders.average_confidence`,
`CalibrationError` `builders.calibration_error` (and draws `builders.reliability_diagram`'s
picture from its state): the same options and defaults, the same value on the same batches,
the same input checks and messages, float64 state. TensorFlow backend only.
"""

from estimator_metrics._core.keras_metrics import (
    MAPE,
    AverageConfidence,
    CalibrationError,
    FBeta,
    Precision,
    Recall,
)

__all__ = ["MAPE", "AverageConfidence", "CalibrationError", "FBeta", "Precision", "Recall"]
