"""migrate: what a dotted path names (a v1 metric, a Keras class, an Estimator API, ...).

Paths come from `_module.Module.qualify` (imports and module-alias
assignments followed). Every spelling of one API is first brought to one
canonical form: `tensorflow.compat.v1.x` -> `tensorflow.x`, and each way of
reaching Keras (`tensorflow.keras`, `tensorflow.python.keras`, `tf_keras`,
standalone `keras` 2.x, tensorflow_estimator's `tf_keras`/`tf_keras_v1`) ->
`keras`. Nothing here imports anything.
"""

from __future__ import annotations

import re

#: Every function of `tf.compat.v1.metrics` (TF 2.15), the `tf.metrics` of TF 1.x.
V1_METRICS = frozenset(
    [
        "accuracy",
        "auc",
        "average_precision_at_k",
        "false_negatives",
        "false_negatives_at_thresholds",
        "false_positives",
        "false_positives_at_thresholds",
        "mean",
        "mean_absolute_error",
        "mean_cosine_distance",
        "mean_iou",
        "mean_per_class_accuracy",
        "mean_relative_error",
        "mean_squared_error",
        "mean_tensor",
        "percentage_below",
        "precision",
        "precision_at_k",
        "precision_at_thresholds",
        "precision_at_top_k",
        "recall",
        "recall_at_k",
        "recall_at_thresholds",
        "recall_at_top_k",
        "root_mean_squared_error",
        "sensitivity_at_specificity",
        "sparse_average_precision_at_k",
        "sparse_precision_at_k",
        "specificity_at_sensitivity",
        "true_negatives",
        "true_negatives_at_thresholds",
        "true_positives",
        "true_positives_at_thresholds",
        "_streaming_confusion_matrix",
    ]
)
#: Modules whose lowercase functions are the v1 streaming metrics.
_V1_MODULES = {
    "tensorflow.metrics",
    "tensorflow.python.ops.metrics",
    "tensorflow.python.ops.metrics_impl",
}
#: Ways to reach the Keras package, longest first (their `.metrics` holds the classes).
_KERAS_ROOTS = (
    "tensorflow_estimator.python.estimator.util.tf_keras_v1",
    "tensorflow_estimator.python.estimator.util.tf_keras",
    "tensorflow.python.keras",
    "tensorflow.keras",
    "tf_keras",
    "keras",
)
#: Keras metrics whose update_state takes the values alone (no y_true).
SINGLE_INPUT_KERAS = frozenset({"Mean", "Sum", "MeanTensor"})
#: Functions of the third-party `tf_metrics` package (guillaumegenthial/tf_metrics).
TF_METRICS = frozenset({"precision", "recall", "f1", "fbeta"})
#: contrib's metric functions that are not `streaming_*` (tf.contrib.metrics, tf_slim.metrics).
_CONTRIB_FUNCTIONS = frozenset(
    {
        "f1_score",
        "cohen_kappa",
        "auc_using_histogram",
        "auc_with_confidence_intervals",
        "precision_at_recall",
        "recall_at_precision",
        "precision_recall_at_equal_thresholds",
        "sparse_recall_at_top_k",
        "count",
    }
)


def may_name_a_metric_function(name: str) -> bool:
    """Whether a name's last part can be a metric function's (a cheap test before `metric_api`)."""
    return (
        name in V1_METRICS
        or name in TF_METRICS
        or name in _CONTRIB_FUNCTIONS
        or name.startswith("streaming_")
    )


#: Modules of legacy metric functions (canonical paths) -> the prefix of their rule-table keys.
#: tf_slim is tf.contrib.slim as a package; both re-export tf.contrib.metrics' functions.
_API_MODULES = {
    **dict.fromkeys(_V1_MODULES, "tf.compat.v1.metrics"),
    **dict.fromkeys(
        (
            "tensorflow.contrib.metrics",
            "tensorflow.contrib.metrics.python.ops.metric_ops",
            "tensorflow.contrib.metrics.python.ops.classification",
            "tensorflow.contrib.metrics.python.ops.histogram_ops",
            "tensorflow.contrib.metrics.python.metrics.classification",
        ),
        "tf.contrib.metrics",
    ),
    "tensorflow.contrib.slim.metrics": "tf.contrib.slim.metrics",
    **dict.fromkeys(
        (
            "tf_slim.metrics",
            "tf_slim.metrics.metric_ops",
            "tf_slim.metrics.classification",
            "tf_slim.metrics.histogram_ops",
        ),
        "tf_slim.metrics",
    ),
    "tf_metrics": "tf_metrics",
    "estimator_metrics.builders": "estimator_metrics.builders",
    # Calibration: one function each (`CALIBRATION`), not every function of the module.
    **dict.fromkeys(
        (
            "tensorflow_probability.stats",
            "tensorflow_probability.python.stats",
            "tensorflow_probability.python.stats.calibration",
        ),
        "tfp.stats",
    ),
    "object_detection.metrics.calibration_metrics": "object_detection.metrics.calibration_metrics",
}
#: The calibration functions of those modules: TensorFlow Probability's one-shot ECE and the
#: streaming ECE of tensorflow/models' object_detection (research/object_detection/metrics).
CALIBRATION = frozenset({"expected_calibration_error"})
_CALIBRATION_PREFIXES = ("tfp.stats", "object_detection.metrics.calibration_metrics")
#: The rule-table key of TensorFlow Probability's one-shot ECE.
TFP_ECE = "tfp.stats.expected_calibration_error"


def canonical(path: str | None) -> str:
    """One spelling per API.

    >>> canonical("tensorflow.compat.v1.metrics.accuracy")
    'tensorflow.metrics.accuracy'
    >>> canonical("tensorflow_estimator.python.estimator.util.tf_keras_v1.metrics.Mean")
    'keras.metrics.Mean'
    >>> canonical("tensorflow.compat.v2.keras.metrics.AUC")
    'keras.metrics.AUC'
    """
    if not path:
        return ""
    path = re.sub(r"^tensorflow(\.compat\.v[12])+(?=\.|$)", "tensorflow", path)
    for root in _KERAS_ROOTS:
        if path == root or path.startswith(root + "."):
            return "keras" + path[len(root) :]
    return path


def _split(path: str | None) -> tuple[str, str]:
    module, _, name = canonical(path).rpartition(".")
    return module, name


def v1_metric(path: str | None) -> str | None:
    """`accuracy` for `tensorflow.compat.v1.metrics.accuracy` / `tensorflow.metrics.accuracy`."""
    module, name = _split(path)
    return name if module in _V1_MODULES and name in V1_METRICS else None


def metric_api(path: str | None) -> str | None:
    """The rule-table key of a metric API, in its public spelling, else None.

    >>> metric_api("tensorflow.python.ops.metrics_impl.auc")
    'tf.compat.v1.metrics.auc'
    >>> metric_api("tensorflow.contrib.slim.metrics.streaming_mean")
    'tf.contrib.slim.metrics.streaming_mean'
    >>> metric_api("tensorflow.contrib.learn.python.learn.metric_spec.MetricSpec")
    'tf.contrib.learn.MetricSpec'
    >>> metric_api("tensorflow_probability.stats.expected_calibration_error")
    'tfp.stats.expected_calibration_error'
    >>> metric_api("tensorflow_probability.stats.percentile") is None
    True
    """
    module, name = _split(path)
    prefix = _API_MODULES.get(module)
    if prefix is not None and name[:1].islower():
        if (
            (prefix == "tf.compat.v1.metrics" and name not in V1_METRICS)
            or (prefix == "tf_metrics" and name not in TF_METRICS)
            or (prefix in _CALIBRATION_PREFIXES and name not in CALIBRATION)
        ):
            return None
        return f"{prefix}.{name}"
    if contrib_learn(path):
        return "tf.contrib.learn.MetricSpec"
    if add_metrics_kind(path) == "contrib":
        return "tf.contrib.estimator.add_metrics"
    if module == "estimator_metrics.adapter" and name == "from_keras":
        return "estimator_metrics.adapter.from_keras"
    return None


def metric_module(path: str | None) -> str | None:
    """The key prefix of a module of metric functions (`getattr(tf.metrics, name)`); not
    the calibration modules, whose other functions are no metrics."""
    prefix = _API_MODULES.get(canonical(path))
    return None if prefix in _CALIBRATION_PREFIXES else prefix


def contrib_metric(path: str | None) -> str | None:
    module, name = _split(path)
    return name if module == "tensorflow.contrib.metrics" and name else None


def keras_metric_class(path: str | None) -> str | None:
    """`AUC` for any spelling of `tf.keras.metrics.AUC` (`tf.metrics.AUC` in TF 2 too)."""
    module, name = _split(path)
    if not name[:1].isupper():
        return None
    if module in ("keras.metrics", "tensorflow.metrics") or module.startswith("keras.src.metrics"):
        return name
    return None


def tf_metrics_function(path: str | None) -> str | None:
    module, name = _split(path)
    return name if module == "tf_metrics" and name in TF_METRICS else None


def contrib_learn(path: str | None) -> str | None:
    """`MetricSpec` for tf.contrib.learn's MetricSpec (any of its module paths)."""
    module, name = _split(path)
    if name == "MetricSpec" and module.startswith("tensorflow.contrib.learn"):
        return name
    return None


def is_tf(path: str | None, *names: str) -> bool:
    """Whether `path` is `tensorflow.<one of names>` (any compat.vN alias)."""
    return canonical(path) in {f"tensorflow.{name}" for name in names}


def tf_op(path: str | None) -> str | None:
    """`argmax` for `tensorflow.argmax` (any alias), `math.divide_no_nan` for tf.math's."""
    path = canonical(path)
    return path[len("tensorflow.") :] if path.startswith("tensorflow.") else None


def _estimator_root(path: str) -> bool:
    return path.split(".")[0] in ("tensorflow", "tensorflow_estimator")


def is_spec(path: str | None) -> bool:
    """EstimatorSpec or TPUEstimatorSpec, from tensorflow or tensorflow_estimator."""
    return (
        bool(path)
        and _estimator_root(path)
        and path.endswith((".EstimatorSpec", ".TPUEstimatorSpec"))
    )


def is_estimator_class(path: str | None) -> bool:
    return bool(path) and _estimator_root(path) and path.endswith("Estimator")


def add_metrics_kind(path: str | None) -> str | None:
    """ "core" for tf.estimator.add_metrics, "contrib" for tf.contrib.estimator's."""
    if not path or not path.endswith(".add_metrics"):
        return None
    path = canonical(path)
    if path.startswith("tensorflow.contrib.estimator"):
        return "contrib"
    return "core" if _estimator_root(path) else None
