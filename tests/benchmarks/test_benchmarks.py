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


CHECKS_OFF = """
import tensorflow as tf
from benchmarks.workloads import checks_off
from estimator_metrics import builders

def asserts(build):
    with tf.Graph().as_default() as graph:
        build()
        pruned = tf.compat.v1.graph_util.extract_sub_graph(
            graph.as_graph_def(), [op.name for op in graph.get_operations()
                                   if op.type == "AssignAddVariableOp"])
        return sum(node.op == "Assert" for node in pruned.node)

def fbeta():
    labels = tf.compat.v1.placeholder(tf.int64, [None])
    probabilities = tf.compat.v1.placeholder(tf.float32, [None, 5])
    return builders.fbeta(labels, probabilities, num_classes=5, average="macro")

with checks_off():
    off = asserts(fbeta)
print(asserts(fbeta), off)
"""


@NEEDS_BENCHMARKS
def test_checks_off_leaves_no_assert_on_the_update_path():
    """The floor's and (g)'s diagnostic really removes the builders' run-time checks."""
    done = subprocess.run(
        [sys.executable, "-c", CHECKS_OFF],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    on, off = map(int, done.stdout.split())
    assert on >= 3 and off == 0, (on, off)


@NEEDS_BENCHMARKS
@pytest.mark.skipif(
    not stock_estimator_takes_fbeta(),
    reason="the F-beta tasks' variants (d) and (e) need FBetaScore, and (e) a "
    "stock EstimatorSpec that takes it: this Keras lacks one or the other",
)
def test_quick_benchmark_runs_and_writes_its_tables(tmp_path):
    env = _env()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    markdown = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert re.search(r"^\| binary F-beta +\|", done.stdout, re.M)  # The table is printed, too.
    for heading in (
        "## Machine",
        "## Targets",
        "## 1. Per-step evaluation cost",
        "## 2. Graph size and build time",
        "## 3. Memory",
        "## 4. Whole evaluation",
        "## 5. The floor",
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
    for variant in (
        "(a) loss only",
        "(c) builders (ours)",
        "(f) Python-side: fetch + scikit-learn",
    ):
        assert any(row.startswith(f"| {variant} | 20,000 |") for row in rows), variant

    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert results["settings"]["quick"] is True
    summary = results["per_step"]["summary"]
    assert set(summary) == {"binary", "macro10", "mape", "confidence"}
    for task, variants in summary.items():
        diagnostic = ["g"] if task in ("binary", "confidence") else []
        assert sorted(variants) == list("abcdef") + diagnostic, task
    # (b), (c), (d) agree with scikit-learn; (e) (stock Keras objects) may not.
    for task, variants in summary.items():
        for variant in "bcd":
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
    floor = {r["classes"]: r for r in results["floor"]}
    assert sorted(floor) == [10, 1000]
    for record in floor.values():
        assert set(record["ratios"]) == {"fbeta", "mape", "confidence", "fbeta_unchecked"}
        assert set(record["microseconds"]) >= {"argmax", "fbeta", "mape", "mape_formula"}
    assert any(t["target"].startswith("macro F-beta / one argmax") for t in results["targets"])
    assert any("(c) ≤ (f) per step" in t["target"] for t in results["targets"])
    graph = {(r["approach"], r["classes"]): r for r in results["graph_size"]}
    # The same ops per step at 100 and 1,000 classes; at 10, the float argmax's fewer.
    path = {c: graph[("ours", c)]["update_path_ops"] for c in (10, 100, 1000)}
    assert path[10] < path[100] == path[1000], path
