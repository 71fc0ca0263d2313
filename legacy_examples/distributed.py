"""An example trained by a real local tf.estimator cluster; our metrics on its evaluator.

This module is the driver; what runs inside each task process is
`legacy_examples._cluster_task`. Estimator's own distributed engine is
`tf.estimator.train_and_evaluate` driven by `TF_CONFIG`. `run_cluster` starts
one process per task on loopback ports it picks,

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
carries a metrics recorder, a `tf.estimator.Exporter` that exports no model:
the evaluator calls it after every evaluation with the exact result dict, the
checkpoint path and `is_the_final_export`, and it appends them as one JSON line
to `<model_dir>/cluster/evaluator-0.jsonl`. The driver takes the final entry
and cross-checks it against the evaluator's own event files.

Run: estimator-metrics example distributed --example binary --steps 200
(`python -m estimator_metrics.legacy_examples.distributed --task TYPE ...` runs one task: the
driver starts each task process that way.)
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence

from estimator_metrics import _tables

from . import _cluster_task, _common, _processes
from ._cluster_task import RUN_SUBDIR  # where the tasks leave their files

#: The training cluster; the evaluator task comes on top of it.
CLUSTER_SHAPE = (("chief", 1), ("worker", 1), ("ps", 1))
#: Relative tolerance between the evaluator's and the single-process result.
RTOL = 1e-6
DEFAULT_TIMEOUT_S = 300.0
#: Seconds a terminated task gets before SIGKILL.


class ClusterError(RuntimeError):
    """A task failed, or the cluster's result is missing or inconsistent.

    `tasks` lists every task started (`TaskRun`); `pids` their process ids.
    By the time the error reaches the caller every one of them has been
    stopped and reaped.
    """

    def __init__(self, message: str, tasks: Sequence[TaskRun] = ()):
        super().__init__(message)
        self.tasks = tuple(tasks)

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(t.pid for t in self.tasks)


class ClusterTimeout(ClusterError, TimeoutError):
    """The cluster did not finish within `timeout_s`."""


@dataclasses.dataclass
class TaskRun:
    """One started task process."""

    type: str
    index: int
    address: str | None  # None for the evaluator: it is not in the cluster spec.
    pid: int
    log_path: str
    returncode: int | None = None

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
      variable_devices: Devices of the global variables in the chief's graph.
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
    evaluator_metrics: dict[str, float]
    single_process_metrics: dict[str, float]
    evaluator_summaries: dict[str, float]
    evaluated_steps: tuple[int, ...]
    steps_by_task: dict[str, int]
    variable_devices: tuple[str, ...]
    cluster: dict[str, list[str]]
    ports: dict[str, int]
    tasks: tuple[TaskRun, ...]
    model_dir: str
    wall_s: float

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(t.pid for t in self.tasks)

    @property
    def log_paths(self) -> dict[str, str]:
        return {t.key: t.log_path for t in self.tasks}

    def comparison(self, rtol: float = RTOL) -> list[tuple[str, float, float, float, bool]]:
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
    example: _common.Example | str,
    *,
    steps: int,
    model_dir: str | None = None,
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
    _common.require_estimator("legacy_examples.distributed.run_cluster")
    if metrics not in _common.METRIC_MODES:
        raise ValueError(f"Expected `metrics` in {_common.METRIC_MODES}, received {metrics!r}")
    if steps < 1:
        raise ValueError(f"`steps` must be >= 1, received {steps}")
    spec, extra_path = _cluster_task.example_spec(example)
    example_obj = _cluster_task.load_example(spec) if isinstance(example, str) else example
    model_dir, run_dir = _new_run_dir(model_dir, example_obj.name)
    ports, cluster = _loopback_cluster()
    options = dict(spec=spec, steps=steps, model_dir=model_dir, metrics=metrics, seed=seed)

    tasks: list[TaskRun] = []
    procs: dict[str, subprocess.Popen] = {}
    start = time.monotonic()
    try:
        for task_type, index in _start_order(cluster):
            # One at a time into `tasks`: whatever started before a failure is stopped below.
            task, procs[f"{task_type}:{index}"] = _start_task(
                task_type, index, cluster, run_dir, extra_path, options
            )
            tasks.append(task)
            where = f"on {task.address}" if task.address else "(not in the cluster spec)"
            log(f"starting {task_type} {index} {where}, pid {task.pid}")
        traces = _wait_for_training(tasks, procs, run_dir, start, timeout_s, log)
        log("stopping ps 0: train_and_evaluate joins its server forever")
    finally:
        _processes.stop(tasks, procs)  # also sets every task's returncode
    wall_s = time.monotonic() - start

    checkpoint, evaluator_metrics, evaluated_steps = _evaluator_result(
        run_dir, model_dir, steps, tasks
    )
    global_step = int(evaluator_metrics["global_step"])
    log(f"evaluator result: {_format(evaluator_metrics)}")
    summaries = _cluster_task.read_eval_summaries(model_dir, global_step)
    single = _evaluate_in_this_process(example_obj, model_dir, metrics, seed)
    log(f"single-process evaluation: {_format(single)}")

    return ClusterResult(
        example=example_obj.name,
        metrics=metrics,
        steps=steps,
        global_step=global_step,
        checkpoint=checkpoint,
        evaluator_metrics=evaluator_metrics,
        single_process_metrics=single,
        evaluator_summaries=summaries,
        evaluated_steps=evaluated_steps,
        steps_by_task={k: v["steps_run"] for k, v in traces.items() if "steps_run" in v},
        variable_devices=tuple(traces.get("chief:0", {}).get("variable_devices", ())),
        cluster=cluster,
        ports=ports,
        tasks=tuple(tasks),
        model_dir=model_dir,
        wall_s=wall_s,
    )


def _new_run_dir(model_dir: str | None, example_name: str) -> tuple[str, str]:
    """(model_dir made absolute, its empty RUN_SUBDIR); ValueError if it holds a checkpoint."""
    model_dir = os.path.abspath(
        model_dir or tempfile.mkdtemp(prefix=f"distributed-{example_name}-")
    )
    run_dir = os.path.join(model_dir, RUN_SUBDIR)
    os.makedirs(run_dir, exist_ok=True)
    if os.path.exists(os.path.join(model_dir, "checkpoint")):
        raise ValueError(f"{model_dir} already holds a checkpoint; give a new model_dir")
    for name in os.listdir(run_dir):  # stale markers and results of an interrupted run
        os.remove(os.path.join(run_dir, name))
    return model_dir, run_dir


def _loopback_cluster() -> tuple[dict[str, int], dict[str, list[str]]]:
    """(task key -> port, the cluster spec) of CLUSTER_SHAPE on free loopback ports."""
    members = [(t, i) for t, n in CLUSTER_SHAPE for i in range(n)]
    ports = {f"{t}:{i}": port for (t, i), port in zip(members, _processes.free_ports(len(members)))}
    cluster = {t: [f"127.0.0.1:{ports[f'{t}:{i}']}" for i in range(n)] for t, n in CLUSTER_SHAPE}
    return ports, cluster


def _start_order(cluster: Mapping[str, list[str]]) -> list[tuple[str, int]]:
    """(type, index) of every task: the ps first (the others connect to it), the evaluator last."""
    members = [(t, i) for t, addresses in cluster.items() for i in range(len(addresses))]
    return sorted(members, key=lambda member: member[0] != "ps") + [("evaluator", 0)]


def _start_task(
    task_type: str,
    index: int,
    cluster: Mapping[str, list[str]],
    run_dir: str,
    extra_path: str | None,
    options: Mapping[str, object],
) -> tuple[TaskRun, subprocess.Popen]:
    """Starts one task process in a session of its own, output to its log.

    `options` go to its command line (`_cluster_task.command`).
    """
    address = cluster[task_type][index] if task_type in cluster else None
    log_path = _cluster_task.task_path(run_dir, task_type, index, "log")
    command = _cluster_task.command(task_type, index, **options, parent_pid=os.getpid())
    env = _cluster_task.environment(cluster, task_type, index, extra_path)
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=log_file,
            stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
        )  # fmt: skip
    return TaskRun(task_type, index, address, proc.pid, log_path), proc


def _wait_for_training(
    tasks: Sequence[TaskRun],
    procs: Mapping[str, subprocess.Popen],
    run_dir: str,
    start: float,
    timeout_s: float,
    log: Callable[[str], None],
) -> dict[str, dict]:
    """Polls until every task but the ps has exited with 0; returns their traces by task key.

    Raises ClusterError when a task exits with another code or the ps exits at all (it must
    outlive training), ClusterTimeout when `timeout_s` have passed since `start`.
    """
    traces: dict[str, dict] = {}
    pending = [t for t in tasks if t.type != "ps"]
    while pending:
        for task in pending + [t for t in tasks if t.type == "ps"]:
            code = procs[task.key].poll()
            if code is None:
                continue
            if code != 0 or task.type == "ps":
                during = " while training" if task.type == "ps" else ""
                raise ClusterError(
                    f"{task.key} exited with code {code}{during}"
                    + _processes.log_tails(tasks, procs, task),
                    tasks,
                )
            pending.remove(task)
            traces[task.key] = _cluster_task.read_trace(run_dir, task.type, task.index)
            log(_finished_line(task, traces[task.key]))
        if time.monotonic() - start > timeout_s:
            raise ClusterTimeout(
                f"the cluster did not finish within {timeout_s:g} s; still running: "
                + ", ".join(t.key for t in pending)
                + _processes.log_tails(tasks, procs),
                tasks,
            )
        time.sleep(0.1)
    return traces


def _evaluator_result(
    run_dir: str, model_dir: str, steps: int, tasks: Sequence[TaskRun]
) -> tuple[str, dict[str, float], tuple[int, ...]]:
    """(the final checkpoint, the evaluator's metrics of it, the step of each evaluation).

    Raises ClusterError when the evaluator's last evaluation is not of the final checkpoint.
    """
    import tensorflow as tf

    final, evaluated_steps = _evaluator_final(run_dir, steps, tasks)
    checkpoint = tf.train.latest_checkpoint(model_dir)
    if os.path.basename(final["checkpoint_path"]) != os.path.basename(checkpoint or ""):
        raise ClusterError(
            f"the evaluator's last checkpoint {final['checkpoint_path']} is not the final "
            f"checkpoint {checkpoint}",
            tasks,
        )
    return checkpoint, final["metrics"], evaluated_steps


def _evaluate_in_this_process(
    example: _common.Example, model_dir: str, metrics: str, seed: int
) -> dict[str, float]:
    """`Estimator.evaluate` of the final checkpoint here, with no cluster."""
    with _without_tf_config():
        data = example.make_data(seed)
        return _cluster_task.jsonable(_common.evaluate(example, data, model_dir, metrics, seed))


def _finished_line(task: TaskRun, trace: dict) -> str:
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


def _evaluator_final(run_dir: str, steps: int, tasks) -> tuple[dict, tuple[int, ...]]:
    """(the metrics recorder's final entry, the global step of each entry) of evaluator 0."""
    try:
        entries = _cluster_task.read_evaluations(run_dir)
    except OSError as e:
        raise ClusterError(f"the evaluator wrote no results ({e})", tasks) from e
    evaluated = tuple(int(e["metrics"]["global_step"]) for e in entries)
    finals = [e for e in entries if e["is_the_final_export"]]
    if not finals or evaluated[-1] < steps:
        raise ClusterError(
            f"the evaluator never evaluated a checkpoint of step >= {steps}: {evaluated}", tasks
        )
    return finals[-1], evaluated


@contextlib.contextmanager
def _without_tf_config():
    """Hides an inherited TF_CONFIG from RunConfig() while evaluating in this process."""
    saved = os.environ.pop("TF_CONFIG", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["TF_CONFIG"] = saved


def _format(values: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={values[k]:.9g}" for k in sorted(values))


# ---------------------------------------------------------------------- the CLI


def main(argv: Sequence[str] | None = None) -> int:
    """`estimator-metrics example distributed`: run the cluster, compare, print a table."""
    parser = argparse.ArgumentParser(
        prog="estimator-metrics example distributed",
        description="Train an example on a local tf.estimator cluster (chief, worker, ps, "
        "evaluator; train_and_evaluate with TF_CONFIG), then evaluate its final checkpoint "
        "in one process: both results must agree.",
    )
    parser.add_argument(
        "--example", default="binary", help="a legacy_examples module (default: binary)"
    )
    parser.add_argument("--steps", type=int, help="training steps (default: the example's)")
    parser.add_argument("--model-dir", help="a new directory (default: a new temporary one)")
    parser.add_argument("--metrics", choices=_common.METRIC_MODES, default="legacy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds for the whole cluster (default: {DEFAULT_TIMEOUT_S:g})",
    )
    args = parser.parse_args(argv)
    _common.quiet()
    try:
        example = _cluster_task.load_example(args.example)
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
    rows = [
        (name, f"{a:.9g}", f"{b:.9g}", f"{diff:.3g}", "ok" if ok else f"DIFFERS (rtol {rtol:g})")
        for name, a, b, diff, ok in result.comparison(rtol)
    ]
    headers = ("metric", "evaluator task", "single process", "|diff|", "verdict")
    return _tables.render(headers, rows, style="ruled")


def _entry(argv: Sequence[str]) -> int:
    if any(a == "--task" or a.startswith("--task=") for a in argv):
        return _cluster_task.task_main(argv)
    return main(argv)


if __name__ == "__main__":
    raise SystemExit(_entry(sys.argv[1:]))
