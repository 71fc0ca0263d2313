"""Part 2: ops added and graph build time of macro F-beta as the number of classes grows.

Run as a child process (`python -m benchmarks.graph_size --classes 10,100 --cap 90`); it
prints one JSON line per measurement. For each C, in a fresh `tf.Graph`, the EVAL
`model_fn` of the `macro<C>` task (same model as part 1) is built with:

* ``ours``: `builders.fbeta(..., num_classes=C, average="macro")`;
* ``keras``: `FBetaScore(average="macro")` through `adapter.from_keras`;
* ``by_hand``: one `tf.compat.v1.metrics.precision` and one `recall` per class.

Recorded: the ops the metric code adds (and how many of them the update op depends on, i.e.
run every step), the seconds to build them, and the seconds for the whole `model_fn`
(model, loss, metric, `EstimatorSpec`). Cheap builds are repeated and the
median kept. The by-hand build checks a deadline between classes: past `--cap` seconds it
stops and reports how far it got ("did not finish in N s") instead of hanging.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf

from benchmarks import workloads

APPROACHES = ("ours", "keras", "by_hand")


def build_once(approach: str, num_classes: int, cap_seconds: float, emit=None) -> dict:
    """One EVAL model_fn build in a fresh graph; facts about it."""
    task = workloads.macro_task(num_classes)
    graph = tf.Graph()
    with graph.as_default():
        features = {"x": tf.compat.v1.placeholder(tf.float32, [None, workloads.NUM_FEATURES])}
        labels = tf.compat.v1.placeholder(tf.int64, [None])
        start = time.perf_counter()
        heads, loss = workloads.model(features, labels, task)
        ops_before = len(graph.get_operations())
        metric_start = time.perf_counter()
        result = {"approach": approach, "classes": num_classes}
        try:
            if approach == "ours":
                pair = workloads.metric_c(task, heads, labels)["metric"]
            elif approach == "keras":
                pair = workloads.metric_d(task, heads, labels)["metric"]
            else:

                def progress(built):
                    if emit is not None:
                        emit(
                            {
                                **result,
                                "progress": built,
                                "ops": len(graph.get_operations()) - ops_before,
                                "seconds": time.perf_counter() - metric_start,
                            }
                        )

                pair = workloads.handwritten_macro_fbeta(
                    labels,
                    tf.argmax(heads.probabilities, axis=-1),
                    num_classes,
                    deadline=metric_start + cap_seconds,
                    progress=progress,
                )
        except workloads.ClassDeadline as stop:
            return {
                **result,
                "finished": False,
                "cap_seconds": cap_seconds,
                "classes_built": stop.built,
                "metric_ops": len(graph.get_operations()) - ops_before,
                "metric_build_seconds": time.perf_counter() - metric_start,
            }
        tf.estimator.EstimatorSpec(
            tf.estimator.ModeKeys.EVAL, loss=loss, eval_metric_ops={"metric": pair}
        )
        end = time.perf_counter()
        model_ops = set(graph.get_operations()[:ops_before])
        return {
            **result,
            "finished": True,
            "metric_ops": len(graph.get_operations()) - ops_before,
            "update_path_ops": update_path_ops(pair[1], model_ops),
            "metric_build_seconds": end - metric_start,
            "model_fn_seconds": end - start,
        }


def update_path_ops(update, model_ops: set) -> int:
    """Metric ops the update op depends on (data or control): what runs every step."""
    seen, stack = set(), [update if isinstance(update, tf.Operation) else update.op]
    while stack:
        op = stack.pop()
        if op in seen or op in model_ops:
            continue
        seen.add(op)
        stack += [tensor.op for tensor in op.inputs] + list(op.control_inputs)
    return len(seen)


def measure(approach: str, num_classes: int, cap_seconds: float, reps: int, emit) -> dict:
    runs = []
    for _ in range(reps):
        runs.append(build_once(approach, num_classes, cap_seconds, emit))
        gc.collect()
        if not runs[-1]["finished"]:
            return runs[-1]
    out = dict(runs[-1])
    out["metric_build_seconds"] = statistics.median(r["metric_build_seconds"] for r in runs)
    out["model_fn_seconds"] = statistics.median(r["model_fn_seconds"] for r in runs)
    out["reps"] = reps
    return out


def reps_for(approach: str, num_classes: int, quick: bool) -> int:
    if quick:
        return 1
    if approach != "by_hand":
        return 5
    return 3 if num_classes <= 10 else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", default="10,100,1000,10000")
    parser.add_argument(
        "--cap",
        type=float,
        default=90.0,
        help="seconds one by-hand build may take before it is stopped",
    )
    parser.add_argument("--approaches", default=",".join(APPROACHES))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    tf.get_logger().setLevel("ERROR")

    def emit(record):
        print(json.dumps(record), flush=True)

    approaches = args.approaches.split(",")
    for approach in approaches if not args.quick else ():
        build_once(approach, 10, args.cap)  # Warm-up: first-use costs (imports, Keras).
    for num_classes in [int(c) for c in args.classes.split(",")]:
        for approach in approaches:
            emit(
                measure(
                    approach,
                    num_classes,
                    args.cap,
                    reps_for(approach, num_classes, args.quick),
                    emit,
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
