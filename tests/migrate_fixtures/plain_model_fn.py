"""Iris-style classifier from the TF 1.x custom Estimator tutorial, grown over the years."""
import tensorflow as tf

N_CLASSES = 3


def my_model_fn(features, labels, mode, params):
    """DNN with hidden layers and a softmax head."""
    net = tf.feature_column.input_layer(features, params["feature_columns"])
    for units in params["hidden_units"]:
        net = tf.layers.dense(net, units=units, activation=tf.nn.relu)
    logits = tf.layers.dense(net, N_CLASSES, activation=None)

    predicted_classes = tf.argmax(logits, 1)
    probabilities = tf.nn.softmax(logits)
    if mode == tf.estimator.ModeKeys.PREDICT:
        predictions = {
            "class_ids": predicted_classes[:, tf.newaxis],
            "probabilities": probabilities,
            "logits": logits,
        }
        return tf.estimator.EstimatorSpec(mode, predictions=predictions)

    loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)

    # Compute evaluation metrics.
    accuracy = tf.metrics.accuracy(labels=labels,
                                   predictions=predicted_classes,
                                   name='acc_op')
    metrics = {'accuracy': accuracy}
    tf.summary.scalar('accuracy', accuracy[1])

    # "Is it a setosa?" as a binary problem, straight from the probabilities.
    is_setosa = tf.cast(tf.equal(labels, 0), tf.int64)
    metrics['setosa_accuracy'] = tf.metrics.accuracy(is_setosa, probabilities[:, 0])
    metrics['setosa_auc'] = tf.metrics.auc(is_setosa, probabilities[:, 0])
    metrics['setosa_auc_pr'] = tf.metrics.auc(is_setosa, probabilities[:, 0], curve='PR')
    metrics['per_class_accuracy'] = tf.metrics.mean_per_class_accuracy(
        labels, predicted_classes, N_CLASSES)
    metrics['top_2'] = tf.metrics.recall_at_k(labels, logits, k=2)

    if mode == tf.estimator.ModeKeys.EVAL:
        return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=metrics)

    optimizer = tf.train.AdagradOptimizer(learning_rate=0.1)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def main(feature_columns):
    classifier = tf.estimator.Estimator(
        model_fn=my_model_fn,
        params={"feature_columns": feature_columns, "hidden_units": [10, 10]})
    return classifier
