"""F1 and F2 put together from v1 precision and recall."""
import tensorflow.compat.v1 as tf


def f1_metric(labels, predictions):
    precision, precision_op = tf.metrics.precision(labels, predictions)
    recall, recall_op = tf.metrics.recall(labels, predictions)
    f1 = 2 * precision * recall / (precision + recall)
    return f1, tf.group(precision_op, recall_op)


def model_fn(features, labels, mode, params):
    logit = tf.layers.dense(features["x"], 1)[:, 0]
    probability = tf.sigmoid(logit)
    loss = tf.losses.sigmoid_cross_entropy(labels, logit)
    predicted = tf.cast(probability > params["threshold"], tf.int64)
    p = tf.metrics.precision(labels, predicted, weights=features["weight"])
    r = tf.metrics.recall(labels, predicted, weights=features["weight"])
    f2 = (1 + 2 ** 2) * p[0] * r[0] / (2 ** 2 * p[0] + r[0] + 1e-7)
    eval_metric_ops = {
        "f1": f1_metric(labels, predicted),
        "f2": (f2, tf.group(p[1], r[1])),
        # Recall straight from the probabilities: v1 counts every p > 0 as positive.
        "raw_recall": tf.metrics.recall(labels, probability),
    }
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=eval_metric_ops)
