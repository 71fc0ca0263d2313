"""An example trained by a real local tf.estimator cluster; our metrics on its evaluator.

`run_cluster` runs Estimator's own distributed engine, `tf.estimator.train_and_evaluate`
configured by TF_CONFIG, as one process per task on loopback ports it picks:

    ps:0         holds the variables (Estimator's `replica_device_setter` puts them there);
                 its server never returns, so the driver stops it once training is over
    chief:0      trains and writes the checkpoints
    worker:0     trains asynchronously against the same variables
    evaluator:0  not in the cluster spec: evaluates each new checkpoint with the example's
                 eval metrics, and stops after the final one (global_step >= steps)

then evaluates the final checkpoint again in this process, with no cluster: both evaluate
the same checkpoint on the same data, so they must agree. `_cluster_task` runs in each
task. Every process started is stopped and reaped on every way out, Ctrl-C included.

Run: estimator-metrics example distributed [--example binary] [--steps 300]
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence

from estimator_metrics._comparison import Comparison, table

from . import _cluster_task, _common

#: The training cluster in start order (the others connect to the ps); then the evaluator.
CLUSTER = {"ps": 1, "chief": 1, "worker": 1}
#: Relative tolerance between the evaluator's and the single-process result.
RTOL = 1e-6
DEFAULT_TIMEOUT_S = 300.0
#: Seconds a terminated task gets before SIGKILL.
TERMINATE_GRACE_S = 5.0
#: Lines of each task's log shown when the cluster fails.
LOG_TAIL_LINES = 25


class ClusterError(RuntimeError):
    """A task failed, or the cluster's result is missing or inconsistent. Every task in
    `tasks` (each one started) has been stopped and reaped when it reaches the caller."""

    def __init__(self, message: str, tasks: Sequence[TaskRun] = ()):
        super().__init__(message)
        self.tasks = tuple(tasks)


class ClusterTimeout(ClusterError, TimeoutError):
    """The cluster did not finish within `timeout_s`."""


@dataclasses.dataclass
class TaskRun:
    """One task process, the leader of a process group of its own."""

    type: str
    index: int
    process: subprocess.Popen = dataclasses.field(repr=False)
    log_path: str
    returncode: int | None = None  # Set once the driver has reaped it.

    @property
    def key(self) -> str:
        return f"{self.type}:{self.index}"


@dataclasses.dataclass(frozen=True)
class ClusterResult:
    """What `run_cluster` observed. `global_step`: the final checkpoint's, which both sides
    evaluated (asynchronous training can end a step past `steps`); `evaluated_steps`: of each
    checkpoint the evaluator evaluated; `traces`: each trainer's steps and variable devices."""

    example: str
    steps: int
    global_step: int
    checkpoint: str
    evaluator_metrics: dict[str, float]
    single_process_metrics: dict[str, float]
    evaluated_steps: tuple[int, ...]
    traces: dict[str, dict]
    ports: dict[str, int]
    tasks: tuple[TaskRun, ...]
    model_dir: str

    @property
    def comparisons(self) -> list[Comparison]:
        """Per metric: the evaluator task left, the single process right, within RTOL."""
        rows = []
        for name in sorted(set(self.evaluator_metrics) | set(self.single_process_metrics)):
            a = self.evaluator_metrics.get(name, float("nan"))
            b = self.single_process_metrics.get(name, float("nan"))
            rows.append(Comparison(name, a, b, RTOL * max(abs(a), abs(b))))
        return rows


def run_cluster(
    example: str = "binary",
    *,
    steps: int | None = None,
    model_dir: str | None = None,
    metrics: str = "legacy",
    seed: int = 0,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    log: Callable[[str], None] = print,
) -> ClusterResult:
    """Trains `example` on a local ps/chief/worker cluster, evaluates it on an evaluator task.

    `example` is what every task imports (`_cluster_task.load_example`): a legacy example's
    name or "package.module:ATTRIBUTE"; `steps` is `TrainSpec.max_steps` (default: the
    example's); `model_dir` must hold no checkpoint (default: a new temporary directory);
    `metrics` ("legacy" or "keras") are those of both evaluations; `timeout_s` runs from the
    first task's start to the last one's exit. Raises `ClusterError` (its message ends with
    the tail of every task's log) or `ClusterTimeout` (also a `TimeoutError`). TF_CONFIG is
    set only in the tasks' environments, never in this process.
    """
    _common.require_estimator("legacy_examples.distributed.run_cluster")
    if metrics not in _common.METRIC_MODES:
        raise ValueError(f"Expected `metrics` in {_common.METRIC_MODES}, received {metrics!r}")
    loaded = _cluster_task.load_example(example)
    steps = loaded.default_steps if steps is None else steps
    if steps < 1:
        raise ValueError(f"`steps` must be >= 1, received {steps}")
    model_dir = os.path.abspath(model_dir or tempfile.mkdtemp(prefix=f"distributed-{loaded.name}-"))
    if os.path.exists(os.path.join(model_dir, "checkpoint")):
        raise ValueError(f"{model_dir} already holds a checkpoint; give a new model_dir")
    run_dir = os.path.join(model_dir, _cluster_task.RUN_SUBDIR)
    os.makedirs(run_dir, exist_ok=True)
    for name in os.listdir(run_dir):  # Markers and results of an interrupted run.
        os.remove(os.path.join(run_dir, name))
    members = [(t, i) for t, n in CLUSTER.items() for i in range(n)]
    ports = dict(zip((f"{t}:{i}" for t, i in members), _free_ports(len(members))))
    cluster = {t: [f"127.0.0.1:{ports[f'{t}:{i}']}" for i in range(n)] for t, n in CLUSTER.items()}
    job = dict(example=example, steps=steps, model_dir=model_dir, metrics=metrics, seed=seed,
               parent_pid=os.getpid())  # fmt: skip
    tasks: list[TaskRun] = []
    try:
        for task_type, index in [*members, ("evaluator", 0)]:
            tasks.append(_start(task_type, index, cluster, run_dir, job))
            where = cluster[task_type][index] if task_type in cluster else "not in the cluster"
            log(f"starting {task_type} {index} ({where}), pid {tasks[-1].process.pid}")
        traces = _wait_for_training(tasks, run_dir, timeout_s, log)
        log("stopping ps 0: train_and_evaluate joins its server forever")
    finally:
        _stop(tasks)
    checkpoint, evaluator_metrics, evaluated_steps = _evaluator_result(run_dir, steps, tasks)
    saved = os.environ.pop("TF_CONFIG", None)  # An inherited one would make this a task.
    try:
        single = _common.evaluate(loaded, loaded.make_data(seed), model_dir, metrics, seed)
    finally:
        if saved is not None:
            os.environ["TF_CONFIG"] = saved
    return ClusterResult(
        loaded.name, steps, int(evaluator_metrics["global_step"]), checkpoint,
        evaluator_metrics, _cluster_task.jsonable(single), evaluated_steps, traces, ports,
        tuple(tasks), model_dir,
    )  # fmt: skip


def _free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports, free a moment ago (bound to port 0, then released)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def _start(task_type: str, index: int, cluster: dict, run_dir: str, job: dict) -> TaskRun:
    """Starts one task process in a session of its own, its output to its log."""
    task = {"type": task_type, "index": index}
    env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": task}))
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    module = f"{__package__}.distributed"  # Also where this runs as __main__.
    log_path = _cluster_task.task_path(run_dir, task_type, index, "log")
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--task", json.dumps(job)], env=env,
            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )  # fmt: skip
    return TaskRun(task_type, index, process, log_path)


def _wait_for_training(tasks: Sequence[TaskRun], run_dir: str, timeout_s: float, log) -> dict:
    """Polls until every task but the ps has exited with 0; their traces by task key.

    Raises ClusterError when a task exits with another code or the ps exits at all (it must
    outlive training), ClusterTimeout when `timeout_s` have passed.
    """
    deadline, traces = time.monotonic() + timeout_s, {}
    while len(traces) < len(tasks) - 1:
        for task in (t for t in tasks if t.key not in traces):
            code = task.process.poll()
            if code is not None and (code != 0 or task.type == "ps"):
                message = f"{task.key} exited with code {code}"
                raise ClusterError(message + _log_tails(tasks, task), tasks)
            if code == 0:
                traces[task.key] = _cluster_task.read_trace(run_dir, task.type, task.index)
                log(f"{task.type} {task.index} finished: {json.dumps(traces[task.key])}")
        if time.monotonic() > deadline:
            running = ", ".join(t.key for t in tasks if t.type != "ps" and t.key not in traces)
            message = f"the cluster did not finish within {timeout_s:g} s; still running: "
            raise ClusterTimeout(message + running + _log_tails(tasks), tasks)
        time.sleep(0.1)
    return traces


def _stop(tasks: Sequence[TaskRun]) -> None:
    """SIGTERM every task's process group, SIGKILL what is left after a grace period, reap.
    Also groups whose leader is gone: a group id stays reserved while any member lives."""
    deadline = time.monotonic() + TERMINATE_GRACE_S
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for task in tasks:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(task.process.pid, sig)
        for task in tasks:
            with contextlib.suppress(subprocess.TimeoutExpired):
                timeout = max(0.0, deadline - time.monotonic()) if sig == signal.SIGTERM else None
                task.returncode = task.process.wait(timeout=timeout)


def _log_tails(tasks: Sequence[TaskRun], first: TaskRun | None = None) -> str:
    """The end of every task's log, `first`'s (the failed task's) first."""
    parts = []
    for task in sorted(tasks, key=lambda t: t is not first):
        try:
            with open(task.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()[-LOG_TAIL_LINES:]
        except OSError as e:
            lines = [f"(cannot read the log: {e})"]
        code = task.process.poll()
        state = "running" if code is None else f"exit code {code}"
        parts.append(f"\n--- {task.key}, pid {task.process.pid}, {state}: last {len(lines)} "
                     f"lines of {task.log_path}\n" + "\n".join(lines))  # fmt: skip
    return "".join(parts)


def _evaluator_result(run_dir: str, steps: int, tasks) -> tuple[str, dict, tuple[int, ...]]:
    """(the final checkpoint, the evaluator's metrics of it, the step of each evaluation);
    ClusterError unless the evaluator's last evaluation is of the final checkpoint."""
    import tensorflow as tf

    try:
        entries = _cluster_task.read_evaluations(run_dir)
    except OSError as e:
        raise ClusterError(f"the evaluator wrote no results ({e})", tasks) from e
    evaluated = tuple(int(e["metrics"]["global_step"]) for e in entries)
    final = next((e for e in reversed(entries) if e["is_the_final_export"]), None)
    checkpoint = tf.train.latest_checkpoint(os.path.dirname(run_dir)) or ""
    if final is None or evaluated[-1] < steps:
        message = f"the evaluator never evaluated a checkpoint of step >= {steps}: {evaluated}"
    elif os.path.basename(final["checkpoint_path"]) != os.path.basename(checkpoint):
        message = f"the evaluator's last checkpoint {final['checkpoint_path']} is not {checkpoint}"
    else:
        return checkpoint, final["metrics"], evaluated
    raise ClusterError(message, tasks)


def main(argv: Sequence[str] | None = None) -> int:
    """`estimator-metrics example distributed`: run the cluster, compare, print a table."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--task"]:  # One task process, started by `run_cluster`.
        return _cluster_task.main(json.loads(argv[1]))
    parser = _common.options_parser(
        "estimator-metrics example distributed",
        "Train an example on a real local tf.estimator cluster (ps, chief, worker and "
        "evaluator processes; train_and_evaluate with TF_CONFIG), then evaluate its final "
        "checkpoint in one process: both results must agree (exit 1 if not).",
    )
    parser.add_argument("--example", default="binary", help="a legacy example (default: binary)")
    help = f"seconds for the whole cluster (default: {DEFAULT_TIMEOUT_S:g})"
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help=help)
    args = parser.parse_args(argv)
    _common.quiet()
    try:
        result = run_cluster(
            args.example, steps=args.steps, model_dir=args.model_dir, metrics=args.metrics,
            seed=args.seed, timeout_s=args.timeout,
        )  # fmt: skip
    except _common.EstimatorUnavailableError:
        raise  # The command line says which TensorFlow it needs.
    except (ValueError, ImportError, AttributeError) as e:  # No such example, a used dir...
        parser.error(str(e))
    except ClusterError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    trainers = sorted((k, v["steps_run"]) for k, v in result.traces.items() if "steps_run" in v)
    steps = ", ".join(f"{key} {steps}" for key, steps in trainers)
    head = f"{result.example}, {args.metrics} metrics: final checkpoint of step"
    print(f"\n{head} {result.global_step} (asked for {result.steps}); training steps: {steps}")
    print("\nThe evaluator task's metrics vs one process's, same final checkpoint:\n")
    print(table(result.comparisons, ("evaluator task", "single process")))
    print(f"\nmodel dir and task logs: {result.model_dir}")
    if all(c.agrees for c in result.comparisons):
        return 0
    print("FAILED: the evaluator task and the single process disagree.")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
