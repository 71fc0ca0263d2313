"""A TF 2-era model_fn that hands Keras metric objects straight to EstimatorSpec."""
import tensorflow as tf
from tensorflow.keras.metrics import F1Score, FBetaScore


def model_fn(features, labels, mode):
    logits = tf.compat.v1.layers.dense(features["x"], 1)  # [B, 1]
    probability = tf.sigmoid(logits)
    float_labels = tf.cast(tf.reshape(labels, [-1, 1]), tf.float32)  # [B, 1]
    loss = tf.compat.v1.losses.sigmoid_cross_entropy(float_labels, logits)
    if mode == tf.estimator.ModeKeys.TRAIN:
        train_op = tf.compat.v1.train.AdamOptimizer(0.05).minimize(
            loss, global_step=tf.compat.v1.train.get_or_create_global_step())
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

    f05 = FBetaScore(beta=0.5, average="micro", threshold=0.5)
    f05.update_state(float_labels, probability)  # F0.5 of the click class.
    f1 = F1Score(average="micro", threshold=0.5)
    f1.update_state(y_true=float_labels, y_pred=probability)
    # Error of the probability, then of the 0/1 decision: two updates of one metric.
    mae = tf.keras.metrics.MeanAbsoluteError()
    mae.update_state(float_labels, probability)
    mae.update_state(float_labels, tf.round(probability), sample_weight=features["weight"])
    r2 = tf.keras.metrics.R2Score()
    r2.update_state(float_labels, probability)
    auc = tf.keras.metrics.AUC()
    auc.update_state(float_labels, probability)
    eval_metric_ops = {"f05": f05, "f1": f1, "mae": mae, "r2": r2}
    eval_metric_ops["auc"] = auc
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=eval_metric_ops)
