"""Already migrated: adapter.from_keras and our builders."""
import tensorflow as tf

from estimator_metrics import adapter, builders


def model_fn(features, labels, mode):
    logits = tf.compat.v1.layers.dense(features["x"], 3)
    probabilities = tf.nn.softmax(logits)
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, logits)
    eval_metric_ops = {
        "accuracy": adapter.from_keras(
            tf.keras.metrics.SparseCategoricalAccuracy(), labels, probabilities),
        "f1_macro": builders.fbeta(labels, probabilities, num_classes=3, average="macro"),
        "confidence": builders.average_confidence(probabilities),
    }
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=eval_metric_ops)
