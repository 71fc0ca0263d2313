"""Every builder through a real `Estimator.train` + `Estimator.evaluate`.

For each way of attaching metrics (`EstimatorSpec(eval_metric_ops=...)`,
`tf.estimator.add_metrics`, `TPUEstimator(use_tpu=False)` with
`eval_metrics`), one module-scoped run trains a few steps, then evaluates
every builder (weighted) over several batches; the tests compare each result
with a NumPy/sklearn oracle and with `run_stream` on the same batches, and
check that no metric state reaches GLOBAL_VARIABLES or the checkpoint.

Data: 103 examples in batches of 16 (six full batches and one of 7) for
"spec" and "add_metrics"; 96 examples (six full batches) for "tpu", because
TPU evaluation needs equal, full batches.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics._core.parity import run_stream
from support import estimator as harness

RTOL = 1e-6
BATCH = 16
NUM_EXAMPLES = {"spec": 103, "add_metrics": 103, "tpu": 96}
TRAIN_STEPS = 3
#: (bias - 1)**2 after 3 gradient steps (lr 0.25) from bias 0: 1 - 0.5**3 = 0.875.
TRAINED_LOSS = 0.125**2
CASES = {case.name: case for case in harness.BUILDER_CASES + harness.CONTROL_CASES}
CASE_NAMES = list(CASES)


def _variable_names(key):
    return sorted(v.op.name for v in tf.compat.v1.get_collection(key))


def _recording_metric_fn(record):
    """builder_metric_fn that also records the eval graph's variable collections."""

    def metric_fn(labels, features):
        ops = harness.builder_metric_fn(labels, features)
        keys = tf.compat.v1.GraphKeys
        for key in ("GLOBAL_VARIABLES", "LOCAL_VARIABLES", "METRIC_VARIABLES"):
            record[key] = _variable_names(getattr(keys, key))
        return ops

    return metric_fn


def _data(mode):
    return harness.take(*harness.make_builder_data(103), NUM_EXAMPLES[mode])


@pytest.fixture(scope="module", params=harness.MODES)
def run(request, tmp_path_factory):
    """train (TRAIN_STEPS) then evaluate all cases, in one mode."""
    mode = request.param
    features, labels = _data(mode)
    model_dir = str(tmp_path_factory.mktemp(f"estimator_{mode}"))
    record = {}
    metrics = harness.evaluate_with_metrics(
        _recording_metric_fn(record),
        features,
        labels,
        batch_size=BATCH,
        mode=mode,
        model_dir=model_dir,
        train_steps=TRAIN_STEPS,
    )
    return {
        "mode": mode,
        "features": features,
        "labels": labels,
        "metrics": metrics,
        "graph": record,
        "checkpoint": harness.checkpoint_variable_names(model_dir),
    }


@functools.cache
def _stream_value(name, mode):
    """`run_stream` of case `name` over the batches Estimator reads in `mode`."""
    case = CASES[name]
    features, labels = _data(mode)
    feature_keys, label_keys = sorted(features), sorted(labels)
    columns = [features[k] for k in feature_keys] + [labels[k] for k in label_keys]
    batches = [
        tuple(column[start : start + BATCH] for column in columns)
        for start in range(0, len(columns[0]), BATCH)
    ]

    def build(*tensors):
        x = dict(zip(feature_keys, tensors[: len(feature_keys)]))
        y = dict(zip(label_keys, tensors[len(feature_keys) :]))
        return case.build(y, x)

    return run_stream(build, batches)[1]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_evaluate_equals_oracle_and_stream(run, name):
    got = run["metrics"][name]
    expected = harness.oracle_values(run["features"], run["labels"], [CASES[name]])[name]
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)
    np.testing.assert_allclose(got, _stream_value(name, run["mode"]), rtol=RTOL, atol=0)


def test_evaluate_restored_the_trained_checkpoint(run):
    assert run["metrics"]["global_step"] == TRAIN_STEPS
    assert run["metrics"]["loss"] == pytest.approx(TRAINED_LOSS, rel=1e-6)
    assert run["checkpoint"] == [harness.BIAS, "global_step"]


#: State of the six builder calls, in the order builder_metric_fn makes them.
BUILDER_STATE = {
    "mape/total",
    "mape/count",
    *(f"{scope}/counts" for scope in ("fbeta", "fbeta_1", "fbeta_2", "fbeta_3")),
    "average_confidence/total",
    "average_confidence/count",
}


def test_no_metric_state_in_global_variables(run):
    graph = run["graph"]  # Recorded in the EVAL graph, right after metric_fn.
    assert graph["GLOBAL_VARIABLES"] == [harness.BIAS, "global_step"]
    assert set(graph["METRIC_VARIABLES"]) >= BUILDER_STATE
    assert set(graph["METRIC_VARIABLES"]) <= set(graph["LOCAL_VARIABLES"])


def test_tpu_mode_requires_full_batches(tmp_path):
    features, labels = _data("spec")  # 103 examples: 16 does not divide them.
    with pytest.raises(ValueError, match="equal full batches"):
        harness.evaluate_with_metrics(
            harness.builder_metric_fn,
            features,
            labels,
            batch_size=BATCH,
            mode="tpu",
            model_dir=str(tmp_path),
        )


def test_metrics_built_in_training_leave_no_state_in_checkpoint(tmp_path):
    """Update ops run with every train step, yet nothing of them is saved,
    and evaluation starts from zeroed state (it equals the oracle)."""
    features, labels = _data("spec")
    metrics = harness.evaluate_with_metrics(
        harness.builder_metric_fn,
        features,
        labels,
        batch_size=BATCH,
        model_dir=str(tmp_path),
        train_steps=2,
        metrics_in_train=True,
    )
    assert harness.checkpoint_variable_names(str(tmp_path)) == [harness.BIAS, "global_step"]
    expected = harness.oracle_values(features, labels)
    for name in CASE_NAMES:
        np.testing.assert_allclose(metrics[name], expected[name], rtol=RTOL, atol=0)


def test_global_metric_state_would_fail_after_training(tmp_path):
    """Negative control: metric state in GLOBAL_VARIABLES, created only in
    EVAL, makes evaluate-after-train fail to restore. The builders must not."""

    def leaky_metric_fn(labels, features):
        total = tf.compat.v1.get_variable(
            "leaky_total", [], tf.float64, tf.compat.v1.zeros_initializer(), trainable=False
        )
        update = total.assign_add(tf.reduce_sum(tf.cast(features["weights"], tf.float64)))
        return {"leaky": (tf.identity(total), update)}

    features, labels = _data("spec")
    harness.evaluate_with_metrics(
        harness.builder_metric_fn,
        features,
        labels,
        batch_size=BATCH,
        model_dir=str(tmp_path),
        train_steps=1,
    )
    with pytest.raises(tf.errors.NotFoundError, match="leaky_total not found in checkpoint"):
        harness.evaluate_with_metrics(
            leaky_metric_fn, features, labels, batch_size=BATCH, model_dir=str(tmp_path)
        )


def _only(collection):
    assert len(collection) == 1, collection
    return collection[0]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_metrics_and_updates_collections(name):
    """As tf.compat.v1.metrics (the control cases): value in
    `metrics_collections`, update op in `updates_collections`, state local."""
    case = CASES[name]
    features, labels = _data("spec")
    with tf.Graph().as_default() as graph:
        x = {k: tf.constant(v) for k, v in features.items()}
        y = {k: tf.constant(v) for k, v in labels.items()}
        value, update = case.build(
            y, x, metrics_collections=["my_values"], updates_collections=["my_updates", "more"]
        )
        for key, op in (("my_values", value), ("my_updates", update), ("more", update)):
            assert _only(graph.get_collection(key)) is op, key
        case.build(y, x)  # Without collections: adds nothing to them.
        assert _only(graph.get_collection("my_values")) is value
        assert _only(graph.get_collection("my_updates")) is update

        keys = tf.compat.v1.GraphKeys
        state = graph.get_collection(keys.METRIC_VARIABLES)
        assert state and set(state) <= set(graph.get_collection(keys.LOCAL_VARIABLES))
        assert not graph.get_collection(keys.GLOBAL_VARIABLES)
        assert not graph.get_collection(keys.TRAINABLE_VARIABLES)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            sess.run(graph.get_collection("my_updates"))
            got = sess.run(graph.get_collection("my_values")[0])
    expected = harness.oracle_values(features, labels, [case])[name]
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)
