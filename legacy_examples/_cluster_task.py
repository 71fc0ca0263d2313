"""One task process of `distributed.run_cluster`, and the files it leaves for the driver.

The driver starts each task as `python -m estimator_metrics.legacy_examples.distributed
--task JOB` (the run's options as JSON), its TF_CONFIG in its environment. In
`<model_dir>/cluster`:

    TYPE-I.log         the task's output (opened by the driver; their tails show on failure)
    TYPE-I.json        its trace once train_and_evaluate returns (`read_trace`)
    evaluator-0.jsonl  the evaluator's exact result of each evaluation (`read_evaluations`)
    TYPE-I.ready       the trainers' start-up rendezvous (`_trace_hook`)
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import signal
import time
from collections.abc import Mapping

from . import _common

#: Where, under model_dir, the tasks' logs and result files go.
RUN_SUBDIR = "cluster"
#: Seconds a trainer waits for the other at start-up before it trains anyway.
RENDEZVOUS_TIMEOUT_S = 120.0


def task_path(run_dir: str, task_type: str, index: int, suffix: str) -> str:
    """`<run_dir>/<task_type>-<index>.<suffix>`: a task's log, trace, results or ready file."""
    return os.path.join(run_dir, f"{task_type}-{index}.{suffix}")


def load_example(spec: str) -> _common.Example:
    """The example of `spec`: "binary" (legacy_examples.binary's EXAMPLE), "package.module"
    (its EXAMPLE) or "module:ATTRIBUTE"."""
    module_name, _, attribute = spec.partition(":")
    if "." not in module_name and not attribute:
        module_name = f"{__package__}.{module_name}"
    return getattr(importlib.import_module(module_name), attribute or "EXAMPLE")


def main(job: Mapping) -> int:
    """One task of the cluster in TF_CONFIG; `job` holds `run_cluster`'s options and pid."""
    _exit_with_parent(job["parent_pid"])
    tf_config = json.loads(os.environ["TF_CONFIG"])
    task_type, index = tf_config["task"]["type"], tf_config["task"]["index"]
    import tensorflow as tf

    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.INFO)  # For the log tails.
    example, seed = load_example(job["example"]), job["seed"]
    data = example.make_data(seed)
    config = tf.estimator.RunConfig(  # Reads the cluster and this task from TF_CONFIG.
        tf_random_seed=seed,
        # Checkpoints only when the chief's session starts and when training ends: no
        # checkpoint of step >= max_steps can end the evaluator's loop before the final one.
        save_checkpoints_steps=None,
        save_checkpoints_secs=10**9,
        log_step_count_steps=max(1, job["steps"] // 10),
        # The rendezvous below replaces train_and_evaluate's fixed 5 s wait per worker.
        experimental_max_worker_delay_secs=0,
    )
    estimator = _common.estimator(example, job["metrics"], job["model_dir"], seed, config)
    run_dir = os.path.join(job["model_dir"], RUN_SUBDIR)
    trace: dict = {}
    hooks = [_trace_hook(task_type, index, run_dir, len(tf_config["cluster"]["worker"]), trace)]
    train_spec = tf.estimator.TrainSpec(
        _common.input_fn(data.train_features, data.train_labels, train=True, seed=seed),
        max_steps=job["steps"],
        hooks=hooks if task_type in ("chief", "worker") else [],
    )
    eval_spec = tf.estimator.EvalSpec(
        _common.input_fn(data.eval_features, data.eval_labels, train=False, seed=seed),
        steps=None,  # The whole eval set.
        exporters=[_metrics_recorder(task_path(run_dir, task_type, index, "jsonl"), trace)],
        start_delay_secs=1,
        throttle_secs=1,
    )
    tf.estimator.train_and_evaluate(estimator, train_spec, eval_spec)
    path = task_path(run_dir, task_type, index, "json")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(trace, f)
    os.replace(path + ".tmp", path)  # The driver never reads half a trace.
    return 0


def _trace_hook(task_type: str, index: int, run_dir: str, workers: int, trace: dict):
    """A training hook: the start-up rendezvous, and each step in the log and the trace.

    A worker's session creation polls the chief's variable initialization only every 30 s
    (SessionManager's recovery_wait_secs): a short run would be over before the worker took
    a step. So the chief, once its session exists, writes `chief-0.ready` and waits for each
    worker's `worker-I.ready`; a worker waits for `chief-0.ready` before creating its
    session and writes its own file once it has one.
    """
    import tensorflow as tf

    key = f"{task_type}:{index}"

    def wait_for(paths: list[str]) -> None:
        deadline = time.monotonic() + RENDEZVOUS_TIMEOUT_S
        while not all(map(os.path.exists, paths)) and time.monotonic() < deadline:
            time.sleep(0.05)

    class TraceHook(tf.compat.v1.train.SessionRunHook):
        def begin(self):
            self._global_step = tf.compat.v1.train.get_global_step()
            trace["variable_devices"] = sorted({v.device for v in tf.compat.v1.global_variables()})
            trace["steps_run"] = 0
            if task_type != "chief":
                wait_for([task_path(run_dir, "chief", 0, "ready")])

        def after_create_session(self, session, coord):
            with open(task_path(run_dir, task_type, index, "ready"), "w", encoding="utf-8"):
                pass
            if task_type == "chief":
                wait_for([task_path(run_dir, "worker", i, "ready") for i in range(workers)])

        def before_run(self, run_context):
            return tf.compat.v1.train.SessionRunArgs(self._global_step)

        def after_run(self, run_context, run_values):
            trace["steps_run"] += 1
            # Read in the same run as the train op: this or the previous step's value.
            step = run_values.results
            print(f"{key}: local step {trace['steps_run']}, global_step {step}", flush=True)

    return TraceHook()


def _metrics_recorder(path: str, trace: dict):
    """An Exporter that exports no model: it appends each evaluation's exact result to `path`
    (`train_and_evaluate` returns None in a cluster, and event files hold float32)."""
    import tensorflow as tf

    class MetricsRecorder(tf.estimator.Exporter):
        name = "metrics_recorder"

        def export(self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export):
            entry = {
                "checkpoint_path": checkpoint_path,
                "is_the_final_export": bool(is_the_final_export),
                "metrics": jsonable(eval_result),
            }
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
            trace.setdefault("evaluated_steps", []).append(entry["metrics"]["global_step"])
            print(f"evaluator: evaluated {checkpoint_path}: {json.dumps(entry)}", flush=True)

    return MetricsRecorder()


def _exit_with_parent(parent_pid: int) -> None:
    """Ends this task when the driver is gone, even SIGKILLed: no ps left serving forever."""
    with contextlib.suppress(OSError, AttributeError):  # Linux: SIGTERM when the parent dies.
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # It died before the signal was armed.
        os._exit(3)


def read_trace(run_dir: str, task_type: str, index: int) -> dict:
    """The trace a task wrote when its train_and_evaluate returned; {} if none."""
    try:
        with open(task_path(run_dir, task_type, index, "json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def read_evaluations(run_dir: str) -> list[dict]:
    """Every entry the evaluator's recorder appended, in order (OSError if none)."""
    with open(task_path(run_dir, "evaluator", 0, "jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def jsonable(values: Mapping) -> dict[str, float]:
    """An evaluation result as JSON: global_step an int, every metric a float."""
    return {str(k): int(v) if k == "global_step" else float(v) for k, v in values.items()}
