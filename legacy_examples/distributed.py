"""An example trained by a real local tf.estimator cluster; our metrics on its evaluator.

Estimator's own distributed engine is `tf.estimator.train_and_evaluate` driven
by `TF_CONFIG`. `run_cluster` starts one process per task on loopback ports
it picks,

    ps:0         holds the variables; `train_and_evaluate` joins its server
                 forever, so the driver terminates it once training is over
    chief:0      trains (between-graph replication: Estimator places the
                 variables on /job:ps through `replica_device_setter`), writes
                 the checkpoints
    worker:0     trains asynchronously against the same variables
    evaluator:0  not part of the cluster spec: evaluates each new checkpoint
                 in `model_dir` with the example's eval metrics (legacy or
                 Keras), and stops after the final one (global_step >= steps)

then evaluates the final checkpoint again in this process, with no cluster
(`_common.evaluate`), and returns both results: they evaluate the same
checkpoint on the same data, so they must agree.

How the evaluator's result reaches the driver: in distributed mode
`train_and_evaluate` returns None (`_TrainingExecutor.run` drops the result
of `run_evaluator`; its docstring calls the return value undefined), and the
evaluator's event files hold float32 summaries. So the evaluator's `EvalSpec`
carries `_MetricsRecorder`, a `tf.estimator.Exporter` that exports no model:
the evaluator calls it after every evaluation with the exact result dict, the
checkpoint path and `is_the_final_export`, and it appends them as one JSON line
to `<model_dir>/cluster/evaluator-0.jsonl`. The driver takes the final entry
and cross-checks it against the evaluator's own event files.

Run: python -m legacy_examples.distributed --example binary --steps 200
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import logging
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from legacy_examples import _common

#: The training cluster; the evaluator task comes on top of it.
CLUSTER_SHAPE = (("chief", 1), ("worker", 1), ("ps", 1))
#: Relative tolerance between the evaluator's and the single-process result.
RTOL = 1e-6
#: Where, under model_dir, the tasks' logs and result files go.
RUN_SUBDIR = "cluster"
DEFAULT_TIMEOUT_S = 300.0
#: Seconds a terminated task gets before SIGKILL.
_TERMINATE_GRACE_S = 5.0
_LOG_TAIL_LINES = 25


class ClusterError(RuntimeError):
    """A task failed, or the cluster's result is missing or inconsistent.

    `tasks` lists every task started (`TaskRun`); `pids` their process ids.
    By the time the error reaches the caller every one of them has been
    stopped and reaped.
    """

    def __init__(self, message: str, tasks: Sequence["TaskRun"] = ()):
        super().__init__(message)
        self.tasks = tuple(tasks)

    @property
    def pids(self) -> Tuple[int, ...]:
        return tuple(t.pid for t in self.tasks)


class ClusterTimeout(ClusterError, TimeoutError):
    """The cluster did not finish within `timeout_s`."""


@dataclasses.dataclass
class TaskRun:
    """One started task process."""

    type: str
    index: int
    address: Optional[str]  # None for the evaluator: it is not in the cluster spec.
    pid: int
    log_path: str
    returncode: Optional[int] = None

    @property
    def key(self) -> str:
        return f"{self.type}:{self.index}"


@dataclasses.dataclass(frozen=True)
class ClusterResult:
    """What `run_cluster` observed.

    Attributes:
      example: The example's name.
      metrics: "legacy" or "keras".
      steps: The requested `TrainSpec.max_steps`.
      global_step: The final checkpoint's global step, the one both sides
        evaluated. Asynchronous training can end at steps + 1: the chief and
        the worker may both run the step that reaches `steps`.
      checkpoint: The final checkpoint's path.
      evaluator_metrics: The evaluator task's result for the final checkpoint.
      single_process_metrics: `Estimator.evaluate` of the same checkpoint in
        this process, without TF_CONFIG.
      evaluator_summaries: The evaluator's event-file scalars at global_step
        (float32; a cross-check of `evaluator_metrics`).
      evaluated_steps: The global step of each checkpoint the evaluator
        evaluated, in order.
      steps_by_task: "chief:0" / "worker:0" -> training steps that process ran.
      variable_devices: Devices of the trainable variables in the chief's graph.
      cluster: The cluster spec ({"chief": [address], ...}).
      ports: "chief:0" / "worker:0" / "ps:0" -> loopback port.
      tasks: Every task started, with its pid, log and exit code (the ps ends
        terminated: a negative code).
      model_dir: Checkpoints; task logs and result files are in its `cluster/`.
      wall_s: Seconds from starting the first task to the last one's exit.
    """

    example: str
    metrics: str
    steps: int
    global_step: int
    checkpoint: str
    evaluator_metrics: Dict[str, float]
    single_process_metrics: Dict[str, float]
    evaluator_summaries: Dict[str, float]
    evaluated_steps: Tuple[int, ...]
    steps_by_task: Dict[str, int]
    variable_devices: Tuple[str, ...]
    cluster: Dict[str, List[str]]
    ports: Dict[str, int]
    tasks: Tuple[TaskRun, ...]
    model_dir: str
    wall_s: float

    @property
    def pids(self) -> Tuple[int, ...]:
        return tuple(t.pid for t in self.tasks)

    @property
    def log_paths(self) -> Dict[str, str]:
        return {t.key: t.log_path for t in self.tasks}

    def comparison(self, rtol: float = RTOL) -> List[Tuple[str, float, float, float, bool]]:
        """(name, evaluator task, single process, |diff|, agree) per metric."""
        rows = []
        for name in sorted(set(self.evaluator_metrics) | set(self.single_process_metrics)):
            a = self.evaluator_metrics.get(name, math.nan)
            b = self.single_process_metrics.get(name, math.nan)
            rows.append((name, a, b, abs(a - b), math.isclose(a, b, rel_tol=rtol, abs_tol=0.0)))
        return rows

    @property
    def agree(self) -> bool:
        return all(row[-1] for row in self.comparison())


# --------------------------------------------------------------------------- driver


def run_cluster(
    example: Union[_common.Example, str],
    *,
    steps: int,
    model_dir: Optional[str] = None,
    metrics: str = "legacy",
    seed: int = 0,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    log: Callable[[str], None] = print,
) -> ClusterResult:
    """Trains `example` on a local chief/worker/ps cluster, evaluates it on an evaluator task.

    Args:
      example: An `_common.Example` the task processes can import (an
        `EXAMPLE` of a `legacy_examples` module, or a module-level attribute
        of the module defining its `model_fn`), or its spec: "binary" or
        "package.module:ATTRIBUTE".
      steps: `TrainSpec.max_steps`.
      model_dir: A directory without checkpoints (default: a new temporary one).
      metrics: "legacy" or "keras": the eval metrics of the evaluator task and
        of the single-process evaluation.
      seed: Data and graph seed.
      timeout_s: Hard limit for the cluster, from the first task's start to
        the last one's exit; the single-process evaluation comes after it.
      log: Called with each progress line.

    Returns:
      A `ClusterResult`; `result.agree` tells whether both evaluations agree.

    Raises:
      ClusterError: A task failed or a result is missing; the message ends
        with the tail of every task's log.
      ClusterTimeout: `timeout_s` elapsed (also a `TimeoutError`).

    On every way out (result, error, timeout, KeyboardInterrupt) every task
    process and its process group is terminated, then killed, and reaped.
    TF_CONFIG is set only in the tasks' environments, never in this process.
    """
    if metrics not in _common.METRIC_MODES:
        raise ValueError(f"Expected `metrics` in {_common.METRIC_MODES}, received {metrics!r}")
    if steps < 1:
        raise ValueError(f"`steps` must be >= 1, received {steps}")
    spec, extra_path = _example_spec(example)
    example_obj = _load_example(spec) if isinstance(example, str) else example
    model_dir = os.path.abspath(
        model_dir or tempfile.mkdtemp(prefix=f"distributed-{example_obj.name}-")
    )
    run_dir = os.path.join(model_dir, RUN_SUBDIR)
    os.makedirs(run_dir, exist_ok=True)
    if _has_checkpoint(model_dir):
        raise ValueError(f"{model_dir} already holds a checkpoint; give a new model_dir")
    for name in os.listdir(run_dir):  # stale markers and results of an interrupted run
        os.remove(os.path.join(run_dir, name))

    ports = _free_ports(sum(n for _, n in CLUSTER_SHAPE))
    cluster: Dict[str, List[str]] = {}
    port_of: Dict[str, int] = {}
    for task_type, count in CLUSTER_SHAPE:
        cluster[task_type] = []
        for index in range(count):
            port = ports.pop(0)
            cluster[task_type].append(f"127.0.0.1:{port}")
            port_of[f"{task_type}:{index}"] = port
    # Start the ps first: the others connect to it.
    order = [("ps", i) for i in range(len(cluster["ps"]))]
    order += [("chief", 0)] + [("worker", i) for i in range(len(cluster["worker"]))]
    order += [("evaluator", 0)]

    base_env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    base_env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    base_env["PYTHONUNBUFFERED"] = "1"
    if extra_path:
        base_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (extra_path, base_env.get("PYTHONPATH")) if p
        )

    tasks: List[TaskRun] = []
    procs: Dict[str, subprocess.Popen] = {}
    start = time.monotonic()
    try:
        for task_type, index in order:
            address = cluster[task_type][index] if task_type in cluster else None
            env = dict(base_env)
            env["TF_CONFIG"] = json.dumps(
                {"cluster": cluster, "task": {"type": task_type, "index": index}}
            )
            log_path = os.path.join(run_dir, f"{task_type}-{index}.log")
            command = [
                sys.executable, "-m", "legacy_examples.distributed",
                "--task", task_type, "--index", str(index),
                "--example", spec, "--steps", str(steps), "--model-dir", model_dir,
                "--metrics", metrics, "--seed", str(seed), "--parent-pid", str(os.getpid()),
            ]  # fmt: skip
            with open(log_path, "wb") as log_file:
                proc = subprocess.Popen(
                    command, env=env, stdin=subprocess.DEVNULL, stdout=log_file,
                    stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
                )  # fmt: skip
            task = TaskRun(task_type, index, address, proc.pid, log_path)
            tasks.append(task)
            procs[task.key] = proc
            where = f"on {address}" if address else "(not in the cluster spec)"
            log(f"starting {task_type} {index} {where}, pid {proc.pid}")

        pending = [t for t in tasks if t.type != "ps"]
        while pending:
            for task in list(pending):
                code = procs[task.key].poll()
                if code is None:
                    continue
                task.returncode = code
                if code != 0:
                    raise ClusterError(
                        f"{task.key} exited with code {code}" + _tails(tasks, procs, task), tasks
                    )
                pending.remove(task)
                log(_finished_line(task, run_dir))
            for task in tasks:
                if task.type == "ps" and procs[task.key].poll() is not None:
                    task.returncode = procs[task.key].returncode
                    raise ClusterError(
                        f"{task.key} exited with code {task.returncode} while training"
                        + _tails(tasks, procs, task),
                        tasks,
                    )
            if time.monotonic() - start > timeout_s:
                raise ClusterTimeout(
                    f"the cluster did not finish within {timeout_s:g} s; still running: "
                    + ", ".join(t.key for t in pending)
                    + _tails(tasks, procs),
                    tasks,
                )
            time.sleep(0.1)
        log("stopping ps 0: train_and_evaluate joins its server forever")
    finally:
        _stop(tasks, procs)
    wall_s = time.monotonic() - start

    final, evaluated_steps = _evaluator_final(run_dir, steps, tasks)
    checkpoint = _latest_checkpoint(model_dir)
    if os.path.basename(final["checkpoint_path"]) != os.path.basename(checkpoint or ""):
        raise ClusterError(
            f"the evaluator's last checkpoint {final['checkpoint_path']} is not the final "
            f"checkpoint {checkpoint}",
            tasks,
        )
    evaluator_metrics = final["metrics"]
    log(f"evaluator result: {_format(evaluator_metrics)}")
    summaries = _read_eval_summaries(
        os.path.join(model_dir, "eval"), int(evaluator_metrics["global_step"])
    )

    with _without_tf_config():
        data = example_obj.make_data(seed)
        single = _jsonable(_common.evaluate(example_obj, data, model_dir, metrics, seed))
    log(f"single-process evaluation: {_format(single)}")

    trace = {t.key: _read_json(os.path.join(run_dir, f"{t.type}-{t.index}.json")) for t in tasks}
    return ClusterResult(
        example=example_obj.name,
        metrics=metrics,
        steps=steps,
        global_step=int(evaluator_metrics["global_step"]),
        checkpoint=checkpoint,
        evaluator_metrics=evaluator_metrics,
        single_process_metrics=single,
        evaluator_summaries=summaries,
        evaluated_steps=evaluated_steps,
        steps_by_task={k: v["steps_run"] for k, v in trace.items() if v and "steps_run" in v},
        variable_devices=tuple((trace.get("chief:0") or {}).get("variable_devices", ())),
        cluster=cluster,
        ports=port_of,
        tasks=tuple(tasks),
        model_dir=model_dir,
        wall_s=wall_s,
    )


def _free_ports(count: int) -> List[int]:
    """`count` distinct loopback ports, free a moment ago (bound to port 0, then released)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _stop(tasks: Sequence[TaskRun], procs: Mapping[str, subprocess.Popen]) -> None:
    """SIGTERM every task's process group, SIGKILL what is left after a grace period, reap all."""
    for task in tasks:
        if procs[task.key].poll() is None:
            _signal_group(task.pid, signal.SIGTERM)
    deadline = time.monotonic() + _TERMINATE_GRACE_S
    for task in tasks:
        proc = procs[task.key]
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for task in tasks:
        # Also groups whose leader is gone: nothing of a task may outlive it.
        # (A group id stays reserved while any member lives, so this cannot hit
        # an unrelated process.)
        _signal_group(task.pid, signal.SIGKILL)
        procs[task.key].wait()
        task.returncode = procs[task.key].returncode


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _tails(
    tasks: Sequence[TaskRun], procs: Mapping[str, subprocess.Popen], first: Optional[TaskRun] = None
) -> str:
    """The end of every task's log, `first`'s (the failed task's) first."""
    parts = []
    for task in sorted(tasks, key=lambda t: t is not first):
        code = procs[task.key].poll()
        state = "running" if code is None else f"exit code {code}"
        try:
            with open(task.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()[-_LOG_TAIL_LINES:]
        except OSError as e:
            lines = [f"(cannot read the log: {e})"]
        parts.append(
            f"\n--- {task.key}, pid {task.pid}, {state}: last {len(lines)} lines of "
            f"{task.log_path}\n" + "\n".join(lines)
        )
    return "".join(parts)


def _finished_line(task: TaskRun, run_dir: str) -> str:
    trace = _read_json(os.path.join(run_dir, f"{task.type}-{task.index}.json")) or {}
    if task.type == "chief":
        return (
            f"chief finished at step {trace.get('final_checkpoint_step')} (it ran "
            f"{trace.get('steps_run')} steps; variables on "
            f"{', '.join(trace.get('variable_devices', [])) or '?'})"
        )
    if task.type == "worker":
        return f"worker {task.index} finished (it ran {trace.get('steps_run')} steps)"
    return (
        "evaluator finished: evaluated the checkpoints of steps "
        f"{list(trace.get('evaluated_steps', []))}"
    )


def _evaluator_final(run_dir: str, steps: int, tasks) -> Tuple[dict, Tuple[int, ...]]:
    path = os.path.join(run_dir, "evaluator-0.jsonl")
    try:
        with open(path, encoding="utf-8") as f:
            entries = [json.loads(line) for line in f if line.strip()]
    except OSError as e:
        raise ClusterError(f"the evaluator wrote no results ({e})", tasks) from e
    evaluated = tuple(int(e["metrics"]["global_step"]) for e in entries)
    finals = [e for e in entries if e["is_the_final_export"]]
    if not finals or evaluated[-1] < steps:
        raise ClusterError(
            f"the evaluator never evaluated a checkpoint of step >= {steps}: {evaluated}", tasks
        )
    return finals[-1], evaluated


def _read_eval_summaries(eval_dir: str, step: int) -> Dict[str, float]:
    """The scalars the evaluator's Estimator.evaluate wrote to its event files at `step`."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    values: Dict[str, float] = {}
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


# ---------------------------------------------------------------------- one task


def task_main(argv: Optional[Sequence[str]] = None) -> int:
    """One task of the cluster: its TF_CONFIG comes from the environment.

    `python -m legacy_examples.distributed --task chief --index 0 --example
    binary --steps 30 --model-dir D [--metrics legacy] [--seed 0]`
    """
    parser = argparse.ArgumentParser(prog="python -m legacy_examples.distributed --task")
    parser.add_argument("--task", required=True, choices=("chief", "worker", "ps", "evaluator"))
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--example", required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--metrics", choices=_common.METRIC_MODES, default="legacy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    parser.add_argument("--rendezvous-timeout", type=float, default=120.0)
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

    import warnings  # pylint: disable=import-outside-toplevel

    warnings.filterwarnings("ignore", message=r".* is deprecated and will be removed")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.INFO)
    tf.get_logger().addFilter(_DropDeprecations())  # keeps the log tails readable

    example = _load_example(args.example)
    data = example.make_data(args.seed)
    config = tf.estimator.RunConfig(  # reads TF_CONFIG
        tf_random_seed=args.seed,
        # Checkpoints only when the chief's session starts (step 0) and when
        # training ends: no intermediate checkpoint of step >= max_steps can
        # end the evaluator's loop before the final one.
        save_checkpoints_steps=None,
        save_checkpoints_secs=10**9,
        log_step_count_steps=max(1, args.steps // 10),
        # The worker waits for the chief through the rendezvous below instead
        # of train_and_evaluate's fixed 5 s per worker index.
        experimental_max_worker_delay_secs=0,
    )
    estimator = _common.estimator(example, args.metrics, args.model_dir, args.seed, config)
    trace: dict = {"task": args.task, "index": args.index, "pid": os.getpid()}
    hooks = []
    if args.task in ("chief", "worker"):
        num_workers = len(tf_config["cluster"].get("worker", []))
        hooks.append(_trace_hook(key, run_dir, num_workers, args.rendezvous_timeout, trace))
    recorder = _metrics_recorder(os.path.join(run_dir, f"{args.task}-{args.index}.jsonl"), trace)
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
    started = time.time()
    returned = tf.estimator.train_and_evaluate(estimator, train_spec, eval_spec)
    trace["seconds"] = round(time.time() - started, 3)
    trace["train_and_evaluate_returned"] = repr(returned)
    if args.task == "chief":
        checkpoint = estimator.latest_checkpoint()
        trace["final_checkpoint_step"] = int(checkpoint.rsplit("-", 1)[1]) if checkpoint else None
    _write_json(os.path.join(run_dir, f"{args.task}-{args.index}.json"), trace)
    print(f"{key}: done: {json.dumps(trace)}", flush=True)
    return 0


class _DropDeprecations(logging.Filter):
    """Drops TensorFlow's "X is deprecated and will be removed" records (every Estimator API)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "is deprecated and will be removed" not in record.getMessage()


def _trace_hook(key: str, run_dir: str, num_workers: int, timeout_s: float, trace: dict):
    """A training hook: start rendezvous, and a per-step trace of this task.

    Rendezvous: a worker's session creation polls the chief's variable
    initialization only every 30 s (SessionManager's recovery_wait_secs), and
    a short run is over before then. So the chief, once its session exists
    (variables initialized), writes `chief-0.ready` and waits for each
    worker's `worker-I.ready`; a worker waits for `chief-0.ready` before
    creating its session and writes its own file once it has one. Both then
    train together. Each wait gives up after `timeout_s` and trains anyway.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    def wait_for(paths):
        deadline = time.monotonic() + timeout_s
        while not all(os.path.exists(p) for p in paths):
            if time.monotonic() > deadline:
                print(f"{key}: rendezvous: gave up waiting for {paths}", flush=True)
                return
            time.sleep(0.05)

    def touch(path):
        with open(path, "w", encoding="utf-8"):
            pass

    class TraceHook(tf.compat.v1.train.SessionRunHook):
        def begin(self):
            self._global_step = tf.compat.v1.train.get_global_step()
            devices = sorted({v.device for v in tf.compat.v1.global_variables()})
            trace["variable_devices"] = devices
            trace["steps_run"] = 0
            print(f"{key}: variables on {devices}", flush=True)
            if key != "chief:0":
                wait_for([os.path.join(run_dir, "chief-0.ready")])

        def after_create_session(self, session, coord):
            if key == "chief:0":
                touch(os.path.join(run_dir, "chief-0.ready"))
                wait_for([os.path.join(run_dir, f"worker-{i}.ready") for i in range(num_workers)])
            else:
                touch(os.path.join(run_dir, f"{key.replace(':', '-')}.ready"))
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
    """An Exporter that exports no model: it appends each evaluation's result to `path`."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    class MetricsRecorder(tf.estimator.Exporter):
        @property
        def name(self):
            return "metrics_recorder"

        def export(self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export):
            entry = {
                "checkpoint_path": checkpoint_path,
                "is_the_final_export": bool(is_the_final_export),
                "metrics": _jsonable(eval_result),
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
        import ctypes  # pylint: disable=import-outside-toplevel

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch():
        while True:
            if os.getppid() != parent_pid:
                os._exit(3)  # pylint: disable=protected-access
            time.sleep(1.0)

    if os.getppid() != parent_pid:
        os._exit(3)  # pylint: disable=protected-access
    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


# ----------------------------------------------------------------------- helpers


def _example_spec(example: Union[_common.Example, str]) -> Tuple[str, Optional[str]]:
    """(the spec a task process imports the example by, a sys.path entry it needs or None)."""
    if isinstance(example, str):
        return example, None
    module = sys.modules.get(f"legacy_examples.{example.name}")
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


def _load_example(spec: str) -> _common.Example:
    module_name, _, attribute = spec.partition(":")
    if "." not in module_name and not attribute:
        module_name = f"legacy_examples.{module_name}"
    return getattr(importlib.import_module(module_name), attribute or "EXAMPLE")


def _has_checkpoint(model_dir: str) -> bool:
    return os.path.exists(os.path.join(model_dir, "checkpoint"))


def _latest_checkpoint(model_dir: str) -> Optional[str]:
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    return tf.train.latest_checkpoint(model_dir)


class _without_tf_config:  # pylint: disable=invalid-name
    """Hides an inherited TF_CONFIG from RunConfig() while evaluating in this process."""

    def __enter__(self):
        self._saved = os.environ.pop("TF_CONFIG", None)

    def __exit__(self, *exc):
        if self._saved is not None:
            os.environ["TF_CONFIG"] = self._saved


def _jsonable(values: Mapping) -> Dict[str, float]:
    out: Dict[str, float] = {}
    for name, value in values.items():
        item = value.item() if hasattr(value, "item") else value
        out[str(name)] = int(item) if name == "global_step" else float(item)
    return out


def _format(values: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={values[k]:.9g}" for k in sorted(values))


def _read_json(path: str) -> Optional[dict]:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _write_json(path: str, value) -> None:
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(value, f)
    os.replace(path + ".tmp", path)


# ---------------------------------------------------------------------- the CLI


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`python -m legacy_examples.distributed`: run the cluster, compare, print a table."""
    parser = argparse.ArgumentParser(
        prog="python -m legacy_examples.distributed",
        description="Train an example on a local tf.estimator cluster (chief, worker, ps, "
        "evaluator; train_and_evaluate with TF_CONFIG), then evaluate its final checkpoint "
        "in one process: both results must agree.",
    )
    parser.add_argument("--example", default="binary",
                        help="a legacy_examples module (default: binary)")
    parser.add_argument("--steps", type=int, help="training steps (default: the example's)")
    parser.add_argument("--model-dir", help="a new directory (default: a new temporary one)")
    parser.add_argument("--metrics", choices=_common.METRIC_MODES, default="legacy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                        help=f"seconds for the whole cluster (default: {DEFAULT_TIMEOUT_S:g})")
    args = parser.parse_args(argv)
    _common.quiet()
    try:
        example = _load_example(args.example)
    except (ImportError, AttributeError) as e:
        parser.error(f"no example {args.example!r}: {e}")
    steps = args.steps if args.steps is not None else example.default_steps
    if steps < 1:
        parser.error(f"--steps must be >= 1, received {steps}")
    try:
        result = run_cluster(
            example, steps=steps, model_dir=args.model_dir, metrics=args.metrics,
            seed=args.seed, timeout_s=args.timeout,
        )  # fmt: skip
    except ValueError as e:  # e.g. a model dir that already holds checkpoints
        parser.error(str(e))
    except ClusterError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(
        f"\n{result.example}, {result.metrics} metrics: final checkpoint of step "
        f"{result.global_step} (asked for {result.steps}); training steps by task: "
        + ", ".join(f"{k} {v}" for k, v in sorted(result.steps_by_task.items()))
    )
    print(format_table(result))
    print(f"\nmodel dir and task logs: {result.model_dir}")
    return 0 if result.agree else 1


def format_table(result: ClusterResult, rtol: float = RTOL) -> str:
    """metric | evaluator task | single process | |diff| | verdict."""
    rows = [("metric", "evaluator task", "single process", "|diff|", "verdict")]
    for name, a, b, diff, ok in result.comparison(rtol):
        verdict = "ok" if ok else f"DIFFERS (rtol {rtol:g})"
        rows.append((name, f"{a:.9g}", f"{b:.9g}", f"{diff:.3g}", verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def _entry(argv: Sequence[str]) -> int:
    if any(a == "--task" or a.startswith("--task=") for a in argv):
        return task_main(argv)
    return main(argv)


if __name__ == "__main__":
    raise SystemExit(_entry(sys.argv[1:]))
