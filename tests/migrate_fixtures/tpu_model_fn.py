"""A TPUEstimator model_fn: metrics run on the host through eval_metrics."""
import tensorflow as tf


def metric_fn(labels, logits):
    predictions = tf.argmax(logits, axis=1)
    return {
        "accuracy": tf.metrics.accuracy(labels=labels, predictions=predictions),
        "recall_at_3": tf.metrics.recall_at_k(labels, logits, k=3),
    }


def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], params["n_classes"])
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    eval_metrics = None
    if mode == tf.estimator.ModeKeys.EVAL:
        eval_metrics = (metric_fn, [labels, logits])
    return tf.contrib.tpu.TPUEstimatorSpec(mode=mode, loss=loss, eval_metrics=eval_metrics)
