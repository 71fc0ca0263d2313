"""Metric keys in one place: each builder's default name and the `eval_metric_ops` keys
the examples and the demo report under."""


class MetricKeys:
    """String constants; a builder's key is also its default `name` scope."""

    # Builders.
    FBETA = "fbeta"
    MAPE = "mape"
    AVERAGE_CONFIDENCE = "average_confidence"
    CALIBRATION_ERROR = "calibration_error"
    RELIABILITY_DIAGRAM = "reliability_diagram"
    # Other metrics of the examples and the demo.
    ACCURACY = "accuracy"
    F1_MACRO = "f1_macro"
    MAE = "mae"
    RMSE = "rmse"
