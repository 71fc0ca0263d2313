"""Click model: a two-logit binary classifier, after tf_upgrade_v2.

tf_upgrade_v2 turned `import tensorflow as tf` into `import tensorflow.compat.v1 as tf`,
so every `tf.metrics.*` below is still a tf.compat.v1 streaming metric.
"""
import tensorflow.compat.v1 as tf


def model_fn(features, labels, mode, params):
    hidden = tf.layers.dense(features["x"], params.get("hidden", 8), activation=tf.nn.relu)
    logits = tf.layers.dense(hidden, 2)  # [B, 2]
    probabilities = tf.nn.softmax(logits)
    predicted_classes = tf.argmax(logits, axis=-1)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    if mode == tf.estimator.ModeKeys.TRAIN:
        train_op = tf.train.AdamOptimizer(0.05).minimize(
            loss, global_step=tf.train.get_or_create_global_step())
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

    weights = features["weight"]
    clicked = probabilities[:, 1] > 0.5
    per_example_loss = tf.losses.sparse_softmax_cross_entropy(
        labels, logits, reduction=tf.losses.Reduction.NONE)
    eval_metric_ops = {
        # Class ids against int64 labels.
        "accuracy": tf.metrics.accuracy(labels, predicted_classes, weights=weights,
                                        name="click_accuracy"),
        "precision": tf.metrics.precision(labels, clicked),
        "recall": tf.metrics.recall(
            labels,
            probabilities[:, 1] > 0.5,  # Thresholded: v1 would count any p > 0.
        ),
        "mean_loss": tf.metrics.mean(per_example_loss, weights),
        "rmse_click": tf.metrics.root_mean_squared_error(
            tf.cast(labels, tf.float32), probabilities[:, 1], weights=weights),
        "iou": tf.metrics.mean_iou(labels, tf.argmax(logits, -1), 2, weights),
        # Not rewritten: v1 AUC adds 1e-6 to its counts.
        "auc": tf.metrics.auc(labels, probabilities[:, 1], weights=weights),
        "weighted_precision": tf.metrics.precision(labels, clicked, weights=weights),
    }
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=eval_metric_ops)
