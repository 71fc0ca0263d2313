"""Part 1: wall time per `Estimator.evaluate` step of each metric variant, side by side.

For every task one checkpoint is trained once. A *round* of a task evaluates all its
variants on that checkpoint with the same input_fn (in-memory batches of 1024, cached,
repeated, prefetched), each `Estimator.evaluate` in its own thread, **taking turns**: a
token passes round-robin between the variants (in an order rotated from round to round)
every TURN_STEPS steps, so the variants' steps run within a few tens of milliseconds of
each other and a busy neighbour on a shared machine slows them alike. Graphs are built
one at a time (a lock around `model_fn`); steps start once every variant is ready.

The first step of a turn follows another variant's step and meets the caches and
allocator state that graph left, a cost that rotating the order does not spread (the
cyclic order stays, so the same variant follows the largest graph in every round). So a
run's figure is the median over the steps that followed a step of the same variant, as
every step of a real evaluation does; the median over the first steps of turns is kept
beside it (`after_another_ms`) as a diagnostic. results.md's notes say what this changed.

A step's time runs from the first hook's `before_run` to the last hook's `after_run`: the
session run with everything fetched and all hooks' Python work ((f)'s fetch and append
included), not the token hand-over. The first `warmup` steps (graph optimisation, executor
creation) are dropped. A variant's figure is the median of its rounds' figures, its spread
their min-max; its ratio to (a) (or to any other variant) is taken within each round and
then summarised the same way.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from benchmarks import workloads

EVAL_POOL_BATCHES = 16
TRAIN_EXAMPLES = 16 * workloads.BATCH
DATA_SEED = 20261122
#: Steps a variant runs per turn: the first follows another variant's step, the other
#: nine make the figure (see the module docstring). Turns stay short next to a round, so
#: every variant still meets the same background load.
TURN_STEPS = 10
#: Longest wait for a turn: the by-hand 1,000-class graph takes minutes to build.
TURN_TIMEOUT_S = 1800.0

_BUILD_LOCK = threading.Lock()  # Keras and tf.compat.v1.layers keep global build state.


class RoundRobin:
    """Lets registered participants run one step each, in turn, once all are ready.

    The turn passes with one `Event` per participant, so only the next one wakes up (no
    herd of woken threads competing with the step being timed).
    """

    def __init__(self, names: Sequence[str], turn_steps: int = 1):
        self._order = list(names)
        self._active = set(names)
        self._ready: set = set()
        self._holder: str | None = None
        self._started = False
        self._lock = threading.Lock()
        self._events = {name: threading.Event() for name in names}
        self._turn_steps = turn_steps
        self._taken = 0  # Steps taken in the current turn.
        self._last: str | None = None  # Whose step ran last.

    def _next_after(self, name: str | None) -> str | None:
        first = 0 if name is None else self._order.index(name) + 1
        for k in range(len(self._order)):
            candidate = self._order[(first + k) % len(self._order)]
            if candidate in self._active:
                return candidate
        return None

    def _give(self, name: str | None) -> None:
        self._holder = name
        if name is not None:
            self._events[name].set()

    def _maybe_start(self) -> None:  # With the lock held.
        if not self._started and self._active and self._ready >= self._active:
            self._started = True
            self._give(self._next_after(None))

    def acquire(self, name: str) -> bool:
        """Waits for `name`'s turn; True if the step before this one was another's."""
        with self._lock:
            self._ready.add(name)
            self._maybe_start()
        if not self._events[name].wait(TURN_TIMEOUT_S):
            raise TimeoutError(f"{name} waited {TURN_TIMEOUT_S:.0f} s for its turn")
        self._events[name].clear()
        with self._lock:
            follows_another, self._last = self._last != name, name
        return follows_another

    def release(self, name: str) -> None:
        with self._lock:
            self._taken += 1
            if self._taken < self._turn_steps:
                self._give(name)
            else:
                self._taken = 0
                self._give(self._next_after(name))

    def leave(self, name: str) -> None:
        with self._lock:
            self._active.discard(name)
            self._ready.discard(name)
            if self._holder == name:  # Left holding the turn (ended, or failed mid-step).
                self._taken = 0
                self._give(self._next_after(name))
            self._maybe_start()


class StepClock(tf.estimator.SessionRunHook):
    """First hook of a step: waits for the turn, stamps the start."""

    def __init__(self, name: str, turns: RoundRobin | None):
        self.name = name
        self.turns = turns
        self.starts: list = []
        self.ends: list = []
        #: Per step: whether another variant's step ran just before it (its graph's
        #: working set then meets the caches another graph left).
        self.after_another: list = []
        self.ready_at: float | None = None  # first step requested (before any wait)
        self.last = _StepClockEnd(self)

    def before_run(self, run_context):
        if self.ready_at is None:
            self.ready_at = time.perf_counter()
        self.after_another.append(
            self.turns.acquire(self.name) if self.turns is not None else not self.starts
        )
        self.starts.append(time.perf_counter())

    def milliseconds(self) -> np.ndarray:
        count = min(len(self.starts), len(self.ends))
        return (np.asarray(self.ends[:count]) - np.asarray(self.starts[:count])) * 1e3


class _StepClockEnd(tf.estimator.SessionRunHook):
    """Last hook of a step: stamps the end, passes the turn on."""

    def __init__(self, clock: StepClock):
        self._clock = clock

    def after_run(self, run_context, run_values):
        self._clock.ends.append(time.perf_counter())
        if self._clock.turns is not None:
            self._clock.turns.release(self._clock.name)


@dataclasses.dataclass
class Prepared:
    task: workloads.Task
    model_dir: str
    eval_input_fn: Callable
    train_seconds: float


@dataclasses.dataclass
class Run:
    task: str
    variant: str
    round: int
    step_ms: float  # median over measured steps that followed a step of the same variant
    step_p25_ms: float
    step_p75_ms: float
    steps_measured: int
    value: float | None
    metric_ops: int
    metric_build_seconds: float
    model_fn_seconds: float
    setup_seconds: float  # evaluate's own work before the first step (not waiting)
    evaluate_seconds: float  # wall time, including waiting for the other variants
    end_seconds: float | None = None  # (f): scikit-learn at the end of evaluate
    value_ok: bool | None = None
    #: Median over the other measured steps: the first of each turn, which followed
    #: another variant's step (diagnostic: what a neighbour's graph leaves behind).
    after_another_ms: float | None = None


def _config(model_dir: str) -> tf.estimator.RunConfig:
    return tf.estimator.RunConfig(
        model_dir=model_dir,
        tf_random_seed=DATA_SEED,
        save_summary_steps=None,
        log_step_count_steps=None,
    )


def prepare(task: workloads.Task, workdir: str, train_steps: int) -> Prepared:
    """Trains the task's model for `train_steps` (one checkpoint for every variant).

    With `train_steps=0` there is no checkpoint: every evaluate initialises the model from
    the same graph-level seed (same weights for every variant; for smoke runs).
    """
    model_dir = os.path.join(workdir, task.key)
    eval_x, eval_y = workloads.make_data(task, EVAL_POOL_BATCHES * workloads.BATCH, DATA_SEED + 1)
    start = time.perf_counter()
    if train_steps:
        train_x, train_y = workloads.make_data(task, TRAIN_EXAMPLES, DATA_SEED)
        estimator = tf.estimator.Estimator(
            workloads.make_model_fn(task, "a", {}), config=_config(model_dir)
        )
        estimator.train(workloads.array_input_fn(train_x, train_y, train=True), steps=train_steps)
    return Prepared(
        task,
        model_dir,
        workloads.array_input_fn(eval_x, eval_y, train=False),
        time.perf_counter() - start,
    )


def prepare_all(
    tasks: Sequence[workloads.Task],
    workdir: str,
    train_steps: int,
    log: Callable[[str], None] = print,
) -> dict:
    prepared = {}
    for task in tasks:
        prepared[task.key] = prepare(task, workdir, train_steps)
        if train_steps:
            log(
                f"[per-step] {task.title}: trained {train_steps} steps in "
                f"{prepared[task.key].train_seconds:.1f} s"
            )
    return prepared


def _evaluate(prepared: Prepared, variant: str, clock: StepClock, steps: int) -> tuple:
    """One `Estimator.evaluate` of `variant`; (result dict, build record, seconds)."""
    record: dict = {"lock_wait_seconds": 0.0}
    model_fn = workloads.make_model_fn(prepared.task, variant, record, last_hooks=[clock.last])

    def locked_model_fn(features, labels, mode):
        waited = time.perf_counter()
        with _BUILD_LOCK:
            record["lock_wait_seconds"] += time.perf_counter() - waited
            return model_fn(features, labels, mode)

    estimator = tf.estimator.Estimator(locked_model_fn, config=_config(prepared.model_dir))
    start = time.perf_counter()
    result = estimator.evaluate(prepared.eval_input_fn, steps=steps, hooks=[clock], name=variant)
    # Graph, session, restore and initialisation, up to the first step.
    record["setup_seconds"] = clock.ready_at - start - record["lock_wait_seconds"]
    return result, record, time.perf_counter() - start


def _run_of(
    prepared: Prepared,
    variant: str,
    round_index: int,
    warmup: int,
    clock: StepClock,
    result: dict,
    record: dict,
    seconds: float,
) -> Run:
    durations = clock.milliseconds()[warmup:]
    after_another = np.asarray(clock.after_another[warmup : warmup + len(durations)], bool)
    own, others = durations[~after_another], durations[after_another]
    if not len(own):
        raise ValueError(
            f"no step after warmup={warmup} followed a step of the same variant "
            f"({len(durations)} steps; turns of {TURN_STEPS} steps)"
        )
    if variant == "f":
        value = record["python_side"]["value"]
        end_seconds = record["python_side"]["end_seconds"]
    else:
        value = float(result["metric"]) if "metric" in result else None
        end_seconds = None
    return Run(
        task=prepared.task.key,
        variant=variant,
        round=round_index,
        step_ms=float(np.median(own)),
        step_p25_ms=float(np.percentile(own, 25)),
        step_p75_ms=float(np.percentile(own, 75)),
        steps_measured=len(own),
        after_another_ms=float(np.median(others)) if len(others) else None,
        value=value,
        metric_ops=record["metric_ops"],
        metric_build_seconds=record["metric_build_seconds"],
        model_fn_seconds=record["model_fn_seconds"],
        setup_seconds=record["setup_seconds"],
        evaluate_seconds=seconds,
        end_seconds=end_seconds,
    )


def run_group(
    prepared: Prepared, variants: Sequence[str], round_index: int, *, steps: int, warmup: int
) -> list[Run]:
    """Evaluates `variants` concurrently, taking turns of TURN_STEPS steps."""
    turns = RoundRobin(variants, TURN_STEPS)
    clocks = {variant: StepClock(variant, turns) for variant in variants}
    outcomes: dict = {}

    def work(variant):
        try:
            outcomes[variant] = _evaluate(prepared, variant, clocks[variant], steps)
        except BaseException as err:
            outcomes[variant] = err
        finally:
            turns.leave(variant)

    threads = [threading.Thread(target=work, args=(v,), name=f"bench-{v}") for v in variants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for variant in variants:
        if isinstance(outcomes[variant], BaseException):
            raise RuntimeError(f"{prepared.task.key} ({variant}) failed") from outcomes[variant]
    runs = [_run_of(prepared, v, round_index, warmup, clocks[v], *outcomes[v]) for v in variants]
    _check_values(runs)
    return runs


def is_heavy(task: workloads.Task, variant: str) -> bool:
    """(b) at >= 1,000 classes: a minute or more of graph building per evaluate."""
    return variant == "b" and task.kind == "macro" and task.num_classes >= 1000


def heavy_round_indices(rounds: int, heavy_rounds: int) -> set:
    """The rounds that include heavy runs: spread over the run (first, last, between)."""
    if heavy_rounds >= rounds:
        return set(range(rounds))
    return set(np.linspace(0, rounds - 1, max(heavy_rounds, 1)).round().astype(int).tolist())


def run_round(
    prepared: dict,
    tasks: Sequence[workloads.Task],
    round_index: int,
    *,
    steps: int,
    warmup: int,
    include_heavy: bool,
    log: Callable[[str], None] = print,
    variants: Sequence[str] = workloads.VARIANTS,
    durations: dict | None = None,
) -> list[Run]:
    """One round: every task, its variants taking turns, order rotated by `round_index`.

    `durations`, if given, receives each task's wall seconds for the round.
    """
    runs: list[Run] = []
    for task in tasks:
        mine = workloads.task_variants(task, variants)
        shift = round_index % len(mine)
        order = mine[shift:] + mine[:shift]
        group = [v for v in order if include_heavy or not is_heavy(task, v)]
        start = time.perf_counter()
        group_runs = run_group(prepared[task.key], group, round_index, steps=steps, warmup=warmup)
        runs += group_runs
        if durations is not None:
            durations[task.key] = time.perf_counter() - start
        cells = "  ".join(
            f"({run.variant}) {run.step_ms:.3f}"
            for run in sorted(group_runs, key=lambda run: run.variant)
        )
        log(
            f"[per-step] round {round_index + 1} {task.title:<32} ms/step: {cells}  "
            f"[{time.perf_counter() - start:.0f} s]"
        )
    return runs


def _check_values(runs: Sequence[Run]) -> None:
    """Each run's value against (f)'s scikit-learn value on the same examples."""
    reference = next((run.value for run in runs if run.variant == "f"), None)
    for run in runs:
        if run.value is None or reference is None or run.variant == "f":
            continue
        if run.variant in workloads.OTHER_METRIC_VARIANTS:
            continue
        scale = max(abs(reference), 1e-12)
        run.value_ok = abs(run.value - reference) <= workloads.VALUE_RTOL * scale


# ------------------------------------------------------------------------------- summary


def _spread(values: Sequence[float]) -> dict:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def spread_or_none(values: Sequence[float]) -> dict | None:
    return _spread(values) if values else None


def _paired(runs: Sequence[Run], task: str, first: str, second: str) -> list:
    by_round: dict = {}
    for run in runs:
        if run.task == task and run.variant in (first, second):
            by_round.setdefault(run.round, {})[run.variant] = run.step_ms
    return [
        (pair[first], pair[second])
        for _, pair in sorted(by_round.items())
        if first in pair and second in pair
    ]


def paired_ratios(runs: Sequence[Run], task: str, numerator: str, denominator: str) -> list:
    """numerator/denominator per round, over rounds where both ran."""
    return [num / den for num, den in _paired(runs, task, numerator, denominator)]


def paired_differences(runs: Sequence[Run], task: str, variant: str, base: str = "a") -> list:
    return [v - b for v, b in _paired(runs, task, variant, base)]


def summarize(runs: Sequence[Run], tasks: Sequence[workloads.Task]) -> dict:
    """{task_key: {variant: summary}} with medians, spreads and paired ratios."""
    out = {}
    for task in tasks:
        per_variant = {}
        for variant in workloads.VARIANTS + workloads.DIAGNOSTIC_VARIANTS:
            mine = [run for run in runs if run.task == task.key and run.variant == variant]
            if not mine:
                continue
            values = [run.value for run in mine if run.value is not None]
            checks = [run.value_ok for run in mine if run.value_ok is not None]
            ends = [run.end_seconds for run in mine if run.end_seconds is not None]
            firsts = [run.after_another_ms for run in mine if run.after_another_ms is not None]
            per_variant[variant] = {
                "step_ms": _spread([run.step_ms for run in mine]),
                "after_another_ms": spread_or_none(firsts),
                "step_iqr_ms": statistics.median(
                    [run.step_p75_ms - run.step_p25_ms for run in mine]
                ),
                "steps_measured": mine[0].steps_measured,
                "ratio_to_a": spread_or_none(paired_ratios(runs, task.key, variant, "a")),
                "overhead_ms": spread_or_none(paired_differences(runs, task.key, variant)),
                "value": values[-1] if values else None,
                "value_ok": (all(checks) if checks else None),
                "metric_ops": mine[0].metric_ops,
                "metric_build_seconds": statistics.median(
                    [run.metric_build_seconds for run in mine]
                ),
                "setup_seconds": statistics.median([run.setup_seconds for run in mine]),
                "end_seconds": statistics.median(ends) if ends else None,
            }
        out[task.key] = per_variant
    return out
