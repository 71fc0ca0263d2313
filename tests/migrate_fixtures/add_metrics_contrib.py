"""Extra metrics on a canned DNNClassifier, TF 1.12 style."""
import tensorflow as tf
from tensorflow.contrib import metrics as contrib_metrics


def my_metrics(labels, predictions):
    p = predictions["logistic"]
    return {
        "auc": tf.metrics.auc(labels, p),
        "best_f1": contrib_metrics.f1_score(labels, p),
        "pearson": tf.contrib.metrics.streaming_pearson_correlation(
            p, tf.cast(labels, tf.float32)),
        "streaming_accuracy": contrib_metrics.streaming_accuracy(
            tf.cast(p > 0.5, tf.int64), labels),
    }


def build(feature_columns, model_dir):
    estimator = tf.estimator.DNNClassifier(
        hidden_units=[32, 16], feature_columns=feature_columns, model_dir=model_dir)
    # Keep this comment: the contrib extender returns a new Estimator.
    estimator = tf.contrib.estimator.add_metrics(estimator, my_metrics)
    return estimator
