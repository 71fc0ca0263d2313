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
from pathlib import Path

import pytest
import tensorflow as tf

from estimator_metrics import cli
from estimator_metrics.legacy_examples import binary, distributed

STEPS = 30


def _pids(tasks):
    return [task.process.pid for task in tasks]


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


#: Imported by the task processes as test_distributed_cluster:FAILING_IN_CHIEF, with this
#: folder on their PYTHONPATH.
FAILING_IN_CHIEF = dataclasses.replace(
    binary.EXAMPLE, name="failing_in_chief", model_fn=_failing_in_chief
)


def test_evaluator_task_equals_single_process_evaluation(tmp_path):
    had_tf_config = "TF_CONFIG" in os.environ
    lines = []
    result = distributed.run_cluster(
        "binary", steps=STEPS, model_dir=str(tmp_path), metrics="legacy", timeout_s=240,
        log=lines.append,
    )  # fmt: skip
    _assert_all_gone(_pids(result.tasks))
    assert ("TF_CONFIG" in os.environ) == had_tf_config
    assert sorted(t.key for t in result.tasks) == ["chief:0", "evaluator:0", "ps:0", "worker:0"]
    codes = {t.key: t.returncode for t in result.tasks}
    assert codes == {"chief:0": 0, "worker:0": 0, "evaluator:0": 0, "ps:0": -signal.SIGTERM}
    assert len(set(result.ports.values())) == 3
    assert any(line.startswith("chief 0 finished") for line in lines)

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
    assert [c.metric for c in result.comparisons] == sorted(result.evaluator_metrics)
    assert all(c.agrees for c in result.comparisons)

    # Really distributed: the variables live on the ps, and both trainers ran
    # steps of the one global step.
    traces = result.traces
    assert traces["chief:0"]["variable_devices"] == ["/job:ps/task:0"]
    assert traces["chief:0"]["steps_run"] >= 1 and traces["worker:0"]["steps_run"] >= 1
    assert traces["chief:0"]["steps_run"] + traces["worker:0"]["steps_run"] >= result.global_step
    worker = next(t for t in result.tasks if t.key == "worker:0")
    with open(worker.log_path, encoding="utf-8") as f:
        assert re.search(r"worker:0: local step \d+, global_step \d+", f.read())


def test_the_command_prints_both_evaluations_and_exits_0_when_they_agree(tmp_path, capsys):
    status = cli.main(
        ["example", "distributed", "--steps", "20", "--model-dir", str(tmp_path / "run")]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    for task in ("ps 0", "chief 0", "worker 0", "evaluator 0"):
        assert f"starting {task}" in out, task
    assert "binary, legacy metrics: final checkpoint of step" in out
    rows = [line for line in out.splitlines() if line.startswith(("fbeta ", "accuracy "))]
    assert sorted(row.split()[0] for row in rows) == ["accuracy", "fbeta"]
    for row in rows:
        assert " agree (tolerance" in row, row


def test_failing_chief_raises_and_stops_every_process(tmp_path, monkeypatch):
    here = str(Path(__file__).resolve().parent)  # Where the driver and tasks import it from.
    monkeypatch.syspath_prepend(here)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [here, os.getenv("PYTHONPATH")])))
    with pytest.raises(distributed.ClusterError) as error:
        distributed.run_cluster(
            f"{Path(__file__).stem}:FAILING_IN_CHIEF", steps=STEPS, model_dir=str(tmp_path),
            timeout_s=240, log=lambda line: None,
        )  # fmt: skip
    message = str(error.value)
    assert "chief:0 exited with code 1" in message
    assert "deliberate failure in the chief's model_fn" in message  # the chief's log tail
    assert sorted(t.type for t in error.value.tasks) == ["chief", "evaluator", "ps", "worker"]
    _assert_all_gone(_pids(error.value.tasks))


def test_timeout_raises_and_stops_every_process(tmp_path):
    with pytest.raises(distributed.ClusterTimeout) as error:
        distributed.run_cluster(
            "binary", steps=STEPS, model_dir=str(tmp_path), timeout_s=1, log=lambda line: None
        )
    assert isinstance(error.value, TimeoutError)
    assert "did not finish within 1 s" in str(error.value)
    assert len(error.value.tasks) == 4
    _assert_all_gone(_pids(error.value.tasks))


def test_interrupt_while_starting_stops_every_process(tmp_path):
    pids = []

    def log(line):
        pids.extend(int(p) for p in re.findall(r"pid (\d+)", line))
        if line.startswith("starting evaluator"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        distributed.run_cluster("binary", steps=STEPS, model_dir=str(tmp_path), log=log)
    assert len(pids) == 4
    _assert_all_gone(pids)


def test_a_model_dir_with_a_checkpoint_or_an_unknown_example_is_refused_before_any_start(
    tmp_path, capsys
):
    (tmp_path / "checkpoint").write_text("model_checkpoint_path: 'model.ckpt-1'\n")
    with pytest.raises(ValueError, match="already holds a checkpoint"):
        distributed.run_cluster("binary", steps=1, model_dir=str(tmp_path))
    assert not (tmp_path / "cluster").exists()
    with pytest.raises(SystemExit):
        cli.main(["example", "distributed", "--example", "nope"])
    assert "No module named 'estimator_metrics.legacy_examples.nope'" in capsys.readouterr().err
