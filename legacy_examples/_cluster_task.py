"""One task process of `distributed.run_cluster`, and the files it leaves for the driver.

The driver starts each task as `python -m estimator_metrics.legacy_examples.distributed --task
TYPE --index I ...` with its TF_CONFIG in the environment; `task_main` then
runs `tf.estimator.train_and_evaluate` for that task. What a task leaves for
the driver is under `<model_dir>/RUN_SUBDIR`, at `task_path`, and written and
read only here:

    TYPE-I.log      the task's stdout and stderr (opened by the driver)
    TYPE-I.json     the task's trace, written when train_and_evaluate returns
                    (steps run, variable devices, evaluated steps, ...):
                    `read_trace`
    evaluator-0.jsonl
                    the metrics recorder's entry for each evaluation:
                    `read_evaluations`
    TYPE-I.ready    the chief's and the workers' start-up rendezvous

plus the evaluator's own summaries in `<model_dir>/eval` (`read_eval_summaries`).
The driver names the example by a spec (`example_spec`) that each task
imports it by (`load_example`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence

from . import _common

#: Where, under model_dir, the tasks' logs and result files go.
RUN_SUBDIR = "cluster"
_DEPRECATED = "is deprecated and will be removed"


# -------------------------------------------------------------- starting a task


def command(
    task_type: str,
    index: int,
    *,
    spec: str,
    steps: int,
    model_dir: str,
    metrics: str,
    seed: int,
    parent_pid: int,
) -> list[str]:
    """The command line of one task process: `task_main` through distributed's `__main__`."""
    return [
        sys.executable, "-m", f"{__package__}.distributed",
        "--task", task_type, "--index", str(index),
        "--example", spec, "--steps", str(steps), "--model-dir", model_dir,
        "--metrics", metrics, "--seed", str(seed), "--parent-pid", str(parent_pid),
    ]  # fmt: skip


def environment(
    cluster: Mapping[str, list[str]], task_type: str, index: int, extra_path: str | None
) -> dict[str, str]:
    """This process's environment for one task: its own TF_CONFIG, `extra_path` on PYTHONPATH."""
    env = dict(os.environ)
    env["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PYTHONUNBUFFERED"] = "1"
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (extra_path, env.get("PYTHONPATH")) if p)
    return env


def example_spec(example: _common.Example | str) -> tuple[str, str | None]:
    """(the spec a task process imports the example by, a sys.path entry it needs or None)."""
    if isinstance(example, str):
        return example, None
    module = sys.modules.get(f"{__package__}.{example.name}")
    if module is not None and getattr(module, "EXAMPLE", None) is example:
        return example.name, None
    module = sys.modules.get(getattr(example.model_fn, "__module__", None) or "")
    if module is not None and module.__name__ != "__main__" and getattr(module, "__file__", None):
        for attribute, value in vars(module).items():
            if value is example:
                root = os.path.dirname(os.path.abspath(module.__file__))
                depth = module.__name__.count(".")
                if os.path.basename(module.__file__).startswith("__init__."):
                    depth += 1
                for _ in range(depth):
                    root = os.path.dirname(root)
                return f"{module.__name__}:{attribute}", root
    raise ValueError(
        f"The task processes cannot import example {example.name!r}: make it the EXAMPLE of "
        "legacy_examples.<name> or a module-level attribute of its model_fn's module, or pass "
        "'module:ATTRIBUTE'"
    )


def load_example(spec: str) -> _common.Example:
    """The example of a spec: "binary" (legacy_examples.binary), "pkg.module" or "module:ATTRIBUTE".

    Without an attribute it is the module's EXAMPLE.
    """
    module_name, _, attribute = spec.partition(":")
    if "." not in module_name and not attribute:
        module_name = f"{__package__}.{module_name}"
    return getattr(importlib.import_module(module_name), attribute or "EXAMPLE")


# -------------------------------------------------------------- inside the task


def task_main(argv: Sequence[str] | None = None) -> int:
    """One task of the cluster: its TF_CONFIG comes from the environment.

    `python -m estimator_metrics.legacy_examples.distributed --task chief --index 0 --example
    binary --steps 30 --model-dir D [--metrics legacy] [--seed 0]
    [--parent-pid PID] [--rendezvous-timeout 120]`
    """
    parser = _task_parser()
    args = parser.parse_args(argv)
    if args.parent_pid:
        _exit_with_parent(args.parent_pid)
    tf_config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = tf_config.get("task", {})
    if (task.get("type"), task.get("index")) != (args.task, args.index):
        parser.error(f"TF_CONFIG's task {task} is not --task {args.task} --index {args.index}")
    key = f"{args.task}:{args.index}"
    run_dir = os.path.join(args.model_dir, RUN_SUBDIR)
    print(f"{key}: pid {os.getpid()}, TF_CONFIG {json.dumps(tf_config)}", flush=True)

    _info_log_without_deprecations()
    example = load_example(args.example)
    data = example.make_data(args.seed)
    config = _run_config(args.seed, args.steps)
    estimator = _common.estimator(example, args.metrics, args.model_dir, args.seed, config)
    trace: dict = {"task": args.task, "index": args.index, "pid": os.getpid()}
    train_spec, eval_spec = _specs(data, args, run_dir, tf_config, trace)
    _train_and_evaluate(estimator, train_spec, eval_spec, args.task, trace)
    _write_trace(run_dir, args.task, args.index, trace)
    print(f"{key}: done: {json.dumps(trace)}", flush=True)
    return 0


def _task_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}.distributed --task")
    parser.add_argument("--task", required=True, choices=("chief", "worker", "ps", "evaluator"))
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--example", required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--metrics", choices=_common.METRIC_MODES, default="legacy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    parser.add_argument("--rendezvous-timeout", type=float, default=120.0)
    return parser


def _info_log_without_deprecations() -> None:
    """Imports TensorFlow with its INFO log on (the driver shows the tails of the task logs),
    minus the deprecation warnings every Estimator API emits."""
    import warnings

    warnings.filterwarnings("ignore", message=f".* {_DEPRECATED}")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import tensorflow as tf

    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.INFO)
    tf.get_logger().addFilter(_DropDeprecations())  # keeps the log tails readable


def _run_config(seed: int, steps: int):
    """The task's RunConfig: the cluster and this task from TF_CONFIG, checkpoints at the ends."""
    import tensorflow as tf

    return tf.estimator.RunConfig(  # reads TF_CONFIG
        tf_random_seed=seed,
        # Checkpoints only when the chief's session starts (step 0) and when
        # training ends: no intermediate checkpoint of step >= max_steps can
        # end the evaluator's loop before the final one.
        save_checkpoints_steps=None,
        save_checkpoints_secs=10**9,
        log_step_count_steps=max(1, steps // 10),
        # The worker waits for the chief through the rendezvous below instead
        # of train_and_evaluate's fixed 5 s per worker index.
        experimental_max_worker_delay_secs=0,
    )


def _specs(data, args: argparse.Namespace, run_dir: str, tf_config: Mapping, trace: dict):
    """(TrainSpec, EvalSpec) of this task: the trainers trace their steps, the evaluator
    records each evaluation's result."""
    import tensorflow as tf

    hooks = []
    if args.task in ("chief", "worker"):
        num_workers = len(tf_config["cluster"].get("worker", []))
        hooks.append(
            _trace_hook(args.task, args.index, run_dir, num_workers, args.rendezvous_timeout, trace)
        )
    recorder = _metrics_recorder(task_path(run_dir, args.task, args.index, "jsonl"), trace)
    train_spec = tf.estimator.TrainSpec(
        _common.input_fn(data.train_features, data.train_labels, train=True, seed=args.seed),
        max_steps=args.steps,
        hooks=hooks,
    )
    eval_spec = tf.estimator.EvalSpec(
        _common.input_fn(data.eval_features, data.eval_labels, train=False, seed=args.seed),
        steps=None,  # the whole eval set
        exporters=[recorder],
        start_delay_secs=1,
        throttle_secs=1,
    )
    return train_spec, eval_spec


def _train_and_evaluate(estimator, train_spec, eval_spec, task_type: str, trace: dict) -> None:
    """Runs this task's part of `tf.estimator.train_and_evaluate`; adds its time, what it
    returned and, on the chief, the final checkpoint's step to `trace`."""
    import tensorflow as tf

    started = time.time()
    returned = tf.estimator.train_and_evaluate(estimator, train_spec, eval_spec)
    trace["seconds"] = round(time.time() - started, 3)
    trace["train_and_evaluate_returned"] = repr(returned)
    if task_type == "chief":
        checkpoint = estimator.latest_checkpoint()
        trace["final_checkpoint_step"] = int(checkpoint.rsplit("-", 1)[1]) if checkpoint else None


class _DropDeprecations(logging.Filter):
    """Drops TensorFlow's "X is deprecated and will be removed" records (every Estimator API)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _DEPRECATED not in record.getMessage()


def _trace_hook(
    task_type: str, index: int, run_dir: str, num_workers: int, timeout_s: float, trace: dict
):
    """A training hook: start rendezvous, and a per-step trace of this task.

    Rendezvous: a worker's session creation polls the chief's variable
    initialization only every 30 s (SessionManager's recovery_wait_secs), and
    a short run is over before then. So the chief, once its session exists
    (variables initialized), writes `chief-0.ready` and waits for each
    worker's `worker-I.ready`; a worker waits for `chief-0.ready` before
    creating its session and writes its own file once it has one. Both then
    train together. Each wait gives up after `timeout_s` and trains anyway.
    """
    import tensorflow as tf

    key = f"{task_type}:{index}"
    is_chief = task_type == "chief"
    chief_ready = task_path(run_dir, "chief", 0, "ready")

    def wait_for(paths):
        deadline = time.monotonic() + timeout_s
        while not all(os.path.exists(p) for p in paths):
            if time.monotonic() > deadline:
                print(f"{key}: rendezvous: gave up waiting for {paths}", flush=True)
                return
            time.sleep(0.05)

    class TraceHook(tf.compat.v1.train.SessionRunHook):
        def begin(self):
            self._global_step = tf.compat.v1.train.get_global_step()
            devices = sorted({v.device for v in tf.compat.v1.global_variables()})
            trace["variable_devices"] = devices
            trace["steps_run"] = 0
            print(f"{key}: variables on {devices}", flush=True)
            if not is_chief:
                wait_for([chief_ready])

        def after_create_session(self, session, coord):
            with open(task_path(run_dir, task_type, index, "ready"), "w", encoding="utf-8"):
                pass
            if is_chief:
                wait_for([task_path(run_dir, "worker", i, "ready") for i in range(num_workers)])
            print(f"{key}: session ready, training", flush=True)
            self._ready = time.monotonic()

        def before_run(self, run_context):
            return tf.compat.v1.train.SessionRunArgs(self._global_step)

        def after_run(self, run_context, run_values):
            trace["steps_run"] += 1
            # Read in the same run as the train op: this or the previous step's value.
            print(
                f"{key}: local step {trace['steps_run']}, global_step {run_values.results}, "
                f"{time.monotonic() - self._ready:.3f} s after the rendezvous",
                flush=True,
            )

        def end(self, session):
            trace["final_global_step_seen"] = int(session.run(self._global_step))

    return TraceHook()


def _metrics_recorder(path: str, trace: dict):
    """An Exporter that exports no model: it appends each evaluation's result to `path`.

    Each line: {"checkpoint_path", "is_the_final_export", "metrics"}; the
    evaluator calls it after every evaluation with the exact result dict.
    """
    import tensorflow as tf

    class MetricsRecorder(tf.estimator.Exporter):
        @property
        def name(self):
            return "metrics_recorder"

        def export(self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export):
            entry = {
                "checkpoint_path": checkpoint_path,
                "is_the_final_export": bool(is_the_final_export),
                "metrics": jsonable(eval_result),
            }
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
                f.flush()
                os.fsync(f.fileno())
            trace.setdefault("evaluated_steps", []).append(entry["metrics"]["global_step"])
            print(f"evaluator: evaluated {checkpoint_path}: {json.dumps(entry)}", flush=True)
            return None

    return MetricsRecorder()


def _exit_with_parent(parent_pid: int) -> None:
    """Ends this task when the driver is gone (even SIGKILLed): no orphaned ps serving forever."""
    try:  # Linux: SIGTERM on the parent's death.
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(3)

    if os.getppid() != parent_pid:  # gone before the death signal was armed
        os._exit(3)
    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


# -------------------------------------------- what a task leaves for the driver


def task_path(run_dir: str, task_type: str, index: int, suffix: str) -> str:
    """`<run_dir>/<task_type>-<index>.<suffix>`: a task's log, trace, results or ready file."""
    return os.path.join(run_dir, f"{task_type}-{index}.{suffix}")


def read_trace(run_dir: str, task_type: str, index: int) -> dict:
    """The trace a task wrote when its train_and_evaluate returned; {} if none."""
    try:
        with open(task_path(run_dir, task_type, index, "json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _write_trace(run_dir: str, task_type: str, index: int, trace: dict) -> None:
    path = task_path(run_dir, task_type, index, "json")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(trace, f)
    os.replace(path + ".tmp", path)  # the driver never reads a partial trace


def read_evaluations(run_dir: str) -> list[dict]:
    """Every entry the metrics recorder of evaluator 0 appended, in order (OSError if none)."""
    with open(task_path(run_dir, "evaluator", 0, "jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_eval_summaries(model_dir: str, step: int) -> dict[str, float]:
    """The scalars the evaluator's Estimator.evaluate wrote to its event files at `step`."""
    import tensorflow as tf

    eval_dir = os.path.join(model_dir, "eval")
    values: dict[str, float] = {}
    if not os.path.isdir(eval_dir):
        return values
    for name in sorted(os.listdir(eval_dir)):
        if not name.startswith("events.out.tfevents"):
            continue
        for event in tf.compat.v1.train.summary_iterator(os.path.join(eval_dir, name)):
            if event.step != step or not event.HasField("summary"):
                continue
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    values[value.tag] = float(value.simple_value)
    return values


def jsonable(values: Mapping) -> dict[str, float]:
    """An evaluation result as JSON: global_step an int, every metric a float."""
    out: dict[str, float] = {}
    for name, value in values.items():
        item = value.item() if hasattr(value, "item") else value
        out[str(name)] = int(item) if name == "global_step" else float(item)
    return out
