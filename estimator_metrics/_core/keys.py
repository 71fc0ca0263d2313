"""Metric keys in one place: each builder's default name, under which it reports."""


class MetricKeys:
    """String constants; a builder's key is also its default `name` scope."""

    FBETA = "fbeta"
    PRECISION = "precision"
    RECALL = "recall"
    PRECISION_RECALL_FBETA = "precision_recall_fbeta"
    MAPE = "mape"
    AVERAGE_CONFIDENCE = "average_confidence"
    CALIBRATION_ERROR = "calibration_error"
    RELIABILITY_DIAGRAM = "reliability_diagram"
