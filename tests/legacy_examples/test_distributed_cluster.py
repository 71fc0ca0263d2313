"""A real local tf.estimator cluster (chief, worker, ps, evaluator) through train_and_evaluate.

Each test checks that every process `run_cluster` started is gone afterwards,
on success and on each way of failing.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import signal

import pytest
import tensorflow as tf

from estimator_metrics.legacy_examples import binary, distributed

STEPS = 30


def _assert_all_gone(pids):
    assert pids, "no process was started"
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # reaped: not even a zombie
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)  # nothing left in its process group (session) either
        assert not os.path.exists(f"/proc/{pid}")


def _failing_in_chief(features, labels, mode, params):
    task = json.loads(os.environ.get("TF_CONFIG") or "{}").get("task", {})
    if mode == tf.estimator.ModeKeys.TRAIN and task.get("type") == "chief":
        raise RuntimeError("deliberate failure in the chief's model_fn")
    return binary.model_fn(features, labels, mode, params)


#: Imported by the task processes as test_distributed_cluster:FAILING_IN_CHIEF.
FAILING_IN_CHIEF = dataclasses.replace(
    binary.EXAMPLE, name="failing_in_chief", model_fn=_failing_in_chief
)


def test_evaluator_task_equals_single_process_evaluation(tmp_path):
    had_tf_config = "TF_CONFIG" in os.environ
    lines = []
    result = distributed.run_cluster(
        binary.EXAMPLE, steps=STEPS, model_dir=str(tmp_path), metrics="legacy",
        timeout_s=240, log=lines.append,
    )  # fmt: skip
    _assert_all_gone(result.pids)
    assert ("TF_CONFIG" in os.environ) == had_tf_config
    assert sorted(t.key for t in result.tasks) == ["chief:0", "evaluator:0", "ps:0", "worker:0"]
    codes = {t.key: t.returncode for t in result.tasks}
    assert codes == {"chief:0": 0, "worker:0": 0, "evaluator:0": 0, "ps:0": -signal.SIGTERM}
    assert len(set(result.ports.values())) == 3
    assert any(line.startswith("chief finished at step") for line in lines)

    # Both evaluations are of the final checkpoint. Asynchronous training may end
    # past max_steps: StopAtStepHook judges each trainer's next step by the
    # global_step its own last run read, which the other trainer may have moved
    # on since (seen here: 31 and 32 for 30 steps); the evaluator's loop ends at
    # global_step >= steps. The file's name is the step the chief read when it
    # saved, its content the ps' global_step a moment later: a worker step that
    # lands meanwhile makes model.ckpt-30 hold global_step 31 (seen here). Both
    # evaluations read that one file (run_cluster checks the path).
    assert result.global_step >= STEPS
    name_step = int(re.fullmatch(r".*model\.ckpt-(\d+)", result.checkpoint).group(1))
    assert STEPS <= name_step <= result.global_step
    assert result.evaluated_steps[-1] == result.global_step
    assert result.single_process_metrics["global_step"] == result.global_step

    assert set(result.evaluator_metrics) == {"accuracy", "fbeta", "loss", "global_step"}
    assert set(result.single_process_metrics) == set(result.evaluator_metrics)
    for name, value in result.evaluator_metrics.items():
        assert math.isclose(value, result.single_process_metrics[name], rel_tol=1e-6), name
    assert result.agree
    # The recorder's values are what the evaluator itself wrote to its event
    # files (float32; Estimator writes no global_step summary).
    assert set(result.evaluator_summaries) == set(result.evaluator_metrics) - {"global_step"}
    for name, value in result.evaluator_summaries.items():
        assert math.isclose(value, result.evaluator_metrics[name], rel_tol=1e-6), name

    # Really distributed: the variables live on the ps, and both trainers ran
    # steps of the one global step.
    assert result.variable_devices == ("/job:ps/task:0",)
    assert result.steps_by_task["chief:0"] >= 1
    assert result.steps_by_task["worker:0"] >= 1
    assert sum(result.steps_by_task.values()) >= result.global_step
    with open(result.log_paths["worker:0"], encoding="utf-8") as f:
        assert re.search(r"worker:0: local step \d+, global_step \d+", f.read())


def test_failing_chief_raises_and_stops_every_process(tmp_path):
    with pytest.raises(distributed.ClusterError) as error:
        distributed.run_cluster(
            FAILING_IN_CHIEF, steps=STEPS, model_dir=str(tmp_path), timeout_s=240,
            log=lambda line: None,
        )  # fmt: skip
    message = str(error.value)
    assert "chief:0 exited with code 1" in message
    assert "deliberate failure in the chief's model_fn" in message  # the chief's log tail
    assert sorted(t.type for t in error.value.tasks) == ["chief", "evaluator", "ps", "worker"]
    _assert_all_gone(error.value.pids)


def test_timeout_raises_and_stops_every_process(tmp_path):
    with pytest.raises(distributed.ClusterTimeout) as error:
        distributed.run_cluster(
            binary.EXAMPLE, steps=STEPS, model_dir=str(tmp_path), timeout_s=1,
            log=lambda line: None,
        )  # fmt: skip
    assert isinstance(error.value, TimeoutError)
    assert "did not finish within 1 s" in str(error.value)
    assert len(error.value.pids) == 4
    _assert_all_gone(error.value.pids)


def test_interrupt_while_starting_stops_every_process(tmp_path):
    pids = []

    def log(line):
        pids.extend(int(p) for p in re.findall(r"pid (\d+)", line))
        if line.startswith("starting evaluator"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        distributed.run_cluster(binary.EXAMPLE, steps=STEPS, model_dir=str(tmp_path), log=log)
    assert len(pids) == 4
    _assert_all_gone(pids)
