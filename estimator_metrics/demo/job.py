"""`estimator-metrics demo`: legacy vs Keras metrics on classic model_fns, builders vs NumPy."""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Callable, Sequence

from estimator_metrics import legacy_examples
from estimator_metrics._comparison import Comparison, table
from estimator_metrics._core.environment import require_estimator
from estimator_metrics.demo import numpy_check as _numpy_check

NUMPY_RTOL = 1e-6  # Both sides see the same float32 model outputs.


def compare_example(
    name: str, steps: int | None, model_dir: str, seed: int, log: Callable[[str], None]
) -> list[Comparison]:
    """Trains one example once and evaluates its checkpoint in both metric modes.

    Where this Keras lacks a class the Keras twin needs, says so and evaluates the
    legacy side alone (no comparison rows).
    """
    from estimator_metrics.legacy_examples import _common

    example = importlib.import_module(f"{legacy_examples.__name__}.{name}").EXAMPLE
    steps = steps or example.default_steps
    data = example.make_data(seed)
    log(f"[{name}] {example.description}")
    _common.train(
        example, data, model_dir, steps, seed, hooks=[_common.progress_hook(name, steps, log)]
    )
    missing = example.missing_keras_classes()
    if missing:
        import tensorflow as tf

        log(
            f"[{name}] SKIPPED the Keras twin: it needs tf.keras.metrics.{', '.join(missing)}, "
            f"which the Keras of TensorFlow {tf.__version__} lacks; evaluating with legacy "
            "metrics only"
        )
    else:
        log(f"[{name}] evaluating the checkpoint with legacy metrics, then with Keras metrics")
    legacy = _common.evaluate(example, data, model_dir, "legacy", seed)
    if missing:
        log(
            f"[{name}] legacy: "
            + ", ".join(f"{metric}={float(legacy[metric]):.8f}" for metric in example.tolerances)
        )
        return []
    keras = _common.evaluate(example, data, model_dir, "keras", seed)
    return [
        Comparison(metric, float(legacy[metric]), float(keras[metric]), tolerance, name)
        for metric, tolerance in example.tolerances.items()
    ]


def numpy_check(
    steps: int | None, model_dir: str, seed: int, log: Callable[[str], None]
) -> list[Comparison]:
    """Every builder in a two-headed Estimator beside a NumPy recomputation."""
    log("[builders] a 3-class classifier + regressor, every builder beside NumPy")
    rows = _numpy_check.run(steps or 300, model_dir, seed)
    return [
        Comparison(metric, ours, reference, NUMPY_RTOL * abs(reference), "builders")
        for metric, ours, reference in rows
    ]


def run(
    *,
    steps: int | None,
    model_dir: str | None,
    examples: Sequence[str],
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> int:
    """Runs the demo; returns the exit status (1 when any pair differs)."""
    require_estimator("estimator-metrics demo")  # Before any directory is made.
    model_dir = model_dir or tempfile.mkdtemp(prefix="estimator-metrics-demo-")
    log(f"Model directory: {model_dir}")
    migration = []
    for name in examples:
        migration += compare_example(name, steps, os.path.join(model_dir, name), seed, log)
    checked = numpy_check(steps, os.path.join(model_dir, "builders"), seed, log)
    log(
        "\nLegacy metrics (builders, tf.compat.v1.metrics) vs Keras metrics (adapter.from_keras),"
        " same checkpoint, same data:\n"
    )
    log(table(migration, ("legacy", "Keras")))
    log("\nBuilders in Estimator.evaluate vs an independent NumPy recomputation:\n")
    log(table(checked, ("Estimator", "NumPy")))
    log(
        f"\nEvaluation summaries: tensorboard --logdir {model_dir}"
        "  (eval_legacy/, eval_keras/ per example)"
    )
    failed = [row for row in migration + checked if not row.agrees]
    if failed:
        log(f"FAILED: {len(failed)} pair(s) differ beyond their tolerance.")
        return 1
    return 0
