"""Runs metric ops through a real `tf.estimator` `Estimator.evaluate`.

`evaluate_with_metrics` builds a tiny Estimator (one trainable scalar `bias`)
whose `model_fn` hands the input_fn's `features` and `labels` tensors to a
`metric_fn(labels, features) -> {name: (value, update_op)}` and returns what
`Estimator.evaluate` returns. Three ways of attaching the metrics:

* ``"spec"``: `tf.estimator.EstimatorSpec(eval_metric_ops=metric_fn(...))`.
* ``"add_metrics"``: a plain Estimator wrapped by `tf.estimator.add_metrics`.
* ``"tpu"``: `tf.compat.v1.estimator.tpu.TPUEstimator(use_tpu=False)` with
  `TPUEstimatorSpec(eval_metrics=(host_fn, tensors))`.

The second half of the module holds the builder cases (data, metric ops and
NumPy/sklearn oracles) shared by `test_estimator_integration.py` and
`test_distributed.py`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

tf.get_logger().setLevel("ERROR")

MODES = ("spec", "add_metrics", "tpu")
#: Name of the model's only trainable variable.
BIAS = "bias"
_LABELS_KEY = "labels"
_FEATURE_PREFIX = "feature__"
_LABEL_PREFIX = "label__"

MetricFn = Callable[[Any, Mapping[str, tf.Tensor]], Mapping[str, tuple]]


def evaluate_with_metrics(
    metric_fn: MetricFn,
    features: Mapping[str, np.ndarray],
    labels: Any,
    *,
    batch_size: int,
    mode: str = "spec",
    model_dir: str,
    config: tf.estimator.RunConfig | None = None,
    train_steps: int = 0,
    metrics_in_train: bool = False,
) -> dict:
    """`Estimator.evaluate(steps=None)` over all examples, with `metric_fn`'s ops.

    Args:
      metric_fn: `metric_fn(labels, features)` -> dict of `(value, update_op)`;
        called with one batch's tensors (`features` a dict, `labels` a tensor
        or a dict, as given here).
      features: Dict of NumPy arrays sharing their first (example) axis.
      labels: NumPy array, or dict of arrays, with that first axis; or None.
      batch_size: Examples per evaluation step. The input is
        `Dataset.from_tensor_slices(...).batch(batch_size,
        drop_remainder=False)`, in order, read once. Under an
        `eval_distribute` strategy this is the global batch: each replica
        gets `batch_size / num_replicas` examples per step (see
        `_input_fn`).
      mode: One of `MODES`.
      model_dir: Checkpoint directory (use pytest's tmp_path).
      config: Optional `RunConfig` (a `tpu.RunConfig` for mode "tpu").
      train_steps: If > 0, `train` this many steps first (input repeated), so
        `evaluate` restores a checkpoint.
      metrics_in_train: Also build `metric_fn`'s ops in TRAIN mode and run
        their updates with the train op (as models that log training metrics
        do), so the checkpoint is written by a graph holding metric state.

    Returns:
      The dict returned by `Estimator.evaluate`: every metric, plus "loss"
      and "global_step".

    Raises:
      ValueError: for an unknown `mode`, arrays of different lengths, or, in
        mode "tpu", a dataset size that `batch_size` does not divide (TPU
        evaluation needs equal, full batches: TPUEstimator's documented
        limitation, even though `use_tpu=False` would accept a partial one).
    """
    if mode not in MODES:
        raise ValueError(f"Expected `mode` in {MODES}, received mode={mode!r}")
    num_examples = _num_examples(features, labels)
    if mode == "tpu" and num_examples % batch_size:
        raise ValueError(
            f"mode='tpu' needs equal full batches: batch_size={batch_size} must divide "
            f"the number of examples ({num_examples})"
        )
    model = _Model(metric_fn, metrics_in_train)
    if mode == "spec":
        estimator = tf.estimator.Estimator(model.model_fn, model_dir=model_dir, config=config)
    elif mode == "add_metrics":
        base = tf.estimator.Estimator(model.base_model_fn, model_dir=model_dir, config=config)

        def add_metrics_fn(features, labels):  # add_metrics passes these by name.
            return metric_fn(labels, features)

        estimator = tf.estimator.add_metrics(base, add_metrics_fn)
    else:
        tpu = tf.compat.v1.estimator.tpu
        estimator = tpu.TPUEstimator(
            model_fn=model.tpu_model_fn,
            model_dir=model_dir,
            config=config or tpu.RunConfig(),
            use_tpu=False,
            train_batch_size=batch_size,
            eval_batch_size=batch_size,
        )
    if train_steps:
        estimator.train(
            _input_fn(features, labels, batch_size, train=True, tpu=mode == "tpu"),
            steps=train_steps,
        )
    return estimator.evaluate(
        _input_fn(features, labels, batch_size, train=False, tpu=mode == "tpu"), steps=None
    )


def checkpoint_variable_names(model_dir: str) -> list[str]:
    """Names of the variables saved in `model_dir`'s latest checkpoint."""
    return sorted(name for name, _ in tf.train.list_variables(model_dir))


class _Model:
    """model_fns of a model with one trainable scalar and metric_fn's metrics."""

    def __init__(self, metric_fn: MetricFn, metrics_in_train: bool):
        self._metric_fn = metric_fn
        self._metrics_in_train = metrics_in_train

    def _loss_and_train_op(self, features, labels, mode):
        bias = tf.compat.v1.get_variable(
            BIAS, shape=[], dtype=tf.float32, initializer=tf.compat.v1.zeros_initializer()
        )
        loss = tf.square(bias - 1.0)  # Training moves bias from 0 towards 1.
        if mode != tf.estimator.ModeKeys.TRAIN:
            return loss, None
        train_op = tf.compat.v1.train.GradientDescentOptimizer(0.25).minimize(
            loss, global_step=tf.compat.v1.train.get_or_create_global_step()
        )
        if self._metrics_in_train:
            updates = [update for _, update in self._metric_fn(labels, features).values()]
            train_op = tf.group(train_op, *updates)
        return loss, train_op

    def base_model_fn(self, features, labels, mode):
        loss, train_op = self._loss_and_train_op(features, labels, mode)
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

    def model_fn(self, features, labels, mode):
        loss, train_op = self._loss_and_train_op(features, labels, mode)
        metric_ops = None
        if mode == tf.estimator.ModeKeys.EVAL:
            metric_ops = dict(self._metric_fn(labels, features))
        return tf.estimator.EstimatorSpec(
            mode, loss=loss, train_op=train_op, eval_metric_ops=metric_ops
        )

    def tpu_model_fn(self, features, labels, mode, params):
        del params  # params["batch_size"] was used by the input_fn.
        loss, train_op = self._loss_and_train_op(features, labels, mode)
        spec = tf.compat.v1.estimator.tpu.TPUEstimatorSpec
        if mode != tf.estimator.ModeKeys.EVAL:
            return spec(mode, loss=loss, train_op=train_op)
        # On a TPU, `tensors` would be outfed and `host_fn` run on the host;
        # with use_tpu=False TPUEstimator calls host_fn(**tensors) directly.
        tensors = {_FEATURE_PREFIX + key: value for key, value in features.items()}
        if isinstance(labels, Mapping):
            tensors.update({_LABEL_PREFIX + key: value for key, value in labels.items()})
        elif labels is not None:
            tensors[_LABELS_KEY] = labels

        def host_fn(**tensors):
            host_features = _unprefix(tensors, _FEATURE_PREFIX)
            host_labels = _unprefix(tensors, _LABEL_PREFIX) or tensors.get(_LABELS_KEY)
            return dict(self._metric_fn(host_labels, host_features))

        return spec(mode, loss=loss, eval_metrics=(host_fn, tensors))


def _unprefix(tensors: Mapping[str, Any], prefix: str) -> dict:
    return {key[len(prefix) :]: value for key, value in tensors.items() if key.startswith(prefix)}


def _num_examples(features: Mapping[str, np.ndarray], labels: Any) -> int:
    arrays = dict(features)
    if isinstance(labels, Mapping):
        arrays.update({f"labels[{key!r}]": value for key, value in labels.items()})
    elif labels is not None:
        arrays["labels"] = labels
    lengths = {name: len(value) for name, value in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"Expected arrays with one number of examples, received {lengths}")
    return next(iter(lengths.values()))


def _input_fn(features, labels, batch_size: int, *, train: bool, tpu: bool):
    """A deterministic input_fn: in order, no shuffling, drop_remainder=False."""
    num_examples = _num_examples(features, labels)
    elements = dict(features) if labels is None else (dict(features), labels)

    def dataset(per_step_batch: int) -> tf.data.Dataset:
        data = tf.data.Dataset.from_tensor_slices(elements)
        if train:
            data = data.repeat()
        return data.batch(per_step_batch, drop_remainder=False)

    if tpu:

        def tpu_input_fn(params):  # TPUEstimator requires `params`.
            assert params["batch_size"] == batch_size, params
            return dataset(params["batch_size"])

        return tpu_input_fn

    def input_fn(input_context=None):
        if input_context is None or input_context.num_replicas_in_sync == 1:
            return dataset(batch_size)
        # Under eval_distribute, Estimator calls the input_fn once and hands
        # consecutive *elements* to the replicas in turn (no rebatching), so
        # each element is one replica's batch. If the last step has fewer
        # elements than replicas, the missing replica's get_next raises
        # OutOfRangeError while the others may or may not have applied their
        # updates: whether the final batch is counted is a race. Refuse it.
        replicas = input_context.num_replicas_in_sync
        per_replica = input_context.get_per_replica_batch_size(batch_size)
        num_elements = math.ceil(num_examples / per_replica)
        if num_elements % replicas:
            raise ValueError(
                f"{num_examples} examples in per-replica batches of {per_replica} make "
                f"{num_elements} elements, not a multiple of {replicas} replicas: the "
                "last step would count its partial batch nondeterministically"
            )
        return dataset(per_replica)

    return input_fn


# ---------------------------------------------------------------------------
# Builder cases shared by the integration and the distributed tests.
# ---------------------------------------------------------------------------

NUM_CLASSES = 5
DATA_SEED = 20261122


@dataclasses.dataclass(frozen=True)
class BuilderCase:
    """One builder call on the shared data, and its independent oracle.

    `build(labels, features, **kwargs)` takes dicts of tensors (one batch)
    and returns `(value, update_op)`; `kwargs` go to the builder (e.g.
    `metrics_collections`); `oracle(labels, features)` takes the dicts of all
    NumPy arrays and returns the expected value, computed with NumPy/sklearn.
    """

    name: str
    build: Callable[[Mapping, Mapping], tuple]
    oracle: Callable[[Mapping, Mapping], Any]


def make_builder_data(num_examples: int, seed: int = DATA_SEED) -> tuple[dict, dict]:
    """Seeded `(features, labels)` dicts of NumPy arrays for every case."""
    rng = np.random.default_rng(seed)
    n = num_examples
    regression = rng.uniform(0.5, 20, n) * rng.choice([-1, 1], n)  # Away from 0.
    regression_predictions = regression * rng.uniform(0.5, 1.5, n) + rng.normal(size=n)
    # Integer and fractional weights, some zero.
    weights = rng.integers(0, 4, n) * rng.choice([0.5, 1.0, 1.5], n)
    logits = rng.normal(size=(n, NUM_CLASSES)) * 2
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    features = {
        "weights": weights.astype(np.float32),
        "regression_predictions": regression_predictions[:, None].astype(np.float32),
        "binary_probabilities": rng.uniform(0, 1, n).astype(np.float32),
        "multiclass_probabilities": (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32),
        "multilabel_probabilities": rng.uniform(0, 1, (n, NUM_CLASSES)).astype(np.float32),
    }
    labels = {
        "regression": regression.astype(np.float32),
        "binary": rng.integers(0, 2, n).astype(np.int64),
        "multiclass": rng.integers(0, NUM_CLASSES, n).astype(np.int32),
        "multilabel": rng.integers(0, 2, (n, NUM_CLASSES)).astype(np.int32),
    }
    return features, labels


def take(features: Mapping, labels: Mapping, num_examples: int) -> tuple[dict, dict]:
    """The first `num_examples` of every array."""
    return (
        {key: value[:num_examples] for key, value in features.items()},
        {key: value[:num_examples] for key, value in labels.items()},
    )


def _f64(array) -> np.ndarray:
    return np.asarray(array, dtype=np.float64)


def _fbeta_oracle(y_true, y_pred, weights, **kwargs):
    from sklearn.metrics import fbeta_score

    return fbeta_score(y_true, y_pred, sample_weight=_f64(weights), zero_division=0, **kwargs)


def _builder_cases() -> tuple[BuilderCase, ...]:
    classes = list(range(NUM_CLASSES))
    return (
        _mape_case(),
        _fbeta_case(
            "fbeta_binary", "binary", _above_half,
            builder_options=dict(beta=0.5), oracle_options=dict(beta=0.5, average="binary"),
        ),
        _fbeta_case(
            "fbeta_multiclass_macro", "multiclass", _argmax,
            builder_options=dict(beta=2.0, num_classes=NUM_CLASSES, average="macro"),
            oracle_options=dict(beta=2.0, average="macro", labels=classes),
        ),
        _fbeta_case(
            "fbeta_multiclass_per_class", "multiclass", _argmax,
            builder_options=dict(num_classes=NUM_CLASSES, average=None),  # beta: the default, 1
            oracle_options=dict(beta=1.0, average=None, labels=classes),
        ),
        _fbeta_case(
            "fbeta_multilabel_micro", "multilabel", _above_half,
            builder_options=dict(beta=1.5, average="micro", multilabel=True),
            oracle_options=dict(beta=1.5, average="micro"),
        ),
        _average_confidence_case(),
        _calibration_case("calibration_error", "multiclass", num_bins=10),
        _calibration_case("calibration_error_binary_l2", "binary", norm="l2"),
    )  # fmt: skip


def _mape_case() -> BuilderCase:
    from sklearn.metrics import mean_absolute_percentage_error

    from estimator_metrics import builders

    def build(y, x, **kw):
        return builders.mape(
            y["regression"], x["regression_predictions"], weights=x["weights"], **kw
        )

    def oracle(y, x):
        # sklearn's floor of |y| is float64 eps, ours 1e-7: |y| >= 0.5 here.
        return 100 * mean_absolute_percentage_error(
            _f64(y["regression"]),
            _f64(x["regression_predictions"][:, 0]),
            sample_weight=_f64(x["weights"]),
        )

    return BuilderCase("mape", build, oracle)


def _fbeta_case(
    name: str,
    task: str,
    decide: Callable[[np.ndarray], np.ndarray],
    *,
    builder_options: Mapping[str, Any],
    oracle_options: Mapping[str, Any],
) -> BuilderCase:
    """`builders.fbeta` on labels[task] and features[f"{task}_probabilities"], against
    sklearn's fbeta_score of the classes `decide` picks from those probabilities."""
    from estimator_metrics import builders

    probabilities = f"{task}_probabilities"

    def build(y, x, **kw):
        return builders.fbeta(
            y[task], x[probabilities], weights=x["weights"], **builder_options, **kw
        )

    def oracle(y, x):
        return _fbeta_oracle(y[task], decide(x[probabilities]), x["weights"], **oracle_options)

    return BuilderCase(name, build, oracle)


def _above_half(probabilities: np.ndarray) -> np.ndarray:
    """The binary and multilabel decision: 1 where the probability exceeds 0.5."""
    return (probabilities > 0.5).astype(np.int64)


def _argmax(probabilities: np.ndarray) -> np.ndarray:
    """The multiclass decision: the most probable class."""
    return probabilities.argmax(axis=1)


def _average_confidence_case() -> BuilderCase:
    from estimator_metrics import builders

    def build(y, x, **kw):
        return builders.average_confidence(
            x["multiclass_probabilities"], weights=x["weights"], **kw
        )

    def oracle(y, x):
        return np.average(
            _f64(x["multiclass_probabilities"]).max(axis=1), weights=_f64(x["weights"])
        )

    return BuilderCase("average_confidence", build, oracle)


def _calibration_case(name: str, task: str, **options) -> BuilderCase:
    """`builders.calibration_error` on labels[task] and features[f"{task}_probabilities"]
    (top-label, or of class 1), against the NumPy bins of support.calibration."""
    from estimator_metrics import builders
    from support import calibration

    probabilities = f"{task}_probabilities"
    decide = calibration.top_label if task == "multiclass" else calibration.of_class_1

    def build(y, x, **kw):
        return builders.calibration_error(
            y[task], x[probabilities], weights=x["weights"], **options, **kw
        )

    def oracle(y, x):
        state = calibration.bins(
            *decide(y[task], x[probabilities]), x["weights"], options.get("num_bins", 15)
        )
        return calibration.calibration_error(state, options.get("norm", "l1"))

    return BuilderCase(name, build, oracle)


BUILDER_CASES = _builder_cases()
CASES_BY_NAME = {case.name: case for case in BUILDER_CASES}


@dataclasses.dataclass(frozen=True)
class TripleCase:
    """`builders.precision_recall_fbeta` on the shared data, keys prefixed with `name` + "/".

    `build(labels, features)` -> {key: (value, update_op)} for its three keys;
    `oracle(labels, features)` -> {key: scikit-learn's value}.
    """

    name: str
    build: Callable[[Mapping, Mapping], dict]
    oracle: Callable[[Mapping, Mapping], dict]


def _triple_case(name: str, task: str, decide, **options) -> TripleCase:
    from estimator_metrics import builders

    def build(y, x):
        return builders.precision_recall_fbeta(
            y[task], x[f"{task}_probabilities"], x["weights"], key_prefix=f"{name}/", **options
        )

    def oracle(y, x):
        from support.oracles import prfs

        labels = options.get("classes") or range(NUM_CLASSES)
        values = prfs(
            y[task],
            decide(x[f"{task}_probabilities"]),
            beta=options.get("beta", 1.0),
            average=options["average"],
            labels=labels,
            sample_weight=_f64(x["weights"]),
            zero_division=options.get("zero_division", 0),
        )
        return {f"{name}/{key}": value for key, value in values.items()}

    return TripleCase(name, build, oracle)


#: precision, recall and F-beta from one state: multiclass macro, multilabel samples.
TRIPLE_CASES = (
    _triple_case(
        "triple_macro", "multiclass", _argmax, beta=2.0, num_classes=NUM_CLASSES, average="macro"
    ),
    _triple_case(
        "triple_samples",
        "multilabel",
        _above_half,
        num_classes=NUM_CLASSES,
        average="samples",
        classes=[4, 0, 2],
        multilabel=True,
        zero_division=1,
    ),
)


#: tf.compat.v1.metrics controls: they show that the harness feeds every
#: example exactly once (any dropped or repeated batch changes them).
CONTROL_CASES = (
    BuilderCase(
        "control/mean_weight",
        lambda y, x, **kw: tf.compat.v1.metrics.mean(x["weights"], **kw),
        lambda y, x: _f64(x["weights"]).mean(),
    ),
    BuilderCase(
        "control/num_examples",
        lambda y, x, **kw: tf.compat.v1.metrics.true_positives(
            tf.ones_like(y["binary"], tf.bool), tf.ones_like(y["binary"], tf.bool), **kw
        ),
        lambda y, x: float(len(y["binary"])),
    ),
)


def builder_metric_fn(labels: Mapping, features: Mapping, cases=BUILDER_CASES + CONTROL_CASES):
    """metric_fn building every case's `(value, update_op)`."""
    return {case.name: case.build(labels, features) for case in cases}


def oracle_values(features: Mapping, labels: Mapping, cases=BUILDER_CASES + CONTROL_CASES):
    """Every case's oracle value on all of the data, as float64 NumPy."""
    return {case.name: _f64(case.oracle(labels, features)) for case in cases}


# ---------------------------------------------------------------------------
# Keras metrics through adapter.from_keras, with eager Keras as the oracle.
# ---------------------------------------------------------------------------


def _keras_cases() -> tuple[BuilderCase, ...]:
    from estimator_metrics import adapter
    from estimator_metrics.keras_metrics import AverageConfidence

    def one_hot(y):
        return tf.one_hot(y["multiclass"], NUM_CLASSES)

    def lazy_f1():  # F1Score builds its variables on the first update.
        return tf.keras.metrics.F1Score(average="macro", threshold=0.4)

    def mae_twice(update):
        # One metric updated twice per step: the second time with weights.
        def run(y, x):
            metric = tf.keras.metrics.MeanAbsoluteError()
            regression = y["regression"][:, None]
            update(metric, regression, x["regression_predictions"], None)
            return update(metric, regression, 2 * x["regression_predictions"], x["weights"])

        return run

    def graph_update(metric, y_true, y_pred, weights):
        return adapter.from_keras(metric, y_true, y_pred, weights)

    def eager_update(metric, y_true, y_pred, weights):
        metric.update_state(y_true, y_pred, sample_weight=weights)
        return metric.result().numpy()

    def keras_case(name, make, inputs):
        def build(y, x, **_):
            return adapter.from_keras(make(), *inputs(y, x))

        def oracle(y, x):
            metric = make()
            metric.update_state(*inputs(y, x))
            return metric.result().numpy()

        return BuilderCase(name, build, oracle)

    return (
        keras_case(
            "keras/f1_macro_lazy",
            lazy_f1,
            lambda y, x: (one_hot(y), x["multiclass_probabilities"], x["weights"]),
        ),
        keras_case(
            "keras/r2",
            lambda: tf.keras.metrics.R2Score(),
            lambda y, x: (y["regression"][:, None], x["regression_predictions"], None),
        ),
        keras_case(
            "keras/auc",
            tf.keras.metrics.AUC,
            lambda y, x: (y["binary"], x["binary_probabilities"], x["weights"]),
        ),
        keras_case(
            "keras/average_confidence",
            AverageConfidence,
            lambda y, x: (None, x["multiclass_probabilities"], x["weights"]),
        ),
        BuilderCase(
            "keras/mae_updated_twice",
            lambda y, x, **_: mae_twice(graph_update)(y, x),
            lambda y, x: mae_twice(eager_update)(
                {k: tf.constant(v) for k, v in y.items()}, {k: tf.constant(v) for k, v in x.items()}
            ),
        ),
    )


#: Cases whose Keras class a line may not export (F1Score, R2Score: Keras >= 2.13):
#: left out where it does not.
_KERAS_CLASS_NEEDED = {"keras/f1_macro_lazy": "F1Score", "keras/r2": "R2Score"}
KERAS_CASES = tuple(
    case
    for case in _keras_cases()
    if hasattr(tf.keras.metrics, _KERAS_CLASS_NEEDED.get(case.name, "Metric"))
)
