"""What our metrics cost per evaluation step, and how that grows with classes.

    python -m benchmarks.run [--quick] [--out DIR] [--parts 1,2,3,4]      (make bench)

1. Per-step cost (`benchmarks/per_step.py`): `Estimator.evaluate` of a small dense model on
   generated data, batch 1024, with metric sets (a) loss only, (b) hand-written
   `tf.compat.v1.metrics`, (c) our builders, (d) Keras through `adapter.from_keras`,
   (e) stock Keras objects in `EstimatorSpec`, (f) Python-side fetch + scikit-learn, for
   binary F-beta, macro F-beta at 10, 100, 1,000 and 10,000 classes (there (a), (c) and (f)
   only: the race against fetching to Python), MAPE and average confidence.
   Variants are interleaved round by round; medians over steps, then over rounds.
2. Graph size and build time of macro F-beta for C = 10 ... 10,000 (`graph_size.py`, in a
   child process; the by-hand build is stopped at a cap).
3. Peak resident memory and whole-evaluation time of (a), (c) and (f) for 10^4, 10^6 and
   10^7 examples (`memory.py`, one fresh process per variant, size and repeat), (f)'s
   end-of-evaluation scikit-learn call included: where each approach wins.
4. The floor (`floor.py`, in a child process): per update at C = 2 ... 10,000, batch 1024,
   each builder against the one pass over the batch it cannot avoid.

Prints the tables and writes `results.md` and `results.json` (and `overhead_vs_classes.png`
when matplotlib is importable, here or via `--plot-python`) to `--out` (default: this
directory). `--quick` is a smoke run of every part (well under a minute of measuring);
its numbers mean nothing. Never assert on these times: the machine may be shared.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import machine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclasses.dataclass
class Settings:
    tasks: tuple
    rounds: int
    steps: int
    warmup: int
    train_steps: int
    heavy_rounds: int
    graph_classes: tuple
    graph_cap: float
    memory_examples: tuple
    memory_batch: int
    memory_repeats: int
    floor_classes: tuple
    floor_rounds: int
    #: Intra-op threads of the floor's sessions, a process each (0: TensorFlow's default).
    floor_threads: tuple
    budget_seconds: float


FULL = Settings(
    tasks=("binary", "macro10", "macro100", "macro1000", "macro10000", "mape", "confidence"),
    rounds=5,
    steps=300,
    warmup=30,
    train_steps=100,
    heavy_rounds=2,
    graph_classes=(10, 100, 1000, 10000),
    graph_cap=60.0,
    memory_examples=(10_000, 1_000_000, 10_000_000),
    memory_batch=10_000,
    memory_repeats=3,
    floor_classes=(2, 10, 100, 1000, 10000),
    floor_rounds=9,
    floor_threads=(0, 1, 2),
    budget_seconds=19 * 60,
)
QUICK = Settings(
    tasks=("binary", "macro10", "macro10000", "mape", "confidence"),
    rounds=1,
    steps=12,
    warmup=2,
    train_steps=0,
    heavy_rounds=1,
    graph_classes=(10, 100, 1000),
    graph_cap=1.0,
    memory_examples=(10_000, 20_000),
    memory_batch=10_000,
    memory_repeats=1,
    floor_classes=(10, 1000),
    floor_rounds=2,
    floor_threads=(0, 1, 2),
    budget_seconds=240,
)
#: Seconds kept for parts 2 to 4 when part 1 decides whether to start another round.
RESERVE_FOR_PARTS_2_3 = {True: 60.0, False: 480.0}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ the parts


def run_per_step(settings: Settings, workdir: str, started: float, quick: bool) -> dict:
    from benchmarks import per_step, workloads

    tasks = [workloads.make_task(key) for key in settings.tasks]
    prepared = per_step.prepare_all(tasks, workdir, settings.train_steps, log)
    heavy = per_step.heavy_round_indices(settings.rounds, settings.heavy_rounds)
    reserve = RESERVE_FOR_PARTS_2_3[quick]
    heavy_tasks = {t.key for t in tasks if per_step.is_heavy(t, "b")}
    runs, rounds_done, heavy_done = [], 0, 0
    light_round = 0.0  # longest round without heavy runs, seconds
    heavy_extra = None  # what the heavy runs add to a round, seconds
    heavy_group = None
    for r in range(settings.rounds):
        left = settings.budget_seconds - reserve - (time.perf_counter() - started)
        if r >= 2 and left < light_round:
            log(f"[per-step] stopping after {r} rounds: the time budget would be exceeded")
            break
        include_heavy = r in heavy and (
            heavy_done == 0 or heavy_extra is None or left >= light_round + heavy_extra
        )
        if r in heavy and not include_heavy:
            log(f"[per-step] round {r + 1} without the by-hand 1,000-class graph: time budget")
        durations: dict = {}
        round_start = time.perf_counter()
        runs += per_step.run_round(
            prepared,
            tasks,
            r,
            steps=settings.steps,
            warmup=settings.warmup,
            include_heavy=include_heavy,
            log=log,
            durations=durations,
        )
        seconds = time.perf_counter() - round_start
        rounds_done = r + 1
        if include_heavy and heavy_tasks:
            heavy_done += 1
            heavy_group = sum(durations.get(key, 0.0) for key in heavy_tasks)
            light_round = max(light_round, seconds - heavy_group)  # until a light round ran
        else:
            light_round = max(light_round, seconds) if r else seconds
            if heavy_group is not None:
                heavy_extra = heavy_group - sum(durations.get(key, 0.0) for key in heavy_tasks)
    summary = per_step.summarize(runs, tasks)
    ratios = {
        task.key: {
            name: per_step.spread_or_none(per_step.paired_ratios(runs, task.key, *pair))
            for name, pair in (
                ("c/b", ("c", "b")),
                ("c/f", ("c", "f")),
                ("d/e", ("d", "e")),
                ("c/a", ("c", "a")),
                ("g/b", ("g", "b")),
                ("t/c", ("t", "c")),
                ("h/c", ("h", "c")),
            )
        }
        for task in tasks
    }
    return {
        "tasks": [
            {
                "key": t.key,
                "title": t.title,
                "kind": t.kind,
                "classes": t.num_classes
                if t.kind == "macro"
                else (2 if t.kind == "binary" else t.num_classes),
                "stock": t.stock,
                "stock_correct": t.stock_correct,
            }
            for t in tasks
        ],
        "rounds": rounds_done,
        "steps": settings.steps,
        "warmup": settings.warmup,
        "turn_steps": per_step.TURN_STEPS,
        "heavy_rounds_done": heavy_done,
        "runs": [dataclasses.asdict(run) for run in runs],
        "summary": summary,
        "ratios": ratios,
        "train_seconds": {k: v.train_seconds for k, v in prepared.items()},
    }


def _child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def run_graph_size(settings: Settings, quick: bool) -> list:
    command = [
        sys.executable,
        "-m",
        "benchmarks.graph_size",
        "--classes",
        ",".join(map(str, settings.graph_classes)),
        "--cap",
        str(settings.graph_cap),
    ] + (["--quick"] if quick else [])
    # Generous: every by-hand build stops itself at the cap; this only guards a hang.
    limit = 120 + len(settings.graph_classes) * (settings.graph_cap * 2 + 60)
    records = []
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env=_child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as child:
        deadline = time.perf_counter() + limit
        try:
            for line in child.stdout:
                record = json.loads(line)
                if "progress" in record:
                    log(
                        f"[graph] {record['approach']} C={record['classes']:,}: "
                        f"{record['progress']:,} classes, {record['ops']:,} ops, "
                        f"{record['seconds']:.0f} s"
                    )
                else:
                    records.append(record)
                    log(
                        f"[graph] {record['approach']:<8} C={record['classes']:>6,}: "
                        f"{record['metric_ops']:>7,} ops, "
                        f"{record['metric_build_seconds']:.2f} s"
                        + ("" if record["finished"] else " (stopped at the cap)")
                    )
                if time.perf_counter() > deadline:
                    raise subprocess.TimeoutExpired(command, limit)
            child.wait(timeout=max(deadline - time.perf_counter(), 1))
        except subprocess.TimeoutExpired:
            child.kill()
            log(f"[graph] child stopped after {limit:.0f} s")
    if child.returncode not in (0, None, -9):
        raise RuntimeError(f"graph_size child failed with exit code {child.returncode}")
    return records


def run_memory(settings: Settings, workdir: str, quick: bool) -> list:
    """Part 3: one fresh process per (examples, variant, repeat); a record each."""
    from benchmarks.memory import VARIANTS

    jobs = [
        (examples, variant, repeat)
        # Repeats where a run takes seconds; 10^7 examples once (minutes in all).
        for examples in settings.memory_examples
        for repeat in range(settings.memory_repeats if examples < 10_000_000 else 1)
        for variant in VARIANTS
    ]

    def one(job):
        examples, variant, repeat = job
        command = [
            sys.executable,
            "-m",
            "benchmarks.memory",
            "--variant",
            variant,
            "--examples",
            str(examples),
            "--batch",
            str(settings.memory_batch),
            "--model-dir",
            os.path.join(workdir, f"memory-{variant}-{examples}-{repeat}"),
        ]
        try:
            done = subprocess.run(
                command, cwd=ROOT, env=_child_env(), text=True, capture_output=True, timeout=600
            )
            lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
            if done.returncode or not lines:
                raise RuntimeError(done.stderr.strip().splitlines()[-1:] or done.returncode)
            record = json.loads(lines[-1])
        except (subprocess.TimeoutExpired, RuntimeError) as err:
            record = {"variant": variant, "examples": examples, "error": str(err)}
        record["repeat"] = repeat
        if "error" in record:
            log(f"[memory] ({variant}) {examples:,}: {record['error']}")
        else:
            log(
                f"[memory] ({variant}) {examples:>10,} examples: peak "
                f"{record['peak_mib']:.0f} MiB (+{record['growth_mib']:.0f}), evaluate "
                f"{record['evaluate_seconds']:.2f} s"
            )
        return record

    if quick:  # Smoke run: the processes may share the CPUs, their numbers mean nothing.
        with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
            return list(pool.map(one, jobs))
    return [one(job) for job in jobs]  # One at a time: each peak and rate its own.


def run_floor(settings: Settings) -> list:
    """Part 4: the builders beside their floors, a child process per thread setting (its
    pools are sized once per process); a record per C and setting."""
    records = []
    for threads in settings.floor_threads:
        command = [
            sys.executable,
            "-m",
            "benchmarks.floor",
            "--classes",
            ",".join(map(str, settings.floor_classes)),
            "--rounds",
            str(settings.floor_rounds),
            "--intra-op",
            str(threads),
        ]
        done = subprocess.run(
            command, cwd=ROOT, env=_child_env(), text=True, capture_output=True, timeout=1800
        )
        if done.returncode:
            raise RuntimeError(f"floor child failed: {done.stderr.strip()[-2000:]}")
        mine = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        for record in mine:
            log(
                f"[floor] C={record['classes']:>6,}, intra-op {threads or 'default'}: "
                + ", ".join(
                    f"{name} {r['median']:.2f}× CPU, {record['wall_ratios'][name]['median']:.2f}×"
                    " wall"
                    for name, r in sorted(record["ratios"].items())
                )
            )
        records += mine
    return records


# ---------------------------------------------------------------------------------- output


def write_results(results: dict, out: Path) -> Path:
    from benchmarks import results_md

    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    path = out / "results.md"
    path.write_text(results_md.render(results), encoding="utf-8")
    return path


def plot(results_json: Path, png: Path, plot_python: str | None) -> str | None:
    """Draws the PNG in-process or with `plot_python`; returns why not, if not."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        if not plot_python:
            return (
                "matplotlib is not installed (optional benchmark dependency): "
                "`pip install -e .[bench]`, or pass --plot-python PYTHON_WITH_MATPLOTLIB"
            )
        done = subprocess.run(
            [plot_python, str(HERE / "plot.py"), str(results_json), str(png)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode:
            return f"{plot_python} could not draw it: {done.stderr.strip()[-300:]}"
        return None
    from benchmarks import plot as plot_module

    with open(results_json, encoding="utf-8") as f:
        plot_module.plot(json.load(f), str(png))
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run of every part")
    parser.add_argument("--out", default=str(HERE), help="directory for results.md etc.")
    parser.add_argument("--parts", default="1,2,3,4", help="which parts to run, e.g. 1,4")
    parser.add_argument("--rounds", type=int, help="part 1 rounds (default 5; quick 1)")
    parser.add_argument("--steps", type=int, help="part 1 steps per evaluate")
    parser.add_argument("--plot-python", help="a Python with matplotlib, to draw the PNG")
    parser.add_argument(
        "--from-json",
        metavar="RESULTS_JSON",
        help="measure nothing: rewrite results.md (and the PNG) in --out from "
        "an earlier run's results.json",
    )
    args = parser.parse_args(argv)
    if args.from_json:
        results = json.loads(Path(args.from_json).read_text(encoding="utf-8"))
        return finish(results, Path(args.out), args.plot_python)
    started = time.perf_counter()
    settings = dataclasses.replace(
        QUICK if args.quick else FULL,
        **{k: v for k, v in (("rounds", args.rounds), ("steps", args.steps)) if v},
    )
    parts = {int(p) for p in args.parts.split(",")}

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    results: dict = {
        "meta": {
            "command": "python -m benchmarks.run "
            + " ".join(argv if argv is not None else sys.argv[1:]),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine.machine(),
            "versions": machine.versions(),
            "git": machine.git_revision(),
            "load_start": machine.load_average(),
        },
        "settings": {**dataclasses.asdict(settings), "quick": args.quick},
    }
    workdir = tempfile.mkdtemp(prefix="estimator-metrics-bench-")
    runs = {
        1: ("per_step", lambda: run_per_step(settings, workdir, started, args.quick)),
        2: ("graph_size", lambda: run_graph_size(settings, args.quick)),
        3: ("memory", lambda: run_memory(settings, workdir, args.quick)),
        4: ("floor", lambda: run_floor(settings)),
    }
    results["part_seconds"] = {}  # How long each part took: benchmarks/README.md.
    try:
        for part in sorted(parts):
            key, run = runs[part]
            part_started = time.perf_counter()
            results[key] = run()
            results["part_seconds"][key] = round(time.perf_counter() - part_started, 1)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results["meta"]["load_end"] = machine.load_average()
    results["runtime_seconds"] = time.perf_counter() - started
    return finish(results, Path(args.out), args.plot_python)


def finish(results: dict, out: Path, plot_python: str | None) -> int:
    """Target verdicts, results.md/.json, the optional PNG; prints the tables."""
    from benchmarks import targets

    results["targets"] = targets.targets(results)
    path = write_results(results, out)
    why_not = None
    if "per_step" in results and "graph_size" in results:
        why_not = plot(out / "results.json", out / "overhead_vs_classes.png", plot_python)
    print(path.read_text(encoding="utf-8"))
    print(
        f"Wrote {path} and {out / 'results.json'}"
        + (
            f"; plot skipped: {why_not}"
            if why_not
            else (
                f" and {out / 'overhead_vs_classes.png'}"
                if "per_step" in results and "graph_size" in results
                else ""
            )
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
