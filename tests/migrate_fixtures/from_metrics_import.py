"""House-price regressor (TF 1.x), with the TF modules imported by name."""
from tensorflow import estimator, layers, losses, math, metrics, train


def price_model_fn(features, labels, mode):
    price = layers.dense(features["x"], 1)  # [B, 1]; labels are [B].
    loss = losses.mean_squared_error(labels[:, None], price)
    if mode == estimator.ModeKeys.TRAIN:
        step = train.get_or_create_global_step()
        return estimator.EstimatorSpec(
            mode, loss=loss, train_op=train.AdamOptimizer().minimize(loss, step))
    eval_metric_ops = {
        "rmse": metrics.root_mean_squared_error(labels, price),
        "mae": metrics.mean_absolute_error(labels, price),
        "mse": metrics.mean_squared_error(labels=labels, predictions=price),
        # Percentage error, as the business reports it.
        "mape": metrics.mean(100 * math.abs((labels - price) / labels)),
        "relative_error": metrics.mean_relative_error(labels, price, normalizer=labels),
    }
    return estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=eval_metric_ops)
