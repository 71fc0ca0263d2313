"""Part 4: each builder's update beside the one pass over the batch it cannot avoid.

    python -m benchmarks.floor --classes 2,10,100,1000,10000 --rounds 7 [--intra-op 1]

One JSON line per class count C, batch 1024, the inputs already in memory (variables, read
through `placeholder_with_default` with a `None` batch axis, as `tf.data` hands batches
over):

* F-beta: `builders.fbeta(labels, probabilities, num_classes=C, average="macro")` against
  one `tf.argmax` over the [B, C] probabilities (the floor: any F-beta from scores needs it);
  also built with its run-time checks off (diagnostic: what the checks cost);
* F-beta from softmax outputs: the same builder on `tf.nn.softmax(logits)` against
  `tf.argmax(tf.nn.softmax(logits))`: what a classifier head hands it, whose producer
  picks another update path (`estimator_metrics/_core/rows.py`);
* MAPE: `builders.mape` over [B, C] values against its formula computed once with plain
  TensorFlow ops and no checks, in float64 as the builder promises (scikit-learn equal):
  the sum of `|y - p| / max(|y|, epsilon)`; one float32 pass (the sum of `|y - p|`) is
  timed too, for what float64 itself costs;
* average confidence: `builders.average_confidence` over [B, C] probabilities against the
  sum of the row maxima (`reduce_max` over the class axis);
* calibration error: `builders.calibration_error(labels, probabilities)` (15 bins) against
  the same row-max pass: its confidences are the row maxima, and the rest (the argmax
  beside them, the bins) is what it adds.

At small C one update is a few microseconds of work under a fixed Session.run cost, so
`COPIES[C]` independent copies of each op (the builder built that many times over the
same inputs) run in one `Session.run` and the time is divided by the copies.
Every op is run as a target (no fetch), `inner` times back to back per timing, on two
clocks at once: the CPU time of the process (every TensorFlow thread's work: what the
update costs a shared machine, and which a shared machine disturbs less) and the wall
clock (how long the evaluation waits: an op that spreads its work over the intra-op
threads, as ArgMax does, takes less wall time than CPU time, one that runs on one thread,
as `top_k` does, as much). The variants of a C take turns, their order rotated every round,
with an empty `Session.run` timed the same way, whose time is subtracted from every other,
so each ratio compares the work of the ops themselves, not Session.run's fixed cost. A
ratio is taken within each round, then its median and range over rounds are reported.

The session is a plain `tf.compat.v1.Session`, with default threads as `Estimator.evaluate`
runs it, or `--intra-op N` intra-op threads (ConfigProto). TensorFlow sizes its thread
pools once per process, so each thread count is a process of its own (`run.py` starts
one per setting); with N set, only the F-beta variants run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

from estimator_metrics import builders
from estimator_metrics.diagnostics import checks_off

BATCH = 1024
CLASSES = (2, 10, 100, 1000, 10000)
#: (metric, the builder's variant, its floor's variant), in report order.
PAIRS = (
    ("F-beta (macro)", "fbeta", "argmax"),
    ("F-beta (macro) from softmax", "fbeta_softmax", "softmax_argmax"),
    ("MAPE", "mape", "mape_formula"),
    ("average confidence", "confidence", "row_max"),
    ("calibration error", "calibration", "row_max"),
)
#: Diagnostics with no target: (variant, its floor's variant).
DIAGNOSTICS = (("fbeta_unchecked", "argmax"),)
#: Copies of each op per Session.run, so that the work outweighs the run's fixed cost.
COPIES = {2: 64, 10: 32, 100: 8, 1000: 1, 10000: 1}
SECONDS_PER_TIMING = 0.05
#: The variants timed with a set number of intra-op threads: F-beta's pairs.
THREADED = ("argmax", "fbeta", "softmax_argmax", "fbeta_softmax")


def _in_memory(array: np.ndarray) -> tf.Tensor:
    """`array` held in a variable, read with a `None` batch axis."""
    variable = tf.compat.v1.Variable(array, trainable=False)
    return tf.compat.v1.placeholder_with_default(variable.read_value(), [None, *array.shape[1:]])


def build(num_classes: int, seed: int = 0, only: tuple = ()) -> tuple[dict, int]:
    """The targets to time for one class count, {variant: [an op per copy]}, and the copies
    (`only` those variants, if given).

    Every copy reads its own variables: Grappler merges identical stateless ops on the same
    inputs, so copies on shared inputs would collapse into one.
    """
    rng = np.random.default_rng([seed, num_classes])
    logits = rng.normal(size=(BATCH, num_classes)).astype(np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    values = rng.uniform(1.0, 2.0, size=(BATCH, num_classes)).astype(np.float32)
    ids = rng.integers(0, num_classes, BATCH)

    def mape_formula(truth, guess):
        y, q = tf.cast(truth, tf.float64), tf.cast(guess, tf.float64)
        return tf.reduce_sum(tf.abs(y - q) / tf.maximum(tf.abs(y), 1e-7))

    makers = {
        "argmax": lambda i: tf.argmax(i["p"], axis=-1),
        "fbeta": lambda i: builders.fbeta(
            i["labels"], i["p"], num_classes=num_classes, average="macro"
        )[1],
        "softmax_argmax": lambda i: tf.argmax(tf.nn.softmax(i["logits"]), axis=-1),
        "fbeta_softmax": lambda i: builders.fbeta(
            i["labels"], tf.nn.softmax(i["logits"]), num_classes=num_classes, average="macro"
        )[1],
        "mape_formula": lambda i: mape_formula(i["truth"], i["guess"]),
        "abs_sum32": lambda i: tf.reduce_sum(tf.abs(i["truth"] - i["guess"])),
        "mape": lambda i: builders.mape(i["truth"], i["guess"])[1],
        "row_max": lambda i: tf.reduce_sum(tf.reduce_max(i["p"], axis=-1)),
        "confidence": lambda i: builders.average_confidence(i["p"])[1],
        "calibration": lambda i: builders.calibration_error(i["labels"], i["p"])[1],
    }
    makers["fbeta_unchecked"] = lambda i: _unchecked(makers["fbeta"], i)
    if only:
        makers = {name: make for name, make in makers.items() if name in only}
    copies = COPIES.get(num_classes, 1)
    ops = {"empty": [tf.no_op()]}
    for name, make in makers.items():
        ops[name] = []
        for _ in range(copies):
            inputs = {
                "p": _in_memory(probabilities),
                "logits": _in_memory(logits),
                "labels": _in_memory(ids),
                "truth": _in_memory(values),
                "guess": _in_memory(values * 1.1),
            }
            # Run as targets: kept by Grappler (which prunes unused results) and not fetched.
            ops[name].append(make(inputs).op)
    return ops, copies


def _unchecked(make, inputs: dict) -> tf.Tensor:
    """`make(inputs)` with the builders' run-time checks off (the diagnostic variant)."""
    with checks_off():
        return make(inputs)


def _time(session, op, inner: int) -> tuple[float, float]:
    """(wall, CPU) seconds per run: the clock's, and the process's (every TensorFlow
    thread's work, not the wait), read around the same runs."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(inner):
        session.run(op)
    return (time.perf_counter() - wall) / inner, (time.process_time() - cpu) / inner


def measure(num_classes: int, rounds: int, intra_op: int = 0) -> dict:
    """Median µs per update of each variant and the per-round ratios to the floors, by CPU
    time (`microseconds`, `ratios`) and by the wall clock (`wall_microseconds`,
    `wall_ratios`); `intra_op` threads (0: TensorFlow's default)."""
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=intra_op)
    with tf.Graph().as_default():
        ops, copies = build(num_classes, only=THREADED if intra_op else ())
        with tf.compat.v1.Session(config=config) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            session.run(tf.compat.v1.local_variables_initializer())
            inner = {}
            for name, op in ops.items():  # Warm up; size `inner` to ~SECONDS_PER_TIMING.
                once = min(_time(session, op, 3)[0] for _ in range(3))
                inner[name] = max(3, int(SECONDS_PER_TIMING / max(once, 1e-6)))
            names = list(ops)
            times: dict = {name: [] for name in names}
            for r in range(rounds):
                order = names[r % len(names) :] + names[: r % len(names)]
                for name in order:
                    times[name].append(_time(session, ops[name], inner[name]))
    record = {
        "classes": num_classes,
        "batch": BATCH,
        "rounds": rounds,
        "copies": copies,
        "intra_op": intra_op,
    }
    for clock, prefix in ((1, ""), (0, "wall_")):
        each = {name: [t[clock] for t in runs] for name, runs in times.items()}
        # Per update: the run's own work (less an empty run) over the copies it holds.
        work = {
            name: [(t - e) / copies for t, e in zip(each[name], each["empty"])]
            for name in names
            if name != "empty"
        }
        ratios = {}
        for ours, floor in [(ours, floor) for _, ours, floor in PAIRS] + list(DIAGNOSTICS):
            if ours in work and floor in work:
                per_round = [a / b for a, b in zip(work[ours], work[floor])]
                ratios[ours] = {
                    "median": statistics.median(per_round),
                    "min": min(per_round),
                    "max": max(per_round),
                }
        record[prefix + "empty_microseconds"] = statistics.median(each["empty"]) * 1e6
        record[prefix + "microseconds"] = {
            name: statistics.median(w) * 1e6 for name, w in work.items()
        }
        record[prefix + "ratios"] = ratios
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", default=",".join(map(str, CLASSES)))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--intra-op", type=int, default=0, help="intra-op threads (0: TensorFlow's default)"
    )
    args = parser.parse_args(argv)
    tf.get_logger().setLevel("ERROR")
    for num_classes in (int(c) for c in args.classes.split(",")):
        print(json.dumps(measure(num_classes, args.rounds, args.intra_op)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
