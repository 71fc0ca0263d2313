"""`python -m benchmarks.run --quick` runs every part and writes its tables.

A smoke test of the benchmark machinery only: it checks that the run succeeds and that
results.md / results.json have the expected rows, never a time (the machine may be shared).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support.keras import stock_estimator_takes_fbeta

ROOT = Path(__file__).resolve().parents[2]
NEEDS_BENCHMARKS = pytest.mark.skipif(
    not (ROOT / "benchmarks" / "run.py").exists(),
    reason="benchmarks/ is not shipped here (e.g. in the Docker image)",
)
TASK_TITLES = ("binary F-beta", "10-class macro F-beta", "MAPE", "average confidence")
VARIANT_LABELS = (
    "(a) loss only",
    "(b) tf.compat.v1.metrics by hand",
    "(c) builders (ours)",
    "(d) Keras via adapter.from_keras",
    "(e) stock Keras object in EstimatorSpec",
    "(f) Python-side: fetch + scikit-learn",
)


def _env():
    return dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )


def _python(args: list, timeout: int = 120) -> str:
    """stdout of this Python run with `args` in the checkout (benchmarks importable);
    fails the test with the end of stderr where it exits non-zero."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


TURNS = """
import json, threading
from benchmarks import per_step, workloads

turns = per_step.RoundRobin(["x", "y", "z"], 3)
log = []

def work(name, steps):
    for _ in range(steps):
        follows = turns.acquire(name)
        log.append([name, follows])
        turns.release(name)
    turns.leave(name)

threads = [threading.Thread(target=work, args=item) for item in [("x", 7), ("y", 8), ("z", 2)]]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()

# A run's figure: steps 0-1 warm-up; own steps 10, 20, 30, 40 ms; after another 50, 70 ms.
clock = per_step.StepClock("c", None)
clock.starts = [0.0] * 8
clock.ends = [0.09, 0.09, 0.05, 0.01, 0.02, 0.07, 0.03, 0.04]
clock.after_another = [True, False, True, False, False, True, False, False]
prepared = per_step.Prepared(workloads.binary_task(), "", None, 0.0)
record = dict(metric_ops=1, metric_build_seconds=0.0, model_fn_seconds=0.0, setup_seconds=0.0)
run = per_step._run_of(prepared, "c", 0, 2, clock, {"metric": 0.5}, record, 1.0)
print(json.dumps([log, run.step_ms, run.after_another_ms, run.steps_measured]))
"""


@NEEDS_BENCHMARKS
def test_turns_of_several_steps_and_figures_from_the_steps_after_their_own():
    """Per step: each variant keeps the turn for TURN_STEPS steps; a step is flagged when
    another variant's step ran just before it, and a run's figure leaves those out."""
    printed = _python(["-c", TURNS]).splitlines()[-1]
    log, step_ms, after_another_ms, measured = json.loads(printed)
    names = [name for name, _ in log]
    assert names == list("xxxyyyzzxxxyyyxyy"), names
    assert [follows for _, follows in log] == [
        i == 0 or name != names[i - 1] for i, name in enumerate(names)
    ]
    assert (step_ms, after_another_ms, measured) == (pytest.approx(25.0), pytest.approx(60.0), 4)


@NEEDS_BENCHMARKS
@pytest.mark.skipif(
    not stock_estimator_takes_fbeta(),
    reason="the F-beta tasks' variants (d) and (e) need FBetaScore, and (e) a "
    "stock EstimatorSpec that takes it: this Keras lacks one or the other",
)
def test_quick_benchmark_runs_and_writes_its_tables(tmp_path):
    printed = _python(["-m", "benchmarks.run", "--quick", "--out", str(tmp_path)], timeout=900)

    markdown = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert re.search(r"^\| binary F-beta +\|", printed, re.M)  # The table is printed, too.
    for heading in (
        "## Machine",
        "## Targets",
        "## 1. Per-step evaluation cost",
        "## 2. Graph size and build time",
        "## 3. Memory",
        "## 4. Whole evaluation",
        "## 5. The floor",
        "## 6. The floor by both clocks",
    ):
        assert heading in markdown, heading
    assert "TensorFlow 2." in markdown and "quick smoke run" in markdown
    # Cells are padded to their column's width: compare them with single spaces.
    rows = [
        re.sub(r" *\| *", " | ", line).strip()
        for line in markdown.splitlines()
        if line.startswith("| ")
    ]
    for task in TASK_TITLES:
        for variant in VARIANT_LABELS:
            assert any(row.startswith(f"| {task}") and f"| {variant} |" in row for row in rows), (
                task,
                variant,
            )
    for classes in ("10", "1,000"):
        assert any(row.startswith(f"| {classes} |") for row in rows), classes
        # Section 6: F-beta from both inputs, by both clocks, at each thread setting.
        for threads in ("default", "1 intra-op", "2 intra-op"):
            for source in ("probabilities", "softmax outputs"):
                assert any(
                    row.startswith(f"| {classes} | {threads} | {source} |") for row in rows
                ), (classes, threads, source)
    # The race against fetching to Python at 10,000 classes: (a), (c) and (f) only.
    race = [row for row in rows if row.startswith("| 10,000-class macro F-beta |")]
    assert any("| (c) builders (ours) |" in row for row in race)
    assert not any("| (b) tf.compat.v1.metrics by hand |" in row for row in race)
    for variant in (
        "(a) loss only",
        "(c) builders (ours)",
        "(f) Python-side: fetch + scikit-learn",
    ):
        assert any(row.startswith(f"| {variant} | 20,000 |") for row in rows), variant

    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert results["settings"]["quick"] is True
    summary = results["per_step"]["summary"]
    assert set(summary) == {"binary", "macro10", "macro10000", "mape", "confidence"}
    for task, variants in summary.items():
        diagnostic = {"binary": ["g", "t"], "macro10": ["t"], "confidence": ["g", "h"]}.get(
            task, []
        )
        want = list("acf") if task == "macro10000" else list("abcdef") + diagnostic
        assert sorted(variants) == want, task
    # (b), (c), (d) agree with scikit-learn; (e) (stock Keras objects) may not.
    for task, variants in summary.items():
        for variant in set("bcd") & set(variants):
            assert variants[variant]["value_ok"] is True, (task, variant, variants[variant])
    memory = results["memory"]
    assert [(r["examples"], r["variant"]) for r in memory] == [
        (n, v) for n in (10_000, 20_000) for v in "acf"
    ]
    assert all("error" not in r for r in memory), memory
    for c, f in ((memory[1], memory[2]), (memory[4], memory[5])):
        assert abs(c["value"] - f["value"]) <= 1e-9  # Same examples, float64 counts.
    # The whole-evaluation view: a row per size, (c) against (f) with a verdict.
    for examples in ("10,000", "20,000"):
        assert any(row.startswith(f"| {examples} |") and "×" in row for row in rows), examples
    floor = {(r["classes"], r["intra_op"]): r for r in results["floor"]}
    assert sorted(floor) == [(c, n) for c in (10, 1000) for n in (0, 1, 2)]
    for (_, threads), record in floor.items():
        fbeta = {"fbeta", "fbeta_softmax"}
        every = fbeta | {"mape", "confidence", "calibration", "fbeta_unchecked"}
        # Both clocks, the same pairs; with set threads, F-beta's pairs only.
        assert set(record["ratios"]) == set(record["wall_ratios"]) == (fbeta if threads else every)
        assert set(record["wall_microseconds"]) == set(record["microseconds"])
        assert set(record["microseconds"]) >= {"argmax", "fbeta", "softmax_argmax"}
    titles = [t["target"] for t in results["targets"]]
    for source in ("macro F-beta / one argmax", "macro F-beta of softmax outputs"):
        found = [t for t in titles if t.startswith(source)]
        # On the wall clock with default threads, once per C from 100 (only 1,000 here).
        assert found and all(t.endswith("(wall, default threads)") for t in found), found
        assert [t for t in found if "C = 1,000" in t] == found
    assert any(t.startswith("calibration error / one row-max pass ≤ 2.00×") for t in titles)
    assert any(t.startswith("calibration error (h) ≤ 1.10× average confidence") for t in titles)
    assert any("(c) ≤ (f) per step" in t for t in titles)
    assert "10,000-class macro F-beta: (c) ≤ (f) per step" in titles
    assert any("≤ 1.05× F-beta alone (c) per step" in t for t in titles)
    graph = {(r["approach"], r["classes"]): r for r in results["graph_size"]}
    # At 10 classes the float argmax's ops, fewer than the keys' by top_k (100 classes) or
    # by groups (1,000 classes: group_width finds 25).
    path = {c: graph[("ours", c)]["update_path_ops"] for c in (10, 100, 1000)}
    assert path[10] < min(path[100], path[1000]), path


@NEEDS_BENCHMARKS
def test_migrate_scale_runs_both_variants_and_writes_its_table(tmp_path):
    """benchmarks/migrate_scale.py on two tiny trees: both variants measured, the table and
    the two ratios written (their values are not checked: the machine may be shared)."""
    printed = _python(
        [
            "-m",
            "benchmarks.migrate_scale",
            "--sizes",
            "4,8",
            "--rounds",
            "1",
            "--out",
            str(tmp_path),
        ],
        timeout=600,
    )
    document = json.loads((tmp_path / "results-migrate.json").read_text(encoding="utf-8"))
    assert {(r["variant"], r["files"]) for r in document["rows"]} == {
        (variant, size) for variant in ("full parse", "run") for size in (4, 8)
    }
    assert all(r["seconds"] > 0 and r["peak_mib"] > 10 for r in document["rows"])
    markdown = (tmp_path / "results-migrate.md").read_text(encoding="utf-8")
    assert "## migrate on a whole repository" in markdown and "| full parse |" in printed


def test_migrate_scale_trees_are_repeatable_and_share_their_largest_file(tmp_path):
    from benchmarks import migrate_scale

    small = migrate_scale.make_tree(tmp_path / "small", 30)
    again = migrate_scale.make_tree(tmp_path / "again", 30)
    large = migrate_scale.make_tree(tmp_path / "large", 90)

    def texts(root):
        return {p.relative_to(root): p.read_text() for p in sorted(root.rglob("*.py"))}

    assert texts(small) == texts(again)
    # The same largest parsed file (one with metric code): peak memory is compared fairly.
    largest = {
        max(len(t.splitlines()) for t in texts(root).values() if "metric" in t.lower())
        for root in (small, large)
    }
    assert len(largest) == 1
    metric = [t for t in texts(large).values() if "metric" in t.lower()]
    assert 0.05 < len(metric) / 90 < 0.35  # Mostly files without metric code.
