"""Part 3: peak resident memory of one `Estimator.evaluate` over N examples, per variant.

Run once per (variant, N) in a fresh process (`python -m benchmarks.memory --variant c
--examples 1000000`), so each peak is that variant's own. The workload is 10-class macro
F-beta on a tiny model (8 features -> 10 logits) whose input is generated inside `tf.data`
from the step index (stateless random ops): no example is held in memory by the input, so
growth over the process's resident size before `evaluate` is the metric's (plus the
graph's and session's, the same for every variant; see (a)).

* ``a``: loss only; ``c``: `builders.fbeta(..., average="macro")`;
* ``f``: a hook fetches labels and predicted class ids every step (int64, 16 bytes per
  example) and scikit-learn's `fbeta_score` runs once at the end.

Prints one JSON line: resident size before `evaluate`, peak (VmHWM), evaluate seconds,
steady-state examples per second (from the second step on, without (f)'s final
scikit-learn call), (f)'s end-of-evaluate seconds and the metric value.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

from benchmarks import workloads
from benchmarks.per_step import StepClock

NUM_FEATURES = 8
NUM_CLASSES = 10
VARIANTS = ("a", "c", "f")


def _status_kib(field: str) -> int:
    """A `VmRSS`/`VmHWM` line of /proc/self/status in KiB (ru_maxrss where absent)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def input_fn(examples: int, batch: int):
    steps = examples // batch

    def make(step):
        seed = tf.stack([step, tf.constant(20261122, tf.int64)])
        x = tf.random.stateless_normal([batch, NUM_FEATURES], seed=seed)
        labels = tf.random.stateless_uniform(
            [batch], seed=seed + 1, minval=0, maxval=NUM_CLASSES, dtype=tf.int64
        )
        return {"x": x}, labels

    def fn():
        return tf.data.Dataset.range(steps).map(make).prefetch(2)

    return fn


def make_model_fn(variant: str, sink: dict):
    task = workloads.macro_task(NUM_CLASSES)

    def model_fn(features, labels, mode):
        # A fixed kernel (no checkpoint): every variant and process sees the same logits.
        kernel = np.random.default_rng(3).normal(size=(NUM_FEATURES, NUM_CLASSES))
        logits = tf.compat.v1.layers.dense(
            features["x"],
            NUM_CLASSES,
            name="head",
            kernel_initializer=tf.compat.v1.constant_initializer(kernel.astype(np.float32)),
        )
        heads = workloads.Heads(logits, probabilities=tf.nn.softmax(logits))
        loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, logits)
        metric_ops, hooks = None, []
        if variant == "c":
            metric_ops = workloads.metric_c(task, heads, labels)
        elif variant == "f":
            hooks = [workloads.python_side(task, heads, labels, sink)]
        return tf.estimator.EstimatorSpec(
            mode, loss=loss, eval_metric_ops=metric_ops, evaluation_hooks=hooks
        )

    return model_fn


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument("--examples", type=int, required=True)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--model-dir", required=True)
    args = parser.parse_args(argv)
    if args.examples % args.batch:
        parser.error("--examples must be a multiple of --batch")
    tf.get_logger().setLevel("ERROR")
    sink: dict = {}
    estimator = tf.estimator.Estimator(
        make_model_fn(args.variant, sink),
        config=tf.estimator.RunConfig(model_dir=args.model_dir, tf_random_seed=1),
    )
    timer = StepClock(args.variant, turns=None)  # Stamps step starts only.
    before = _status_kib("VmRSS")
    start = time.perf_counter()
    result = estimator.evaluate(
        input_fn(args.examples, args.batch), steps=None, hooks=[timer], name=args.variant
    )
    end = time.perf_counter()
    peak = _status_kib("VmHWM")
    # Steady state: from the second step's start to the end of evaluate, less (f)'s final
    # computation, over the examples of those steps.
    # (None with a single step: there is no second step to start from.)
    loop_seconds = (
        end - timer.starts[1] - (sink.get("end_seconds") or 0.0) if len(timer.starts) > 1 else None
    )
    loop_examples = args.examples - args.batch
    value = sink.get("value", float(result["metric"]) if "metric" in result else None)
    print(
        json.dumps(
            {
                "variant": args.variant,
                "examples": args.examples,
                "batch": args.batch,
                "rss_before_mib": before / 1024,
                "peak_mib": peak / 1024,
                "growth_mib": (peak - before) / 1024,
                "evaluate_seconds": end - start,
                "steps": len(timer.starts),
                "examples_per_second": loop_examples / loop_seconds if loop_seconds else None,
                "end_seconds": sink.get("end_seconds"),
                "value": value,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
