"""What the benchmarks evaluate: tasks, their data and model, and metric sets (a)-(f).

A *task* is one metric on one small dense model (32 features -> 64 ReLU -> head):

* ``binary``: F-beta of class 1 from a sigmoid head [B, 1], `p > 0.5`.
* ``macro<C>``: macro F-beta over C classes from a softmax head [B, C], argmax.
* ``mape``: MAPE of a regression head [B, 1] against [B] labels.
* ``confidence``: average confidence (mean of the top softmax probability), 10 classes.

A *variant* is one way of computing that metric during `Estimator.evaluate`:

* (a) loss only (no `eval_metric_ops`; Estimator still adds its `loss` mean);
* (b) hand-written `tf.compat.v1.metrics`: F-beta from `precision` + `recall` (one pair per
  class for macro), MAPE and average confidence from `tf.compat.v1.metrics.mean`;
* (c) `estimator_metrics.builders`;
* (d) a Keras metric through `adapter.from_keras`;
* (e) the stock Keras object handed to `EstimatorSpec` after one `update_state` call
  (Estimator runs only `metric.updates[0]`: right for MAPE and `Mean`, wrong for
  `FBetaScore`, which it runs anyway so that its cost can be shown);
* (f) Python-side: a hook fetches predictions and labels every step and scikit-learn (NumPy
  for average confidence) computes the metric once at the end, the approach popular answers
  recommend for "eager" metrics.

Every variant of a task reads the same tensors: F-beta variants read the softmax (or sigmoid)
probabilities, (b) and (f) derive class ids from them with `argmax`, so that no variant pays
for an input another one gets for free (the session prunes whatever no fetch needs).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

BATCH = 1024
NUM_FEATURES = 32
HIDDEN = 64
BETA = 0.5
THRESHOLD = 0.5
#: Values of (b)-(f) must match the scikit-learn value of (f) this closely (float32 state in
#: (b), (d), (e) over ~10^5 examples: ~1e-6); a wrong metric is off by far more.
VALUE_RTOL = 1e-4

VARIANTS = ("a", "b", "c", "d", "e", "f")
#: Diagnostic variants, each run only for the task kinds DIAGNOSED_KINDS names: (g) is (c)
#: built with its run-time input checks replaced by nothing, to show what the checks cost
#: per step; (t) is (c)'s F-beta as `precision_recall_fbeta`, precision and recall from the
#: same state, to show what the two more scores cost; (h) is the calibration error
#: (`builders.calibration_error`, 15 bins) of the same probabilities, beside average
#: confidence's (c): what calibration costs on top of it.
DIAGNOSTIC_VARIANTS = ("g", "t", "h")
DIAGNOSED_KINDS = {"g": ("binary", "confidence"), "t": ("binary", "macro"), "h": ("confidence",)}
#: Variants whose value is another metric than (f)'s: not checked against it.
OTHER_METRIC_VARIANTS = ("h",)
#: From this many classes on a task runs (a), (c) and (f) only: the race of our update
#: against fetching to Python, where it is widest. (b) would build its graph for an hour
#: or more, and the Keras variants and the diagnostics would add minutes to every round.
RACE_ONLY_FROM = 10_000


@dataclasses.dataclass(frozen=True)
class Task:
    key: str
    title: str
    kind: str  # "binary", "macro", "mape", "confidence"
    num_classes: int  # Width of the head: 1 (sigmoid, regression) or C (softmax).
    #: Why (e) is or is not a correct way to compute this metric.
    stock: str
    stock_correct: bool


def binary_task() -> Task:
    return Task(
        "binary",
        "binary F-beta",
        "binary",
        1,
        "FBetaScore: only updates[0] runs, value wrong",
        False,
    )


def macro_task(num_classes: int) -> Task:
    return Task(
        f"macro{num_classes}",
        f"{num_classes:,}-class macro F-beta",
        "macro",
        num_classes,
        "FBetaScore: only updates[0] runs, value wrong",
        False,
    )


def mape_task() -> Task:
    return Task(
        "mape", "MAPE", "mape", 1, "MeanAbsolutePercentageError: one update op, correct", True
    )


def confidence_task() -> Task:
    return Task(
        "confidence",
        "average confidence (10 classes)",
        "confidence",
        10,
        "Mean of reduce_max(p): one update op, correct",
        True,
    )


def task_variants(task: Task, variants: Sequence[str] = VARIANTS) -> tuple:
    """Which of `variants`, and of the diagnostic variants, run for `task`."""
    if task.kind == "macro" and task.num_classes >= RACE_ONLY_FROM:
        return tuple(v for v in variants if v in ("a", "c", "f"))
    return tuple(variants) + tuple(
        v for v in DIAGNOSTIC_VARIANTS if task.kind in DIAGNOSED_KINDS[v] and v not in variants
    )


def make_task(key: str) -> Task:
    if key.startswith("macro"):
        return macro_task(int(key[len("macro") :]))
    return {"binary": binary_task, "mape": mape_task, "confidence": confidence_task}[key]()


# ---------------------------------------------------------------------------------- data


def make_data(task: Task, num_examples: int, seed: int) -> tuple[dict, np.ndarray]:
    """Seeded `({"x": [N, 32] float32}, labels)` a teacher model labels; learnable."""
    rng = np.random.default_rng([seed, task.num_classes, len(task.kind)])
    teacher = np.random.default_rng([7, task.num_classes, len(task.kind)])
    x = rng.normal(size=(num_examples, NUM_FEATURES)).astype(np.float32)
    if task.kind == "binary":
        w = teacher.normal(size=NUM_FEATURES) / np.sqrt(NUM_FEATURES)
        labels = (x @ w + 0.5 * rng.normal(size=num_examples) > 0.5).astype(np.int64)  # ~30%
    elif task.kind in ("macro", "confidence"):
        w = teacher.normal(size=(NUM_FEATURES, task.num_classes))
        labels = np.argmax(x @ w + rng.gumbel(size=(num_examples, task.num_classes)), axis=1)
        labels = labels.astype(np.int64)
    else:  # mape: positive targets in about [0.8, 120], away from 0.
        w = teacher.normal(size=NUM_FEATURES) / np.sqrt(NUM_FEATURES)
        labels = 10 * np.exp(0.8 * (x @ w) + 0.1 * rng.normal(size=num_examples))
        labels = labels.astype(np.float32)
    return {"x": x}, labels


def array_input_fn(features: dict, labels: np.ndarray, *, train: bool) -> Callable:
    """The same input_fn for every variant: in-memory batches of BATCH, cached, repeated."""

    def input_fn():
        data = tf.data.Dataset.from_tensor_slices((features, labels))
        if train:
            data = data.shuffle(len(labels), seed=1)
        data = data.batch(BATCH, drop_remainder=True).cache().repeat()
        return data.prefetch(2)

    return input_fn


# ---------------------------------------------------------------------------------- model


@dataclasses.dataclass
class Heads:
    """The model's outputs; metric variants pick what they need (the rest is pruned)."""

    logits: tf.Tensor
    probabilities: tf.Tensor | None = None  # [B, C] softmax or [B, 1] sigmoid
    value: tf.Tensor | None = None  # regression [B, 1]


def model(features: dict, labels, task: Task) -> tuple[Heads, tf.Tensor]:
    """The small dense model and its loss."""
    # Op-level seeds: the same initial weights in every variant's graph, checkpoint or not.
    hidden = tf.compat.v1.layers.dense(
        features["x"],
        HIDDEN,
        activation=tf.nn.relu,
        name="hidden",
        kernel_initializer=tf.compat.v1.glorot_uniform_initializer(seed=1),
    )
    logits = tf.compat.v1.layers.dense(
        hidden,
        task.num_classes,
        name="head",
        kernel_initializer=tf.compat.v1.glorot_uniform_initializer(seed=2),
    )
    if task.kind == "binary":
        heads = Heads(logits, probabilities=tf.sigmoid(logits))
        loss = tf.compat.v1.losses.sigmoid_cross_entropy(
            tf.reshape(tf.cast(labels, tf.float32), [-1, 1]), logits
        )
    elif task.kind in ("macro", "confidence"):
        heads = Heads(logits, probabilities=tf.nn.softmax(logits))
        loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, logits)
    else:
        heads = Heads(logits, value=logits)
        loss = tf.compat.v1.losses.absolute_difference(tf.reshape(labels, [-1, 1]), logits)
    return heads, loss


# ------------------------------------------------------------------ metric variants (b)-(f)


def handwritten_fbeta(precision, recall, beta: float = BETA) -> tf.Tensor:
    b2 = beta * beta
    return tf.math.divide_no_nan((1 + b2) * precision * recall, b2 * precision + recall)


class ClassDeadline(Exception):
    """Raised by `handwritten_macro_fbeta` when `deadline` passes; `built` classes done."""

    def __init__(self, built: int):
        super().__init__(built)
        self.built = built


def handwritten_macro_fbeta(
    labels,
    class_ids,
    num_classes: int,
    beta: float = BETA,
    deadline: float | None = None,
    progress=None,
):
    """Macro F-beta as users write it today: one precision and one recall per class.

    `deadline` (a `time.perf_counter()` value) stops the build between two classes by
    raising `ClassDeadline`; `progress(classes_built)` is called every 100 classes.
    """
    scores, updates = [], []
    with tf.compat.v1.name_scope("fbeta_by_hand"):
        for c in range(num_classes):
            if deadline is not None and time.perf_counter() > deadline:
                raise ClassDeadline(c)
            if progress is not None and c and c % 100 == 0:
                progress(c)
            is_true = tf.equal(labels, c)
            is_predicted = tf.equal(class_ids, c)
            precision, precision_update = tf.compat.v1.metrics.precision(is_true, is_predicted)
            recall, recall_update = tf.compat.v1.metrics.recall(is_true, is_predicted)
            scores.append(handwritten_fbeta(precision, recall, beta))
            updates += [precision_update, recall_update]
        return tf.reduce_mean(tf.stack(scores)), tf.group(*updates)


def _one_hot(labels, task: Task):
    return tf.one_hot(labels, task.num_classes)


def metric_b(task: Task, heads: Heads, labels) -> dict:
    if task.kind == "binary":
        is_true = tf.reshape(tf.equal(labels, 1), [-1])
        is_predicted = tf.reshape(heads.probabilities > THRESHOLD, [-1])
        precision, precision_update = tf.compat.v1.metrics.precision(is_true, is_predicted)
        recall, recall_update = tf.compat.v1.metrics.recall(is_true, is_predicted)
        return {
            "metric": (
                handwritten_fbeta(precision, recall),
                tf.group(precision_update, recall_update),
            )
        }
    if task.kind == "macro":
        class_ids = tf.argmax(heads.probabilities, axis=-1)
        return {"metric": handwritten_macro_fbeta(labels, class_ids, task.num_classes)}
    if task.kind == "mape":
        y = tf.reshape(labels, [-1])
        p = tf.reshape(heads.value, [-1])
        return {
            "metric": tf.compat.v1.metrics.mean(100.0 * tf.abs(y - p) / tf.maximum(tf.abs(y), 1e-7))
        }
    return {"metric": tf.compat.v1.metrics.mean(tf.reduce_max(heads.probabilities, axis=-1))}


def metric_c(task: Task, heads: Heads, labels) -> dict:
    from estimator_metrics import builders

    if task.kind == "binary":
        return {"metric": builders.fbeta(labels, heads.probabilities, beta=BETA)}
    if task.kind == "macro":
        return {
            "metric": builders.fbeta(
                labels,
                heads.probabilities,
                beta=BETA,
                num_classes=task.num_classes,
                average="macro",
            )
        }
    if task.kind == "mape":
        return {"metric": builders.mape(labels, heads.value)}
    return {"metric": builders.average_confidence(heads.probabilities)}


def metric_g(task: Task, heads: Heads, labels) -> dict:
    """(c) with every run-time check of the builders made a no-op (diagnostic only)."""
    from estimator_metrics.diagnostics import checks_off

    with checks_off():
        return metric_c(task, heads, labels)


def metric_t(task: Task, heads: Heads, labels) -> dict:
    """(c)'s F-beta with precision and recall from its state: `precision_recall_fbeta`."""
    from estimator_metrics import builders

    options = {"num_classes": task.num_classes, "average": "macro"} if task.kind == "macro" else {}
    triple = builders.precision_recall_fbeta(labels, heads.probabilities, beta=BETA, **options)
    return {"metric": triple["fbeta"], "precision": triple["precision"], "recall": triple["recall"]}


def metric_h(task: Task, heads: Heads, labels) -> dict:
    """The calibration error of (c)'s probabilities (average confidence's task only)."""
    from estimator_metrics import builders

    return {"metric": builders.calibration_error(labels, heads.probabilities)}


def _keras_metric_and_inputs(task: Task, heads: Heads, labels):
    """(metric, y_true, y_pred) of the Keras way of computing the task's metric."""
    from estimator_metrics.keras_metrics import AverageConfidence

    if task.kind == "binary":
        # One column, thresholded: "micro" over it is F-beta of class 1.
        return (
            tf.keras.metrics.FBetaScore(beta=BETA, average="micro", threshold=THRESHOLD),
            tf.reshape(tf.cast(labels, tf.float32), [-1, 1]),
            heads.probabilities,
        )
    if task.kind == "macro":
        return (
            tf.keras.metrics.FBetaScore(beta=BETA, average="macro", threshold=None),
            _one_hot(labels, task),
            heads.probabilities,
        )
    if task.kind == "mape":
        return (
            tf.keras.metrics.MeanAbsolutePercentageError(),
            tf.reshape(labels, [-1, 1]),
            heads.value,
        )
    return AverageConfidence(), None, heads.probabilities


def metric_d(task: Task, heads: Heads, labels) -> dict:
    from estimator_metrics import adapter

    metric, y_true, y_pred = _keras_metric_and_inputs(task, heads, labels)
    return {"metric": adapter.from_keras(metric, y_true, y_pred)}


def metric_e(task: Task, heads: Heads, labels) -> dict:
    if task.kind == "confidence":  # No stock Keras AverageConfidence: Mean of the top p.
        metric = tf.keras.metrics.Mean()
        metric.update_state(tf.reduce_max(heads.probabilities, axis=-1))
        return {"metric": metric}
    metric, y_true, y_pred = _keras_metric_and_inputs(task, heads, labels)
    metric.update_state(y_true, y_pred)
    return {"metric": metric}


class PythonSideHook(tf.estimator.SessionRunHook):
    """(f): fetches `fetches` every step, computes the metric with `compute` at the end."""

    def __init__(self, fetches: dict, compute: Callable[..., float], sink: dict):
        self._fetches = fetches
        self._compute = compute
        self._sink = sink
        self._chunks = {key: [] for key in fetches}

    def before_run(self, run_context):
        return tf.estimator.SessionRunArgs(self._fetches)

    def after_run(self, run_context, run_values):
        for key, value in run_values.results.items():
            self._chunks[key].append(value)

    def end(self, session):
        start = time.perf_counter()
        arrays = {key: np.concatenate(chunks) for key, chunks in self._chunks.items()}
        self._chunks = {key: [] for key in self._fetches}
        self._sink["value"] = float(self._compute(**arrays))
        self._sink["end_seconds"] = time.perf_counter() - start
        self._sink["examples"] = len(next(iter(arrays.values())))


def python_side(task: Task, heads: Heads, labels, sink: dict) -> PythonSideHook:
    """(f) for `task`: what it fetches per step and how scikit-learn/NumPy finishes it."""
    from sklearn.metrics import fbeta_score, mean_absolute_percentage_error

    if task.kind == "binary":
        fetches = {"labels": labels, "probabilities": heads.probabilities}

        def compute(labels, probabilities):
            return fbeta_score(
                labels,
                (probabilities[:, 0] > THRESHOLD).astype(np.int64),
                beta=BETA,
                average="binary",
                zero_division=0,
            )
    elif task.kind == "macro":
        fetches = {"labels": labels, "class_ids": tf.argmax(heads.probabilities, axis=-1)}

        def compute(labels, class_ids):
            return fbeta_score(
                labels,
                class_ids,
                beta=BETA,
                average="macro",
                labels=np.arange(task.num_classes),
                zero_division=0,
            )
    elif task.kind == "mape":
        fetches = {"labels": labels, "value": heads.value}

        def compute(labels, value):
            return 100 * mean_absolute_percentage_error(
                labels.astype(np.float64), value[:, 0].astype(np.float64)
            )
    else:
        fetches = {"probabilities": heads.probabilities}

        def compute(probabilities):
            return np.mean(probabilities.astype(np.float64).max(axis=1))

    return PythonSideHook(fetches, compute, sink)


METRIC_BUILDERS = {
    "b": metric_b,
    "c": metric_c,
    "d": metric_d,
    "e": metric_e,
    "g": metric_g,
    "t": metric_t,
    "h": metric_h,
}


def make_model_fn(
    task: Task,
    variant: str,
    record: dict,
    train_learning_rate: float = 0.01,
    last_hooks: Sequence[tf.estimator.SessionRunHook] = (),
):
    """A model_fn of `task` with `variant`'s metrics; `record` receives build facts.

    record["metric_ops"]: ops the metric code added; record["metric_build_seconds"] and
    record["model_fn_seconds"]: time to build the metric ops and the whole EVAL model_fn;
    record["python_side"]: filled by (f)'s hook at the end of evaluate. `last_hooks` go
    after the variant's own evaluation hooks (e.g. a clock that stops after them).
    """

    def model_fn(features, labels, mode):
        start = time.perf_counter()
        heads, loss = model(features, labels, task)
        if mode == tf.estimator.ModeKeys.TRAIN:
            train_op = tf.compat.v1.train.AdamOptimizer(train_learning_rate).minimize(
                loss, global_step=tf.compat.v1.train.get_or_create_global_step()
            )
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
        graph = tf.compat.v1.get_default_graph()
        ops_before = len(graph.get_operations())
        metric_start = time.perf_counter()
        metric_ops, hooks = None, []
        if variant in METRIC_BUILDERS:
            metric_ops = METRIC_BUILDERS[variant](task, heads, labels)
        elif variant == "f":
            record["python_side"] = {}
            hooks = [python_side(task, heads, labels, record["python_side"])]
        hooks += list(last_hooks)
        # EstimatorSpec adds result() ops for Keras objects (e): count them too.
        spec = tf.estimator.EstimatorSpec(
            mode, loss=loss, eval_metric_ops=metric_ops, evaluation_hooks=hooks
        )
        end = time.perf_counter()
        record["metric_build_seconds"] = end - metric_start
        record["metric_ops"] = len(graph.get_operations()) - ops_before
        record["model_fn_seconds"] = end - start
        return spec

    return model_fn
