"""Every builder in a real Estimator, checked against an independent NumPy recomputation."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from estimator_metrics import builders
from estimator_metrics.keys import MetricKeys

#: The keys the demo reports the three builders under, in its Estimator and from NumPy.
F1_MACRO = "f1_macro"
MAPE = MetricKeys.MAPE
AVERAGE_CONFIDENCE = MetricKeys.AVERAGE_CONFIDENCE

NUM_CLASSES = 3
NUM_FEATURES = 12
TRAIN_EXAMPLES = 4096
EVAL_EXAMPLES = 1000  # Not a multiple of BATCH: the last batch is partial.
BATCH = 64


def make_data(seed: int, examples: int, split: int) -> tuple[dict, dict]:
    """Features and labels of a fixed synthetic task (teacher from `seed`)."""
    teacher = np.random.default_rng(seed)
    class_weights = teacher.normal(size=(NUM_FEATURES, NUM_CLASSES))
    value_weights = teacher.normal(size=NUM_FEATURES) / np.sqrt(NUM_FEATURES)
    rng = np.random.default_rng([seed, split])
    x = rng.normal(size=(examples, NUM_FEATURES)).astype(np.float32)
    scores = x @ class_weights + rng.normal(scale=0.5, size=(examples, NUM_CLASSES))
    value = 10.0 * np.exp(x @ value_weights + rng.normal(scale=0.1, size=examples))
    features = {"x": x, "weight": rng.integers(1, 4, examples).astype(np.float32)}
    labels = {"class": scores.argmax(axis=1).astype(np.int64), "value": value.astype(np.float32)}
    return features, labels


def model_fn(features, labels, mode):
    """A two-headed model whose eval metrics are all three builders."""
    hidden = tf.compat.v1.layers.dense(features["x"], 32, activation=tf.nn.relu)
    logits = tf.compat.v1.layers.dense(hidden, NUM_CLASSES)
    log_value = tf.compat.v1.layers.dense(
        hidden, 1, bias_initializer=tf.constant_initializer(np.log(10.0))
    )
    value = tf.exp(log_value)  # Positive, multiplicative errors: fitted in log space.
    probabilities = tf.nn.softmax(logits)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(
            mode, predictions={"probabilities": probabilities, "value": value}
        )
    weight = features["weight"]
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(
        labels["class"], logits, weights=weight
    ) + tf.compat.v1.losses.mean_squared_error(
        tf.math.log(labels["value"])[:, None], log_value, weights=weight[:, None]
    )
    train_op = tf.compat.v1.train.AdamOptimizer(0.01).minimize(
        loss, global_step=tf.compat.v1.train.get_or_create_global_step()
    )
    metrics = {
        F1_MACRO: builders.fbeta(
            labels["class"], probabilities, num_classes=NUM_CLASSES, average="macro", weights=weight
        ),
        # [B] labels against the [B, 1] head: aligned, never broadcast to [B, B].
        MAPE: builders.mape(labels["value"], value, weights=weight),
        AVERAGE_CONFIDENCE: builders.average_confidence(probabilities, weights=weight),
    }
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op, eval_metric_ops=metrics)


def numpy_metrics(
    labels: dict, weight: np.ndarray, probabilities: np.ndarray, value: np.ndarray
) -> dict:
    """The same three metrics, recomputed in float64 NumPy from predictions."""
    weight = weight.astype(np.float64)
    predicted = probabilities.argmax(axis=1)
    hit = weight * (predicted == labels["class"])
    tp = np.bincount(labels["class"], hit, NUM_CLASSES)
    fp = np.bincount(predicted, weight, NUM_CLASSES) - tp
    fn = np.bincount(labels["class"], weight, NUM_CLASSES) - tp
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros(NUM_CLASSES), where=denominator > 0)
    truth = labels["value"].astype(np.float64)
    errors = np.abs(truth - value.astype(np.float64)) / np.maximum(np.abs(truth), 1e-7)
    confidence = probabilities.astype(np.float64).max(axis=1)
    return {
        F1_MACRO: f1.mean(),
        MAPE: 100 * np.sum(weight * errors) / weight.sum(),
        AVERAGE_CONFIDENCE: np.sum(weight * confidence) / weight.sum(),
    }


def _input_fn(features, labels, *, train: bool, seed: int):
    def input_fn():
        data = tf.data.Dataset.from_tensor_slices((features, labels))
        if train:
            data = data.shuffle(TRAIN_EXAMPLES, seed=seed).repeat()
        return data.batch(BATCH)

    return input_fn


def run(steps: int, model_dir: str, seed: int) -> list[tuple[str, float, float]]:
    """Trains, evaluates, recomputes; returns (metric, Estimator, NumPy) rows."""
    train_features, train_labels = make_data(seed, TRAIN_EXAMPLES, split=0)
    eval_features, eval_labels = make_data(seed, EVAL_EXAMPLES, split=1)
    estimator = tf.estimator.Estimator(
        model_fn,
        model_dir=model_dir,
        config=tf.estimator.RunConfig(tf_random_seed=seed, log_step_count_steps=None),
    )
    estimator.train(_input_fn(train_features, train_labels, train=True, seed=seed), steps=steps)
    evaluated = estimator.evaluate(_input_fn(eval_features, eval_labels, train=False, seed=seed))
    predictions = list(
        estimator.predict(
            lambda: tf.data.Dataset.from_tensor_slices(eval_features).batch(BATCH),
            yield_single_examples=False,
        )
    )
    reference = numpy_metrics(
        eval_labels,
        eval_features["weight"],
        np.concatenate([p["probabilities"] for p in predictions]),
        np.concatenate([p["value"] for p in predictions])[:, 0],
    )
    return [(name, float(evaluated[name]), float(reference[name])) for name in reference]
