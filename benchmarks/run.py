"""What our metrics cost per evaluation step, and how that grows with classes.

    python -m benchmarks.run [--quick] [--out DIR] [--parts 1,2,3]      (make bench)

1. Per-step cost (`benchmarks/per_step.py`): `Estimator.evaluate` of a small dense model on
   generated data, batch 1024, with metric sets (a) loss only, (b) hand-written
   `tf.compat.v1.metrics`, (c) our builders, (d) Keras through `adapter.from_keras`,
   (e) stock Keras objects in `EstimatorSpec`, (f) Python-side fetch + scikit-learn, for
   binary F-beta, macro F-beta at 10, 100 and 1,000 classes, MAPE and average confidence.
   Variants are interleaved round by round; medians over steps, then over rounds.
2. Graph size and build time of macro F-beta for C = 10 ... 10,000 (`graph_size.py`, in a
   child process; the by-hand build is stopped at a cap).
3. Peak resident memory of (c) and (f) for 10^6 and 10^7 examples (`memory.py`, one fresh
   process per variant and size).

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
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    budget_seconds: float


FULL = Settings(
    tasks=("binary", "macro10", "macro100", "macro1000", "mape", "confidence"),
    rounds=5,
    steps=300,
    warmup=30,
    train_steps=100,
    heavy_rounds=2,
    graph_classes=(10, 100, 1000, 10000),
    graph_cap=60.0,
    memory_examples=(1_000_000, 10_000_000),
    memory_batch=10_000,
    budget_seconds=19 * 60,
)
QUICK = Settings(
    tasks=("binary", "macro10", "mape", "confidence"),
    rounds=1,
    steps=12,
    warmup=2,
    train_steps=0,
    heavy_rounds=1,
    graph_classes=(10, 1000),
    graph_cap=1.0,
    memory_examples=(20_000,),
    memory_batch=10_000,
    budget_seconds=240,
)
#: Seconds kept for parts 2 and 3 when part 1 decides whether to start another round.
RESERVE_FOR_PARTS_2_3 = {True: 45.0, False: 360.0}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- machine facts


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem = next(
        (
            line.split()[1]
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal:")
        ),
        None,
    )
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "memory_gib": round(int(mem) / 2**20, 1) if mem else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def load_average() -> tuple | None:
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except OSError:
        return None


def versions() -> dict:
    from importlib import metadata

    import tensorflow as tf

    def installed(*names):
        for name in names:
            try:
                return metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
        return "n/a"

    return {
        "tensorflow": tf.__version__,
        "tensorflow_estimator": installed("tensorflow-estimator"),
        "keras": installed("keras"),
        "numpy": installed("numpy"),
        "scikit-learn": installed("scikit-learn"),
    }


def git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "estimator_metrics"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            timeout=10,
        ).stdout
        return head + (" (estimator_metrics/ has uncommitted changes)" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


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
                ("d/e", ("d", "e")),
                ("c/a", ("c", "a")),
                ("g/b", ("g", "b")),
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
    from benchmarks.memory import VARIANTS

    jobs = [(examples, variant) for examples in settings.memory_examples for variant in VARIANTS]

    def one(job):
        examples, variant = job
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
            os.path.join(workdir, f"memory-{variant}-{examples}"),
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
        if "error" in record:
            log(f"[memory] ({variant}) {examples:,}: {record['error']}")
        else:
            log(
                f"[memory] ({variant}) {examples:>10,} examples: peak "
                f"{record['peak_mib']:.0f} MiB (+{record['growth_mib']:.0f}), "
                f"{record['examples_per_second'] / 1e6:.2f} M examples/s"
            )
        return record

    if quick:  # Smoke run: the processes may share the CPUs, their numbers mean nothing.
        with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
            return list(pool.map(one, jobs))
    return [one(job) for job in jobs]  # One at a time: each peak and rate its own.


# ---------------------------------------------------------------------------------- output


def write_results(results: dict, out: Path) -> Path:
    from benchmarks import report

    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    md = render(results, report)
    path = out / "results.md"
    path.write_text(md, encoding="utf-8")
    return path


def render(results: dict, report) -> str:
    meta, settings = results["meta"], results["settings"]
    m, v = meta["machine"], meta["versions"]
    lines = [
        "# Benchmarks: what our metrics cost per evaluation step",
        "",
        f"Written by `{meta['command']}` on {meta['date']}"
        + (" — **quick smoke run: the numbers mean nothing**" if settings["quick"] else "")
        + f". Total runtime {results['runtime_seconds'] / 60:.1f} min.",
        "",
        "## Machine",
        "",
        f"* CPU: {m['cpu']}; {m['cpu_count']} logical CPUs ({m['usable_cpus']} usable); "
        f"{m['memory_gib']} GiB RAM; {m['platform']}",
        f"* Load average (1, 5, 15 min) at start {meta['load_start']}, at end "
        f"{meta['load_end']}: **the machine was shared** with other jobs; every comparison "
        "below is between variants run interleaved in the same run.",
        f"* Python {m['python']}, TensorFlow {v['tensorflow']} (CPU), tensorflow-estimator "
        f"{v['tensorflow_estimator']}, Keras {v['keras']}, NumPy {v['numpy']}, scikit-learn "
        f"{v['scikit-learn']}",
        f"* Code: git {meta['git']}",
        "",
    ]
    if "targets" in results:
        lines += ["## Targets", "", report.targets_table(results["targets"]), ""]
    if "per_step" in results:
        ps = results["per_step"]
        headline, detail = report.per_step_tables(ps["tasks"], ps["summary"])
        lines += [
            "## 1. Per-step evaluation cost",
            "",
            "`Estimator.evaluate` of a small dense model (32 features → 64 ReLU → head), "
            "batch 1024, on a trained checkpoint; every variant of a metric uses the same "
            "input_fn (16 in-memory batches, cached, repeated, prefetched) and model. In each "
            "round the variants of a metric run concurrently, one `evaluate` per thread, "
            "**taking turns step by step** (a round-robin token; order rotated every round), "
            "so every variant meets the same background load; graphs are built one at a "
            "time. A step is timed from the first hook's `before_run` to the last hook's "
            "`after_run`: the session run plus every hook's Python work ((f)'s fetch and "
            f"append included). Each evaluate runs {ps['steps']} steps, the first "
            f"{ps['warmup']} are dropped, a run's figure is the median of the rest. "
            f"{ps['rounds']} rounds (the by-hand 1,000-class graph, minutes to set up, runs "
            f"in {ps['heavy_rounds_done']} of them). Ratios are taken "
            "within each round, then summarised as median [min–max] over rounds.",
            "",
            "Ratio of ms/step to (a) loss only:",
            "",
            headline,
            "",
            "† (e) stock `FBetaScore` in `EstimatorSpec` computes a **wrong value** (Estimator "
            "runs only `metric.updates[0]`): its cost is shown, not as a target.",
            "",
            "Details. *value*: the variant's result against (f)'s scikit-learn value on the "
            "same examples (`ok` within a relative 1e-4); *metric ops*: ops the metric adds "
            "to the graph; *setup s*: the evaluate's own time before its first step (graph, "
            "session with Grappler, restore, initialisation; both measured while the other "
            "variants of the round set up in their threads, so they are inflated: section 2 "
            "times builds alone); (f)'s scikit-learn call at the end of evaluate is not in "
            "ms/step but shown beside it.",
            "",
            detail,
            "",
        ]
    if "graph_size" in results:
        lines += [
            "## 2. Graph size and build time of macro F-beta as classes grow",
            "",
            "Same model as part 1, EVAL `model_fn` built in a fresh graph in a child "
            "process. *ops added*: ops the metric code adds; *run per step*: those the update "
            "op depends on (for (d) the update is one call op into a `tf.function`, whose "
            f"body is not counted); *build*: time to build the metric ops. The by-hand build "
            f"stops at {settings['graph_cap']:.0f} s.",
            "",
            report.graph_table(results["graph_size"]),
            "",
        ]
    if "memory" in results:
        lines += [
            "## 3. Memory: peak resident size, ours (c) against Python-side (f)",
            "",
            "10-class macro F-beta, tiny model (8 features → 10 logits), batch "
            f"{settings['memory_batch']:,}, input generated inside `tf.data` (no example held "
            "in memory); one fresh process per row. Growth: peak (VmHWM) minus the resident "
            "size just before `evaluate`; (a) shows what graph and session take alone. "
            "Examples/s (from the second step on, without (f)'s final scikit-learn call) come "
            "from single, non-interleaved runs: indicative only on a shared machine.",
            "",
            report.memory_table(results["memory"]),
            "",
        ]
    lines += ["## Notes", ""] + [f"{i}. {note}" for i, note in enumerate(NOTES, 1)] + [""]
    return "\n".join(lines)


NOTES = [
    "(b) for macro F-beta is what users write today: one `tf.compat.v1.metrics.precision` and "
    "one `recall` per class, F-beta per class, mean. Its graph, its build time and its "
    "per-step cost grow linearly with C (section 2); at 1,000 classes every `evaluate` spends "
    "a minute or more building and optimising the graph before its first step (*setup s*).",
    "Ours adds the same ops at every C, except that TensorFlow's `tf.zeros` builds the "
    "[3, C] zero initializer of the one state variable as one `Const` below 1,000 elements "
    "and as `Fill` + 2 `Const` from 1,000 on (+2 ops, run once at initialization, never per "
    "step). The ops run per step are the same at every C.",
    "(d) `adapter.from_keras` runs the whole `update_state` in one `tf.function` call op per "
    "step; (e) runs only `updates[0]`: correct for single-op updates (`Mean`, MAPE), wrong "
    "for `FBetaScore`, whose other assignments never run (its value stays 0.0), so its low "
    "cost is that of doing less.",
    "(f) only fetches per step (labels and predicted class ids, 16 bytes per example, or the "
    "predictions themselves) and appends them to Python lists, which is cheap per step; it "
    "pays at the end of every `evaluate` (the scikit-learn call, shown beside its ms/step) and "
    "in memory, which grows with the number of examples (section 3), while (c)'s state is "
    "3 × C float64 counters.",
    "Our per-step cost includes validation: every update checks its inputs (finite, "
    "probabilities in [0, 1], class ids in [0, C)) so that bad data fails with a named error "
    "instead of a silently wrong metric; (b), (d) and (e) check nothing. (g) is (c) built "
    "with those checks removed, to show their share. Ours also computes the updated value in "
    "every `update_op` (the `tf.compat.v1.metrics` contract), which (b)'s `tf.group` of two "
    "updates does not.",
    "Profiling (2026-11-22) found four per-step costs in our code, fixed in "
    "`estimator_metrics/_inputs.py`, `_classes.py` and `_confidence.py`: each range check was "
    "two `tf.debugging.assert_*` ops, each wrapped by TensorFlow in a `cond` whose "
    "Switch/Merge nodes run every step (now one `Assert` on the min and max, which the error "
    "reports); the finite check was `CheckNumerics`, a scalar loop as slow as the argmax on "
    "[1024, 1000] scores (now `reduce_all(is_finite)`, about 4× faster there); "
    "`average_confidence` cast the whole [B, C] probabilities to float64 (now only the [B] "
    "maxima); ids from argmax or thresholding were range-checked although in range by "
    "construction. Same run, interleaved, 5 rounds, new/old time per step: binary 0.97×, "
    "10-class 0.89×, 1,000-class 0.90×, average confidence 0.91×, MAPE 1.00×.",
    "A second round (2026-11-22), after binary F-beta missed its target at 1.12× (b), "
    "counted the nodes one binary update runs: 68 against (b)'s 36. Now 52: the F-beta state "
    "is one [3, C] variable instead of three [C] ones (one read and one `AssignAdd` instead "
    'of three each); with average="binary" it is [3], the positive class\'s tp, fp, fn, '
    "summed in one reduction of a [3, N] stack of 0/1 indicators instead of three "
    "`unsorted_segment_sum`s; the probability check is one `Assert` on `all(0 <= p <= 1)` "
    "(NaN fails it) instead of a finite check followed by a range check; weights and float "
    "class ids likewise need one `Assert` each. One interleaved run of the binary task "
    "(7 rounds, this machine idle), new/old time per step: 0.955× [0.90–1.01]; (c)/(b) "
    "1.05× [0.99–1.08], old code 1.10× [1.05–1.15].",
]


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
    parser.add_argument("--parts", default="1,2,3", help="which parts to run, e.g. 1,3")
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
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "versions": versions(),
            "git": git_revision(),
            "load_start": load_average(),
        },
        "settings": {**dataclasses.asdict(settings), "quick": args.quick},
    }
    workdir = tempfile.mkdtemp(prefix="estimator-metrics-bench-")
    try:
        if 1 in parts:
            results["per_step"] = run_per_step(settings, workdir, started, args.quick)
        if 2 in parts:
            results["graph_size"] = run_graph_size(settings, args.quick)
        if 3 in parts:
            results["memory"] = run_memory(settings, workdir, args.quick)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results["meta"]["load_end"] = load_average()
    results["runtime_seconds"] = time.perf_counter() - started
    return finish(results, Path(args.out), args.plot_python)


def finish(results: dict, out: Path, plot_python: str | None) -> int:
    """Target verdicts, results.md/.json, the optional PNG; prints the tables."""
    from benchmarks import report

    if "per_step" in results:
        results["targets"] = report.targets(
            results["per_step"]["tasks"],
            results["per_step"]["ratios"],
            results.get("graph_size", []),
        )
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
