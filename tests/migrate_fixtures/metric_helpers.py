"""A two-headed model whose metrics come from helpers that return dicts."""
import functools

import tensorflow as tf
from tensorflow.compat.v1 import metrics as v1_metrics


def classification_metrics(labels, logits, weights=None):
    """Accuracy and average confidence of a softmax head."""
    probabilities = tf.nn.softmax(logits)
    return {
        "accuracy": v1_metrics.accuracy(labels, tf.argmax(logits, axis=-1), weights),
        "average_confidence": v1_metrics.mean(
            tf.reduce_max(probabilities, axis=-1), weights),
    }


def regression_metrics(labels, predictions):
    return {"rmse": tf.compat.v1.metrics.root_mean_squared_error(labels, predictions)}


def multi_head_model_fn(features, labels, mode, params):
    hidden = tf.compat.v1.layers.dense(features["x"], 16, activation=tf.nn.relu)
    logits = tf.compat.v1.layers.dense(hidden, params["n_classes"])
    score = tf.compat.v1.layers.dense(hidden, 1)
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels["label"], logits)
    nested = {
        "label": classification_metrics(labels["label"], logits, features["weight"]),
        "score": regression_metrics(labels["score"], score),
    }
    eval_metric_ops = {f"{head}/{name}": pair
                       for head, ops in nested.items() for name, pair in ops.items()}
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=eval_metric_ops)


def make_metric_fn(threshold):
    """An add_metrics metric_fn over the canned head's predictions."""

    def metric_fn(labels, predictions, features):
        positive = predictions["probabilities"][:, 1] > threshold
        return {
            "recall_at_threshold": tf.compat.v1.metrics.recall(
                labels, positive, weights=features["weight"]),
            "class_accuracy": tf.compat.v1.metrics.accuracy(labels, predictions["class_ids"]),
        }

    return metric_fn


def build_estimator(config, threshold=0.3):
    estimator = tf.estimator.Estimator(
        model_fn=functools.partial(multi_head_model_fn), config=config,
        params={"n_classes": 4})
    return tf.estimator.add_metrics(estimator, make_metric_fn(threshold))
