"""Metric keys in one place: each builder's default name, under which it reports."""


class MetricKeys:
    """String constants; a builder's key is also its default `name` scope."""

    FBETA = "fbeta"
    MAPE = "mape"
    AVERAGE_CONFIDENCE = "average_confidence"
