"""Every metric class `tf.keras.metrics` exports, through `adapter.from_keras`.

Requirement (issue): for every metric class of the pinned Keras, after two
update calls with different batches, the value from a graph session and from
`Estimator.evaluate` equals eager Keras on the same batches (rtol 1e-5).

* `test_every_exported_class_is_covered_or_excluded` enumerates the exported
  classes, so a class added by a Keras upgrade fails the suite until it gets
  a row in `CASES` (or, with a reason, in `EXCLUDED`).
* `test_two_updates_in_a_graph_match_eager` (one per class): a fresh
  `tf.Graph`, `from_keras` twice (batches of 7 and 12 examples, fed through
  placeholders with a free batch axis, as in a model_fn), both update ops in
  one `Session.run` (as Estimator runs them), and metric state only in
  LOCAL_VARIABLES and METRIC_VARIABLES.
* `test_estimator_evaluate_matches_eager_for_every_class`: one real
  `Estimator.evaluate` in which every class is created in the metric_fn and
  updated twice per step with two different feature columns.

The enumeration and graph tests are marked keras3: on Keras 3 (TF 2.16+, no
Estimator) they cover the classes Keras 3 exports, in tf.compat.v1 graphs; the
Estimator tests skip there.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics import adapter
from estimator_metrics._core.environment import estimator_problem
from support import estimator as harness
from support.data import SEED

M = tf.keras.metrics
RTOL = 1e-5
ATOL = 1e-7  # For values at or near 0 (e.g. a class's F1 of 0).
NUM_CLASSES = 5
#: Examples in the two update calls of the graph test.
SIZES = (7, 12)
#: The Estimator run: 60 examples in steps of 16 (three full batches and one of 12).
ESTIMATOR_EXAMPLES = 60
ESTIMATOR_BATCH = 16
needs_estimator = pytest.mark.skipif(
    estimator_problem() is not None, reason="no tf.estimator here (TensorFlow 2.16+)"
)


# ---------------------------------------------------------------------------
# Enumeration of the exported classes.
# ---------------------------------------------------------------------------


def exported_metric_classes() -> dict[type, list[str]]:
    """Every class exported by `tf.keras.metrics` that is a `Metric`.

    Aliases (several names for one class object) are merged: class -> names.
    """
    classes: dict[type, list[str]] = {}
    for name in dir(M):
        obj = getattr(M, name)
        if inspect.isclass(obj) and issubclass(obj, M.Metric):
            classes.setdefault(obj, []).append(name)
    return classes


#: Exported classes with no row in CASES, and why. (Keras 2.15 does not
#: export the other bases, `Reduce`, `SumOverBatchSize` and
#: `SumOverBatchSizeMetricWrapper`; the concrete bases `Mean`, `Sum`,
#: `MeanTensor` and `MeanMetricWrapper` (constructed with a fn) are CASES.
#: `tf.keras.metrics.experimental.PyMetric`, an abstract base in a
#: submodule, is not in `dir(tf.keras.metrics)`.)
EXCLUDED = {
    # Abstract base (abc: `Metric()` raises TypeError, update_state and
    # result are abstract methods). What
    # from_keras does with user subclasses (update_state returning an op,
    # returning None with ordered assignments, lazily built variables) is
    # covered by the custom-subclass tests of tests/test_adapter.py.
    M.Metric: "abstract base class; custom subclasses are tested in test_adapter.py",
}


# ---------------------------------------------------------------------------
# Seeded inputs, by kind. Each maker returns (y_true, y_pred, sample_weight)
# NumPy arrays for `n` examples; y_pred is None for single-input metrics.
# ---------------------------------------------------------------------------


def _weights(rng, shape):
    # Integer-valued and fractional weights, some zero (as conftest's).
    return (rng.integers(0, 4, shape) * rng.choice([0.5, 1.0, 1.5], shape)).astype(np.float32)


def _sigmoid(x):
    return (1 / (1 + np.exp(-x))).astype(np.float32)


def _softmax(logits):
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


def _class_probabilities(rng, labels):
    # Informative scores (the true class gets +2 logits: argmax right about
    # half the time), so accuracies, IoUs and F-scores are far from 0 and 1.
    logits = rng.normal(size=(len(labels), NUM_CLASSES)) * 1.5
    logits[np.arange(len(labels)), labels] += 2.0
    return _softmax(logits)


def _binary(rng, n):
    # Labels {0, 1} as int64 [n, 1] and informative probabilities [n, 1]:
    # the explicit feature axis keeps the per-example reductions of the
    # probabilistic and hinge metrics (mean over the last axis) per example.
    # Balanced classes: the small batches still hold both.
    labels = rng.permutation(np.arange(n) % 2)[:, None]
    return (
        labels.astype(np.int64),
        _sigmoid(rng.normal(size=(n, 1)) * 2.0 + 0.5 * (2 * labels - 1)),
        _weights(rng, n),
    )


def _signed(rng, n):
    # Hinge labels in {-1, 1} (Keras maps {0, 1} labels to these; the binary
    # kind exercises that path with SquaredHinge) and raw decision scores.
    labels = rng.choice([-1.0, 1.0], (n, 1))
    return (
        labels.astype(np.float32),
        (rng.normal(size=(n, 1)) * 1.5 + labels).astype(np.float32),
        _weights(rng, n),
    )


def _one_hot(rng, n):
    # One-hot labels [n, C] (float) and class probabilities [n, C].
    ids = rng.integers(0, NUM_CLASSES, n)
    labels = np.eye(NUM_CLASSES, dtype=np.float32)[ids]
    return labels, _class_probabilities(rng, ids), _weights(rng, n)


def _sparse(rng, n):
    # Integer class ids [n] and class probabilities [n, C].
    ids = rng.integers(0, NUM_CLASSES, n)
    return ids.astype(np.int32), _class_probabilities(rng, ids), _weights(rng, n)


def _multilabel(rng, n):
    # 0/1 labels [n, C] and informative independent probabilities [n, C].
    # Float labels: FBetaScore/F1Score convert y_true with
    # convert_to_tensor(dtype=float32), which accepts NumPy ints (eager) but
    # rejects an int32 *tensor* (graph).
    labels = rng.integers(0, 2, (n, NUM_CLASSES))
    return (
        labels.astype(np.float32),
        _sigmoid(rng.normal(size=(n, NUM_CLASSES)) * 1.5 + (2 * labels - 1)),
        _weights(rng, n),
    )


def _regression(rng, n):
    # Targets away from 0 (MAPE divides by them) [n, 1], noisy predictions.
    labels = rng.uniform(0.5, 20, (n, 1)) * rng.choice([-1, 1], (n, 1))
    predictions = labels * rng.uniform(0.5, 1.5, (n, 1)) + rng.normal(size=(n, 1))
    return labels.astype(np.float32), predictions.astype(np.float32), _weights(rng, n)


def _positive_regression(rng, n):
    # Non-negative targets and predictions [n, 1] (the log of MSLE).
    labels = rng.uniform(0, 20, (n, 1))
    predictions = np.abs(labels * rng.uniform(0.5, 1.5, (n, 1)) + rng.normal(size=(n, 1)))
    return labels.astype(np.float32), predictions.astype(np.float32), _weights(rng, n)


def _multi_output(rng, n):
    # Three regression outputs [n, 3] with per-output scales: R2Score
    # (needs 2-D inputs of known width), CosineSimilarity (along axis -1),
    # MeanRelativeError (a per-output normalizer).
    labels = rng.normal(size=(n, 3)) * [1.0, 5.0, 0.5] + [0.0, 2.0, -1.0]
    predictions = labels + rng.normal(size=(n, 3)) * [0.5, 2.0, 0.5]
    return labels.astype(np.float32), predictions.astype(np.float32), _weights(rng, n)


def _distributions(rng, n):
    # KLDivergence: two positive distributions over C outcomes.
    return (
        _softmax(rng.normal(size=(n, NUM_CLASSES))),
        _softmax(rng.normal(size=(n, NUM_CLASSES))),
        _weights(rng, n),
    )


def _counts(rng, n):
    # Poisson: count targets >= 0 and positive predicted rates [n, 3].
    return (
        rng.poisson(3.0, (n, 3)).astype(np.float32),
        rng.uniform(0.5, 6.0, (n, 3)).astype(np.float32),
        _weights(rng, n),
    )


def _segmentation(rng, n, void=False):
    # Integer class ids of 4 "pixels" per example [n, 4], predictions right
    # about 60% of the time, and per-pixel weights [n, 4] (IoU flattens
    # y_true and sample_weight alike, so they need the same shape). With
    # `void`, ~15% of the labels are the ignored id 255.
    labels = rng.integers(0, NUM_CLASSES, (n, 4))
    predictions = np.where(
        rng.uniform(size=(n, 4)) < 0.6, labels, rng.integers(0, NUM_CLASSES, (n, 4))
    )
    if void:
        labels = np.where(rng.uniform(size=(n, 4)) < 0.15, VOID, labels)
    return labels.astype(np.int32), predictions.astype(np.int32), _weights(rng, (n, 4))


VOID = 255


def _values(rng, n):
    # Single-input metrics (Mean, Sum): update_state(values, sample_weight).
    return rng.normal(size=n).astype(np.float32) * 3, None, _weights(rng, n)


def _fixed_values(rng, n):
    # MeanTensor: update_state(values, sample_weight) with values of ONE
    # shape in every call (its state has the shape of the first values), so
    # this ignores `n`: both calls get [3, 4] (different contents).
    del n
    return rng.normal(size=(3, 4)).astype(np.float32), None, _weights(rng, (3, 4))


KINDS: dict[str, Callable] = {
    "binary": _binary,
    "signed": _signed,
    "one_hot": _one_hot,
    "sparse": _sparse,
    "multilabel": _multilabel,
    "regression": _regression,
    "positive_regression": _positive_regression,
    "multi_output": _multi_output,
    "distributions": _distributions,
    "counts": _counts,
    "segmentation": _segmentation,
    "segmentation_void": lambda rng, n: _segmentation(rng, n, void=True),
    "values": _values,
    "fixed_values": _fixed_values,
}
#: Kinds whose shapes must be fully static (no free batch axis).
STATIC_KINDS = {"fixed_values"}


def make_batch(kind: str, rng, n: int):
    return KINDS[kind](rng, n)


# ---------------------------------------------------------------------------
# CASES: class -> constructor kwargs and input kind.
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    kind: str
    kwargs: dict = dataclasses.field(default_factory=dict)
    #: Pass sample weights (every exported class accepts them; kept as a
    #: switch for a future class that does not).
    weighted: bool = True


def _relative_abs_error(y_true, y_pred):
    """A plain per-example function for MeanMetricWrapper."""
    return tf.reduce_mean(tf.abs(y_true - y_pred) / (1.0 + tf.abs(y_true)), axis=-1)


def _if_exported(name):
    """`tf.keras.metrics.<name>` where this line exports it, else `name` (dropped below)."""
    return getattr(M, name, name)


CASES: dict[type, Case] = {
    # --- Accuracy family ---------------------------------------------------
    # Accuracy: exact equality of integer ids, elementwise ([n, 4], weights
    # [n, 4]).
    M.Accuracy: Case("segmentation"),
    M.BinaryAccuracy: Case("binary", {"threshold": 0.4}),
    M.CategoricalAccuracy: Case("one_hot"),
    M.SparseCategoricalAccuracy: Case("sparse"),
    # top_k metrics: k=2 of 5 classes, on one-hot and on sparse integer labels.
    M.TopKCategoricalAccuracy: Case("one_hot", {"k": 2}),
    M.SparseTopKCategoricalAccuracy: Case("sparse", {"k": 2}),
    # --- Probabilistic -----------------------------------------------------
    M.BinaryCrossentropy: Case("binary", {"label_smoothing": 0.1}),
    M.CategoricalCrossentropy: Case("one_hot", {"label_smoothing": 0.1}),
    M.SparseCategoricalCrossentropy: Case("sparse"),
    # KLDivergence and Poisson take logs: strictly positive inputs.
    M.KLDivergence: Case("distributions"),
    M.Poisson: Case("counts"),
    # --- Hinge: labels in {-1, 1}; {0, 1} labels are converted by Keras ------
    M.Hinge: Case("signed"),
    M.SquaredHinge: Case("binary"),  # {0, 1} labels: the conversion path.
    M.CategoricalHinge: Case("one_hot"),  # One-hot labels.
    # --- Regression --------------------------------------------------------
    M.MeanAbsoluteError: Case("regression"),
    M.MeanAbsolutePercentageError: Case("regression"),  # |y| >= 0.5.
    M.MeanSquaredError: Case("regression"),
    M.MeanSquaredLogarithmicError: Case("positive_regression"),
    M.RootMeanSquaredError: Case("regression"),
    M.LogCoshError: Case("regression"),
    M.CosineSimilarity: Case("multi_output", {"axis": -1}),
    # MeanRelativeError needs a `normalizer` broadcastable to y_pred: one per
    # output column, so it fits any batch size.
    _if_exported("MeanRelativeError"): Case("multi_output", {"normalizer": [1.0, 4.0, 0.5]}),
    # Keras 3 only: the correlation of each example's outputs, averaged over examples.
    _if_exported("PearsonCorrelation"): Case("multi_output"),
    _if_exported("ConcordanceCorrelation"): Case("multi_output"),
    # R2Score builds [num_outputs] state on its first update: 2-D inputs with
    # a static last axis. variance_weighted_average (not the default) to
    # use the per-output state; num_regressors stays 0: the adjusted-R2
    # branch of result() is a Python `if` on a tensor, which raises
    # OperatorNotAllowedInGraphError in any graph (a Keras limitation; even
    # in a tf.function, as AutoGraph does not convert Keras' own code).
    _if_exported("R2Score"): Case(
        "multi_output", {"class_aggregation": "variance_weighted_average"}
    ),
    # A plain function wrapped as a weighted mean.
    M.MeanMetricWrapper: Case("regression", {"fn": _relative_abs_error, "name": "rel_abs"}),
    # --- Confusion-matrix counts: vector results over several thresholds ---
    M.TruePositives: Case("binary", {"thresholds": [0.25, 0.5, 0.75]}),
    M.FalsePositives: Case("binary", {"thresholds": [0.25, 0.5, 0.75]}),
    M.TrueNegatives: Case("binary", {"thresholds": 0.6}),
    M.FalseNegatives: Case("binary"),
    M.Precision: Case("binary", {"thresholds": [0.3, 0.5, 0.7]}),
    # class_id + top_k: recall of class 2 counting only the top 2 scores.
    M.Recall: Case("multilabel", {"class_id": 2, "top_k": 2}),
    # (multi_label=True also works, but its pfor-vectorized update is slow to
    # build: ~+15 s for the Estimator graph. FBetaScore, F1Score and R2Score
    # cover state built lazily on the first update.)
    M.AUC: Case("binary", {"num_thresholds": 50, "curve": "PR"}),
    # At-a-point metrics: each needs its fixed recall / precision /
    # specificity / sensitivity; one per-class (class_id) on multilabel.
    M.PrecisionAtRecall: Case("binary", {"recall": 0.6, "num_thresholds": 50}),
    M.RecallAtPrecision: Case("binary", {"precision": 0.55, "num_thresholds": 50}),
    M.SensitivityAtSpecificity: Case(
        "multilabel", {"specificity": 0.5, "num_thresholds": 50, "class_id": 1}
    ),
    M.SpecificityAtSensitivity: Case("binary", {"sensitivity": 0.5, "num_thresholds": 50}),
    # --- F-scores: 2-D inputs [n, C] with a static C; weights [n] ----------
    # threshold=None means "the argmax is positive" (one-hot labels);
    # threshold=0.5 thresholds every column (multilabel), per-class result.
    _if_exported("FBetaScore"): Case("one_hot", {"beta": 2.0, "average": "weighted"}),
    _if_exported("F1Score"): Case("multilabel", {"threshold": 0.5}),
    # --- IoU: integer ids ([n, 4] "pixels", per-pixel weights) ------------
    M.MeanIoU: Case("segmentation", {"num_classes": NUM_CLASSES}),
    M.IoU: Case(
        "segmentation_void",
        {"num_classes": NUM_CLASSES, "target_class_ids": [0, 2], "ignore_class": VOID},
    ),
    # BinaryIoU thresholds probabilities; one-hot IoUs take argmaxes.
    M.BinaryIoU: Case("binary", {"target_class_ids": [0, 1], "threshold": 0.5}),
    M.OneHotIoU: Case("one_hot", {"num_classes": NUM_CLASSES, "target_class_ids": [1, 3]}),
    M.OneHotMeanIoU: Case("one_hot", {"num_classes": NUM_CLASSES}),
    # --- Single-input reductions: update_state(values, sample_weight) ------
    M.Mean: Case("values"),
    M.Sum: Case("values"),
    _if_exported("MeanTensor"): Case("fixed_values"),  # Keras 2 only.
}
#: Rows of classes this line does not export (R2Score, FBetaScore, F1Score
#: before Keras 2.13; MeanRelativeError and MeanTensor on Keras 3; the
#: correlations before Keras 3): not CASES, so not required by the coverage
#: test; their graph tests skip.
ABSENT = sorted(name for name in CASES if isinstance(name, str))
CASES = {cls: case for cls, case in CASES.items() if not isinstance(cls, str)}


def _param(cls):
    return pytest.param(cls, id=cls.__name__)


def _adapter_args(labels, predictions, weights):
    """from_keras arguments of one call: single-input metrics (update_state(values,
    sample_weight)) take their values as `predictions`, with labels None."""
    if predictions is None:
        return None, labels, weights
    return labels, predictions, weights


def _make(cls) -> tf.keras.metrics.Metric:
    return cls(**CASES[cls].kwargs)


def _call_args(cls, batch):
    """(labels, predictions, sample_weight) of one call; weights None if unweighted."""
    y_true, y_pred, weights = batch
    return y_true, y_pred, weights if CASES[cls].weighted else None


def eager_value(cls, calls) -> np.ndarray:
    """A fresh instance, `update_state` per call, eagerly: the truth."""
    metric = _make(cls)
    for y_true, y_pred, weights in calls:
        if y_pred is None:  # Single-input metric.
            metric.update_state(y_true, sample_weight=weights)
        else:
            metric.update_state(y_true, y_pred, sample_weight=weights)
    return np.asarray(metric.result())


def _assert_close(actual, expected, name):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (name, actual.shape, expected.shape)
    assert np.all(np.isfinite(expected)), (name, expected)  # Inputs make it finite.
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=name)


def _assert_local_state(metric, graph):
    keys = tf.compat.v1.GraphKeys
    assert metric.variables, metric.name

    def contains(key, variable):
        return any(v is variable for v in graph.get_collection(key))

    for variable in metric.variables:
        # Keras 3 wraps each state tf.Variable in a keras.Variable (its `.value`).
        variable = variable if isinstance(variable, tf.Variable) else variable.value
        assert not contains(keys.GLOBAL_VARIABLES, variable), variable.name
        assert not contains(keys.TRAINABLE_VARIABLES, variable), variable.name
        assert contains(keys.LOCAL_VARIABLES, variable), variable.name
        assert contains(keys.METRIC_VARIABLES, variable), variable.name


# ---------------------------------------------------------------------------
# Tests.
# ---------------------------------------------------------------------------


@pytest.mark.keras3
def test_every_exported_class_is_covered_or_excluded():
    exported = set(exported_metric_classes())
    assert not set(CASES) & set(EXCLUDED)
    missing = sorted(cls.__name__ for cls in exported - set(CASES) - set(EXCLUDED))
    stale = sorted(cls.__name__ for cls in (set(CASES) | set(EXCLUDED)) - exported)
    assert not missing, f"tf.keras.metrics exports classes with no CASES row: {missing}"
    assert not stale, f"CASES/EXCLUDED name classes tf.keras.metrics no longer exports: {stale}"


@pytest.mark.keras3
def test_enumeration_finds_the_known_classes():
    # A guard on the enumeration itself (e.g. against an empty dir()).
    exported = exported_metric_classes()
    names = {name for names in exported.values() for name in names}
    assert {"AUC", "F1Score", "FBetaScore", "R2Score", "MeanIoU", "Metric"} - set(ABSENT) <= names
    assert len(exported) >= 40


@pytest.mark.keras3
@pytest.mark.parametrize(
    "cls",
    [_param(cls) for cls in CASES]
    + [
        pytest.param(name, id=name, marks=pytest.mark.skip(f"tf.keras.metrics has no {name}"))
        for name in ABSENT
    ],
)
def test_two_updates_in_a_graph_match_eager(cls):
    case = CASES[cls]
    rng = np.random.default_rng([SEED, sorted(KINDS).index(case.kind)])
    calls = [_call_args(cls, make_batch(case.kind, rng, n)) for n in SIZES]
    expected = eager_value(cls, calls)
    # Both updates matter: counting only one of them gives another value.
    for single in ([calls[0]], [calls[1]]):
        assert not np.allclose(eager_value(cls, single), expected, rtol=1e-3), cls.__name__

    with tf.Graph().as_default() as graph:
        metric = _make(cls)
        feed, pairs = {}, []
        for call in calls:
            tensors = []
            for array in call:
                if array is None:
                    tensors.append(None)
                    continue
                shape = array.shape if case.kind in STATIC_KINDS else (None, *array.shape[1:])
                placeholder = tf.compat.v1.placeholder(tf.as_dtype(array.dtype), shape)
                feed[placeholder] = array
                tensors.append(placeholder)
            pairs.append(adapter.from_keras(metric, *_adapter_args(*tensors)))
        _assert_local_state(metric, graph)
        assert not tf.compat.v1.global_variables()
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            # Both updates in one run, as Estimator runs every update op of a step.
            sess.run([update for _, update in pairs], feed)
            values = sess.run([value for value, _ in pairs])

    for value in values:  # Both values read the state of both updates.
        _assert_close(value, expected, cls.__name__)


# ---------------------------------------------------------------------------
# One real Estimator.evaluate for every class at once.
# ---------------------------------------------------------------------------

#: Classes left out of the combined Estimator run: MeanTensor needs one
#: static shape in every call, and the Estimator's last batch is partial
#: (its graph test above covers it).
ESTIMATOR_SKIPPED = {cls for cls, case in CASES.items() if case.kind in STATIC_KINDS}
ESTIMATOR_CLASSES = [cls for cls in CASES if cls not in ESTIMATOR_SKIPPED]
SIDES = ("a", "b")  # The two feature columns of each kind: one update each.


def _feature_key(kind, side, field):
    return f"{kind}__{side}__{field}"


@pytest.fixture(scope="module")
def estimator_run(tmp_path_factory):
    """(features, Estimator.evaluate results) of the one combined run."""
    rng = np.random.default_rng([SEED, 1000])
    features = {}
    for kind in sorted({CASES[cls].kind for cls in ESTIMATOR_CLASSES}):
        for side in SIDES:
            batch = make_batch(kind, rng, ESTIMATOR_EXAMPLES)
            for field, array in zip(("y", "p", "w"), batch):
                if array is not None:  # No "p" for single-input metrics.
                    features[_feature_key(kind, side, field)] = array

    def metric_fn(labels, features):
        del labels
        ops = {}
        for cls in ESTIMATOR_CLASSES:
            metric = _make(cls)  # Inside the metric_fn: this graph's state.
            kind = CASES[cls].kind
            for side in SIDES:  # Two updates per step, different inputs.
                y, p, w = (features.get(_feature_key(kind, side, f)) for f in ("y", "p", "w"))
                ops[f"{cls.__name__}/{side}"] = adapter.from_keras(
                    metric, *_adapter_args(*_call_args(cls, (y, p, w)))
                )
        return ops

    results = harness.evaluate_with_metrics(
        metric_fn,
        features,
        None,
        batch_size=ESTIMATOR_BATCH,
        mode="spec",
        model_dir=str(tmp_path_factory.mktemp("keras_classes")),
    )
    return features, results


def _estimator_eager_value(cls, features, sides=SIDES):
    """Eager Keras over the same steps: per batch, update(side a), update(side b)."""
    kind = CASES[cls].kind
    calls = []
    for start in range(0, ESTIMATOR_EXAMPLES, ESTIMATOR_BATCH):
        rows = slice(start, start + ESTIMATOR_BATCH)
        for side in sides:
            batch = tuple(
                None
                if (key := _feature_key(kind, side, f)) not in features
                else features[key][rows]
                for f in ("y", "p", "w")
            )
            calls.append(_call_args(cls, batch))
    return eager_value(cls, calls)


@needs_estimator
def test_estimator_evaluate_matches_eager_for_every_class(estimator_run):
    features, results = estimator_run
    assert results["global_step"] == 0  # Not trained: metrics only.
    failures = []
    for cls in ESTIMATOR_CLASSES:
        expected = _estimator_eager_value(cls, features)
        for side in SIDES:  # Each of the two updates per step matters.
            alone = _estimator_eager_value(cls, features, sides=(side,))
            assert not np.allclose(alone, expected, rtol=1e-3), (cls.__name__, side)
        for side in SIDES:  # Both entries read the state of every update.
            name = f"{cls.__name__}/{side}"
            try:
                _assert_close(results[name], expected, name)
            except AssertionError as error:
                failures.append(str(error))
    assert not failures, "\n".join(failures)


@needs_estimator
def test_estimator_run_covers_every_case_but_mean_tensor():
    assert set(ESTIMATOR_CLASSES) | ESTIMATOR_SKIPPED == set(CASES)
    assert {M.MeanTensor} == ESTIMATOR_SKIPPED
