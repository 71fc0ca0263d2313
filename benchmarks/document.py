"""results.md from the benchmark results: one function per section (plain data, no TF)."""

from __future__ import annotations

from benchmarks import report


def render(results: dict) -> str:
    """The whole document: header, machine, targets, then each part that ran, notes."""
    sections = [
        _header(results),
        _targets(results),
        _per_step(results),
        _graph_size(results),
        _memory(results),
        _evaluation(results),
        _floor(results),
        _notes(),
    ]
    return "\n".join(line for section in sections for line in section)


def _header(results: dict) -> list:
    meta, settings = results["meta"], results["settings"]
    m, v = meta["machine"], meta["versions"]
    return [
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


def _targets(results: dict) -> list:
    if not results.get("targets"):
        return []
    return ["## Targets", "", report.targets_table(results["targets"]), ""]


def _per_step(results: dict) -> list:
    if "per_step" not in results:
        return []
    ps = results["per_step"]
    headline, detail = report.per_step_tables(ps["tasks"], ps["summary"])
    return [
        "## 1. Per-step evaluation cost",
        "",
        "`Estimator.evaluate` of a small dense model (32 features → 64 ReLU → head), "
        "batch 1024, on a trained checkpoint; every variant of a metric uses the same "
        "input_fn (16 in-memory batches, cached, repeated, prefetched) and model. In each "
        "round the variants of a metric run concurrently, one `evaluate` per thread, "
        f"**taking turns of {ps.get('turn_steps', 1)} steps** (a round-robin token; order "
        "rotated every round), so every variant meets the same background load; graphs "
        "are built one at a time. A step is timed from the first hook's `before_run` to "
        "the last hook's `after_run`: the session run plus every hook's Python work ((f)'s "
        f"fetch and append included). Each evaluate runs {ps['steps']} steps, the first "
        f"{ps['warmup']} are dropped; a run's figure is the median of the steps that "
        "followed a step of the same variant, as in a real evaluation (the first step of "
        "a turn follows another variant's graph and pays for the caches it left: see the "
        "detail table and note 10). "
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


def _graph_size(results: dict) -> list:
    if "graph_size" not in results:
        return []
    settings = results["settings"]
    return [
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


def _memory(results: dict) -> list:
    if "memory" not in results:
        return []
    settings = results["settings"]
    return [
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


def _evaluation(results: dict) -> list:
    if "memory" not in results:
        return []
    return [
        "## 4. Whole evaluation: where each approach wins",
        "",
        "The runs of section 3, timed end to end: one `Estimator.evaluate` over N examples, "
        "from the call to its return, (f)'s end-of-evaluation scikit-learn call included "
        "(shown apart as well). Median of the repeats (each a fresh process, run one after "
        "the other); a single run at 10^7 examples.",
        "",
        report.evaluation_table(results["memory"]),
        "",
    ]


def _floor(results: dict) -> list:
    if "floor" not in results:
        return []
    rounds = results["floor"][0]["rounds"] if results["floor"] else 0
    return [
        "## 5. The floor: one update against the one pass it cannot avoid",
        "",
        "Batch 1024, inputs already in memory (variables read with a `None` batch axis, as "
        "from `tf.data`), no model, no Estimator: per update, each builder against the pass "
        "over the batch no implementation can skip — one `tf.argmax` over the [B, C] "
        "probabilities for macro F-beta; for MAPE over [B, C] values, one elementwise pass "
        "(the sum of |labels − predictions|); for average confidence, the sum of the row "
        "maxima. *checks off / argmax*: the same F-beta built with its run-time checks made "
        "no-ops (a diagnostic with no target: what the checks cost). Each op runs as a "
        "target (no fetch) back to back; the variants take turns, order rotated every "
        "round; an empty `Session.run`, timed alike, is subtracted from both sides, so a "
        "ratio compares the ops' own work. CPU time of the process (`time.process_time`, "
        "every thread of TensorFlow's pools), which a shared machine disturbs less than "
        f"wall time. Median [min–max] of per-round ratios over {rounds} rounds; µs are "
        "medians.",
        "",
        report.floor_table(results["floor"]),
        "",
    ]


def _notes() -> list:
    return ["## Notes", ""] + [f"{i}. {note}" for i, note in enumerate(NOTES, 1)] + [""]


NOTES = [
    "(b) for macro F-beta is what users write today: one `tf.compat.v1.metrics.precision` and "
    "one `recall` per class, F-beta per class, mean. Its graph, its build time and its "
    "per-step cost grow linearly with C (section 2); at 1,000 classes every `evaluate` spends "
    "a minute or more building and optimising the graph before its first step (*setup s*).",
    "Ours adds the same ops at every C from 16 classes on, except that TensorFlow's "
    "`tf.zeros` builds the [3, C] zero initializer of the one state variable as one `Const` "
    "below 1,000 elements and as `Fill` + 2 `Const` from 1,000 on (+2 ops, run once at "
    "initialization, never per step). The ops run per step do not grow with C: below 16 "
    "classes the argmax is `tf.argmax` with a sum to check the scores, from 16 on the keyed "
    "argmax with its `cond` (note 9), the same ops at every C.",
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
    "Profiling (2026-11-22) found four per-step costs in our code, fixed in what is now "
    "`estimator_metrics/_core/inputs.py`, `decode.py` (then `classes.py`) and `confidence.py`: "
    "each range check was "
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
    "A third round (2026-12-01, after the run-time shape checks of issue 11 were added) built "
    "every value check from reductions (`estimator_metrics/_core/checks.py`): probabilities by "
    "min and max, scores by one sum, one-hot labels by min, row sums and the value at the "
    "argmax the ids need anyway; MAPE's NaN/Inf check is the finiteness of the error total it "
    "computes anyway, average confidence's [0, 1] check reads the row maxima it needs plus one "
    "minimum. A trace of one 1,000-class macro update: ArgMax 918 µs, the check's Sum 227 µs, "
    "everything else about 100 µs. The full run at 34cabda showed what was left: F-beta cost "
    "1.4–1.5× one argmax at C ≥ 100 (target 1.10×, missed); its *checks off* column measured "
    "the rest: "
    "with every run-time check a no-op, 1.25×, 1.19× and 1.01× at 100, 1,000 and 10,000 "
    "classes. So the checks cost 0.2–0.4 of an argmax, and below 10,000 "
    "classes the counting and the value alone (70 small ops, a fixed cost per update) are "
    "above 1.10×: out of reach there with the checks or without them. The checks stay: "
    "TensorFlow's ArgMax ignores NaN (measured: a row with a NaN gets the argmax of its "
    "other entries), so a NaN score would change a prediction silently unless something "
    "else reads the batch once more; a sum is the cheapest such read (0.25–0.3 of an argmax "
    "at C ≥ 1,000; min and max cost about the same). Fusing argmax and check with XLA "
    "(`jit_compile=True`) was measured slower on this CPU (3.8 ms against 0.8 ms for ArgMax "
    "alone at C = 1,000). Checking only the B row maxima of a Softmax output (each Softmax "
    "row is all finite or all NaN) instead of summing [B, C] was measured and not kept: "
    "0.96–1.00× of the update at C = 100–10,000 and 1.10–1.13× at C = 10. Per step, (c) "
    "stayed above (f) at 100 and 1,000 classes (1.03–1.11× over two full runs). Note 9 is "
    "what came next.",
    "A fourth round (2026-12-01) made one read do both the argmax and the check where the "
    "scores are never negative (`estimator_metrics/_core/rows.py`). The bits of a float "
    "with its sign bit clear, read as an unsigned integer of the same width, order as the "
    "floats do, +Inf and NaN above every finite value, and every value with its sign bit set "
    "(negatives, −0.0, −Inf, negative NaN) lies above those; so a row's largest key, at its "
    "first position (NumPy's and `top_k`'s documented tie order), is the float argmax "
    "whenever it is below the key of +Inf, and then the row holds nothing negative, "
    "infinite or NaN. `tf.math.top_k(k=1)` over the integer keys finds it in 0.42×, 0.68× "
    "and 0.92× one float `tf.argmax` at 100, 1,000 and 10,000 classes (a probe, 7 rounds), "
    "and its values carry the check. Batches that fail (logits, bad data) fall back through "
    "a `cond` to `tf.argmax` and the sum, so no result depends on the path "
    "(tests/core/test_rows.py forces every path on the same values: ties, −0.0, negatives, "
    "NaN of both signs, ±Inf, four float dtypes, empty batches). The path tried first "
    "follows the op that made the scores: Softmax, Sigmoid, Relu and the like go to the "
    "keys; BiasAdd, MatMul and the like (logits) to `tf.argmax`; anything else (variables, "
    "placeholders, `tf.data`) after a probe of the first row, from 64 classes on (below "
    "that, the probe's `cond` would cost logits 30–60 µs per update, more than "
    "probabilities gain). Below 16 classes "
    "the conds cost more than the keys save (measured 4.1× against 2.95× one argmax at "
    "C = 10), and `tf.argmax` stays. Average confidence does the same (`unit_row_max`): the "
    "largest key of every row at most the key of 1.0 proves the row in [+0.0, 1], and the "
    "row maxima are those keys read back, so its [0, 1] check no longer reads the batch a "
    "second time for the minimum (2.0003× one row-max pass at 10,000 classes in the run "
    "before it). Section 5 now: macro F-beta 0.87×, 0.81× and 0.73× one argmax at 100, 1,000 "
    "and 10,000 classes (target 1.10×, met; 1.43–1.52× before), average confidence "
    "1.48×, 1.29× and 1.13× one row-max pass (1.78–2.00× before); the *checks off* column no "
    "longer isolates the checks, which now cost almost nothing there. Per step, (c)/(f) "
    "1.00× binary, 0.95× at 10 classes and 0.99× at 1,000 (met), but 1.11× at 100 "
    "(missed): a trace of one step at 100 classes shows the update after the softmax as "
    "about 50 small ops run one after another on one thread, 4–7 µs each, against (f)'s one "
    "argmax and a fetch; the keyed argmax itself is 80 µs of it. What is left there is the "
    "number of small ops per update, not a pass over the data. "
    "Over whole evaluations (section 4) (c) is faster at every size, since (f) pays "
    "scikit-learn and memory at the end.",
    "A fifth round (2026-12-01) found most of that 100-class miss in the harness. With turns "
    "of one step, the variant after (b) paid for what (b)'s graph of 12,000 ops left in the "
    "caches and the allocator (0.3–0.7 ms on its first step at 100 classes, a little on the "
    "next), and rotating the order keeps the cyclic order, so that variant was (c) in every "
    "round: probes at 100 classes (3 rounds each) gave (c)/(f) 1.13× with (b) in the round "
    "and 0.98× without, and with (c) and (f) swapped around (b), (f) paid instead (3.05 "
    "against 2.58 ms). The variants now take turns of 10 steps, and a run's figure is the "
    "median of the steps that followed a step of the same variant, as every step of a real "
    "evaluation does; the first steps of turns are shown apart in the detail table ((c) at "
    "100 classes: 2.50 ms there, 2.13 ms in the figure). One change to the update: Softmax "
    "(and Exp, Abs, Square) never sets the sign bit of a value that is not NaN (checked on "
    "every supported line on extremes and random values of four float dtypes; Relu does not "
    "qualify, relu(−0.0) is −0.0), so where its keys fail the batch holds NaN or Inf and is "
    "refused whichever path ran: its rows take the keys with no fallback `cond` (80 ops per "
    "step instead of 83; about 1.5% of a 100-class step in a probe). Per step (c)/(f) in "
    "this run: binary 0.99× [0.97–1.03], 0.90× at 10 classes, 1.00× [0.98–1.02] at 100 and "
    "0.95× at 1,000, all met; the run before it, of the same update code, gave binary 1.03× "
    "[0.99–1.04] (missed) and 1.00× [0.95–1.06] at 100 classes. So binary and 100-class "
    "F-beta are level with fetching to Python, within a few percent that moves from run to "
    "run, not clearly ahead: (g), binary F-beta with every check a no-op, measured 0.95× (f) "
    "here and 0.98× the run before. What is left there is about 40 small ops after the "
    "model's last one at 2–4 µs each, against fetching two arrays of 4–8 KB; five fewer ops "
    "on that tail (a flat reshape instead of a slice, the constants out of the checks' "
    "control dependencies) made no difference beyond the noise in a probe, so they were not "
    "kept.",
]
