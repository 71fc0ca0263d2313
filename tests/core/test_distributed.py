"""Builders and adapted Keras metrics under `RunConfig(eval_distribute=MirroredStrategy)`.

Two logical CPU devices must be configured before TensorFlow initializes its
runtime, so the evaluations run in a fresh interpreter (`_child_main`, started
by the `child_results` fixture) that writes JSON: one single-device
`Estimator.evaluate` and two under the strategy (`EstimatorSpec` and
`tf.estimator.add_metrics`), all on the same 100 examples. The tests compare
them with each other and with the NumPy/sklearn oracles; tf.compat.v1.metrics
controls show every example was read once and that replica 1 got data.

Estimator's distributed eval does not rebatch: its input_fn is called once and
consecutive dataset elements go to the replicas in turn, so the harness
batches `global batch / replicas` examples per element.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics import builders
from estimator_metrics._core import diagram as _diagram
from support import calibration as calibration_oracle
from support import estimator as harness

NUM_EXAMPLES = 100
#: Global batch 18: 9 examples per replica, 12 elements, 6 steps; the last
#: step gives replica 0 nine examples and replica 1 one.
GLOBAL_BATCH = 18
REPLICAS = 2
RTOL = 1e-6
CHILD_TIMEOUT_S = 300


def _replica_1_examples(labels, features):
    """Examples seen by replica 1 (0 without a strategy): tf.compat.v1 metric."""
    replica_id = tf.distribute.get_replica_context().replica_id_in_sync_group
    ones = tf.ones_like(labels["binary"], tf.bool)
    on_replica_1 = tf.cast(tf.equal(replica_id, 1), tf.float32) * tf.ones_like(
        labels["binary"], tf.float32
    )
    return tf.compat.v1.metrics.true_positives(ones, ones, weights=on_replica_1)


def _child_metric_fn(labels, features):
    ops = harness.builder_metric_fn(
        labels, features, harness.BUILDER_CASES + harness.CONTROL_CASES + harness.KERAS_CASES
    )
    ops["control/replica_1_examples"] = _replica_1_examples(labels, features)
    for case in harness.TRIPLE_CASES:
        ops.update(case.build(labels, features))
    ops["diagram"] = builders.reliability_diagram(*_diagram_inputs(labels, features))
    return ops


def _diagram_inputs(labels, features):
    """The reliability diagram's labels, predictions and weights: those of the
    "calibration_error" case, in the builder's default 15 bins."""
    return labels["multiclass"], features["multiclass_probabilities"], features["weights"]


def _sha256(value) -> str:
    return hashlib.sha256(value).hexdigest()


def _child_main(out_path: str, work_dir: str) -> None:
    """Runs in a fresh interpreter: evaluates without and with the strategy."""
    # Importing TensorFlow (done by the harness) does not initialize devices.
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * REPLICAS
    )
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    features, labels = harness.make_builder_data(NUM_EXAMPLES)
    results = {}
    for run, mode, config in (
        ("single", "spec", None),
        ("mirrored", "spec", tf.estimator.RunConfig(eval_distribute=strategy)),
        ("mirrored_add_metrics", "add_metrics", tf.estimator.RunConfig(eval_distribute=strategy)),
    ):
        metrics = harness.evaluate_with_metrics(
            _child_metric_fn,
            features,
            labels,
            batch_size=GLOBAL_BATCH,
            mode=mode,
            model_dir=os.path.join(work_dir, run),
            config=config,
        )
        results[run] = {  # The diagram (a serialized Summary) by its hash.
            key: _sha256(value) if isinstance(value, bytes) else np.asarray(value).tolist()
            for key, value in metrics.items()
        }
    # Global batch 16 -> 13 elements of 8: the harness refuses the racy last step.
    try:
        harness.evaluate_with_metrics(
            _child_metric_fn,
            features,
            labels,
            batch_size=16,
            model_dir=os.path.join(work_dir, "odd"),
            config=tf.estimator.RunConfig(eval_distribute=strategy),
        )
        results["odd_elements_error"] = None
    except ValueError as err:
        results["odd_elements_error"] = str(err)
    results["num_replicas_in_sync"] = strategy.num_replicas_in_sync
    results["logical_cpus"] = [d.name for d in tf.config.list_logical_devices("CPU")]
    with open(out_path, "w") as out:
        json.dump(results, out)


@pytest.fixture(scope="module")
def child_results(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("distributed")
    out_path = work_dir / "results.json"
    here = os.path.dirname(os.path.abspath(__file__))
    code = (  # This file's folder (for itself) and tests/ (for `support`) on the path.
        "import sys; sys.path[:0] = sys.argv[1:3]; "
        "import test_distributed; test_distributed._child_main(sys.argv[3], sys.argv[4])"
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONWARNINGS="ignore")
    proc = subprocess.run(
        [sys.executable, "-c", code, here, os.path.dirname(here), str(out_path), str(work_dir)],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        env=env,
    )
    assert proc.returncode == 0, f"child failed:\n{proc.stdout}\n{proc.stderr[-5000:]}"
    return json.loads(out_path.read_text())


@pytest.fixture(scope="module")
def oracles():
    features, labels = harness.make_builder_data(NUM_EXAMPLES)
    return harness.oracle_values(features, labels)


def test_strategy_really_used_two_replicas_with_data(child_results):
    assert child_results["num_replicas_in_sync"] == REPLICAS
    assert len(child_results["logical_cpus"]) == REPLICAS
    # Elements (per-replica batches) go to the replicas in turn.
    per_replica = GLOBAL_BATCH // REPLICAS
    sizes = [
        min(per_replica, NUM_EXAMPLES - start) for start in range(0, NUM_EXAMPLES, per_replica)
    ]
    assert len(sizes) == math.ceil(NUM_EXAMPLES / per_replica) == 12
    expected = sum(sizes[1::REPLICAS])  # 5 * 9 + 1
    assert expected == 46
    for run in DISTRIBUTED_RUNS:
        assert child_results[run]["control/replica_1_examples"] == expected
    assert child_results["single"]["control/replica_1_examples"] == 0


def test_harness_refuses_a_last_step_without_data_for_every_replica(child_results):
    # 100 examples, 8 per replica: 13 elements; the 13th step's replica 1
    # would hit OutOfRange, and replica 0's last batch would count or not.
    assert "13 elements, not a multiple of 2 replicas" in child_results["odd_elements_error"]


DISTRIBUTED_RUNS = ["mirrored", "mirrored_add_metrics"]


@pytest.mark.parametrize("run", ["single", *DISTRIBUTED_RUNS])
@pytest.mark.parametrize("name", [case.name for case in harness.CONTROL_CASES])
def test_control_metrics_see_every_example_once(child_results, oracles, run, name):
    np.testing.assert_allclose(child_results[run][name], oracles[name], rtol=RTOL, atol=0)


@pytest.mark.parametrize("run", DISTRIBUTED_RUNS)
@pytest.mark.parametrize("name", list(harness.CASES_BY_NAME))
def test_mirrored_equals_single_device_and_oracle(child_results, oracles, name, run):
    single = np.asarray(child_results["single"][name])
    mirrored = np.asarray(child_results[run][name])
    np.testing.assert_allclose(single, oracles[name], rtol=RTOL, atol=0)
    np.testing.assert_allclose(mirrored, single, rtol=RTOL, atol=0)
    np.testing.assert_allclose(mirrored, oracles[name], rtol=RTOL, atol=0)


@pytest.mark.parametrize("run", DISTRIBUTED_RUNS)
@pytest.mark.parametrize("case", harness.TRIPLE_CASES, ids=lambda case: case.name)
def test_mirrored_triple_equals_single_device_and_sklearn(child_results, case, run):
    """precision, recall and F-beta from one ON_READ/SUM state: replicas summed once."""
    features, labels = harness.make_builder_data(NUM_EXAMPLES)
    expected = case.oracle(labels, features)
    assert len(expected) == 3
    for key, value in expected.items():
        single = np.asarray(child_results["single"][key])
        np.testing.assert_allclose(single, value, rtol=RTOL, atol=0)
        np.testing.assert_allclose(np.asarray(child_results[run][key]), single, rtol=RTOL, atol=0)


@pytest.mark.parametrize("run", DISTRIBUTED_RUNS)
@pytest.mark.parametrize("name", [case.name for case in harness.KERAS_CASES])
def test_keras_metrics_through_the_adapter_equal_single_device_and_eager(child_results, name, run):
    features, labels = harness.make_builder_data(NUM_EXAMPLES)
    eager = harness.oracle_values(features, labels, harness.KERAS_CASES)[name]
    single = np.asarray(child_results["single"][name])
    np.testing.assert_allclose(single, eager, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.asarray(child_results[run][name]), single, rtol=1e-5, atol=1e-7)


def test_mirrored_reliability_diagram_is_the_single_device_picture(child_results):
    """Bit for bit: the state is exact (float32 confidences times weights in halves sum
    exactly in float64, in any order), so the picture cannot differ."""
    single = child_results["single"]["diagram"]
    assert [child_results[run]["diagram"] for run in DISTRIBUTED_RUNS] == [single] * 2
    features, labels = harness.make_builder_data(NUM_EXAMPLES)
    y, p, w = _diagram_inputs(labels, features)
    state = calibration_oracle.bins(*calibration_oracle.top_label(y, p), w, 15)
    png, width, height = _diagram.draw_png(
        state,
        ece=calibration_oracle.calibration_error(state, "l1"),
        mce=calibration_oracle.calibration_error(state, "max"),
        binary=False,
        title="Reliability diagram",
    )
    assert _sha256(_diagram.image_summary(png, width, height, "reliability_diagram")) == single
