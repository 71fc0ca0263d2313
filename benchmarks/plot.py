"""Plot of per-step cost and graph size against the number of classes (optional).

    python benchmarks/plot.py benchmarks/results.json benchmarks/overhead_vs_classes.png

Needs only matplotlib and the standard library (not TensorFlow), so any Python with
matplotlib can draw it from `results.json`; `benchmarks/run.py` calls it when matplotlib
is importable and skips the plot, saying so, when it is not.
"""

from __future__ import annotations

import json
import sys

STYLE = {
    "b": ("tf.compat.v1.metrics by hand (b)", "tab:red", "o"),
    "c": ("builders, ours (c)", "tab:blue", "s"),
    "d": ("Keras via from_keras (d)", "tab:green", "^"),
    "e": ("stock Keras FBetaScore (e): wrong value, cost only", "tab:gray", "v"),
    "f": ("Python-side + scikit-learn (f)", "tab:orange", "D"),
}
APPROACH_STYLE = {
    "ours": ("builders, ours", "tab:blue", "s"),
    "keras": ("Keras via from_keras", "tab:green", "^"),
    "by_hand": ("per-class precision/recall by hand", "tab:red", "o"),
}


def plot(results: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    tasks = [t for t in results["per_step"]["tasks"] if t["kind"] == "macro"]
    tasks.sort(key=lambda t: t["classes"])
    summary = results["per_step"]["summary"]
    for variant, (label, color, marker) in STYLE.items():
        xs, ys, lo, hi = [], [], [], []
        for task in tasks:
            s = summary[task["key"]].get(variant, {}).get("ratio_to_a")
            if s:
                xs.append(task["classes"])
                ys.append(s["median"])
                lo.append(max(s["median"] - s["min"], 0))
                hi.append(max(s["max"] - s["median"], 0))
        if xs:
            left.errorbar(
                xs,
                ys,
                yerr=[lo, hi],
                label=label,
                color=color,
                marker=marker,
                capsize=3,
                linestyle="--" if variant == "e" else "-",
            )
    left.axhline(1.0, color="black", linewidth=0.8)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("classes C (macro F-beta)")
    left.set_ylabel("time per step ÷ loss only (batch 1024)")
    for axis in (left.yaxis,):
        axis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g×"))
        axis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g×"))
    left.set_title("Per-step cost in Estimator.evaluate (median, min–max)")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)

    for approach, (label, color, marker) in APPROACH_STYLE.items():
        done = [r for r in results["graph_size"] if r["approach"] == approach and r["finished"]]
        if done:
            right.plot(
                [r["classes"] for r in done],
                [r["metric_ops"] for r in done],
                label=label,
                color=color,
                marker=marker,
            )
        stopped = [
            r for r in results["graph_size"] if r["approach"] == approach and not r["finished"]
        ]
        if stopped:
            right.plot(
                [r["classes"] for r in stopped],
                [r["metric_ops"] for r in stopped],
                color=color,
                marker=marker,
                fillstyle="none",
                linestyle="none",
                label=f"{label}: ops built when stopped at {stopped[0]['cap_seconds']:.0f} s",
            )
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("classes C (macro F-beta)")
    right.set_ylabel("graph ops added by the metric")
    right.set_title("Graph size of the metric")
    right.grid(True, which="both", alpha=0.3)
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        plot(json.load(f), argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
