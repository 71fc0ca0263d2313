"""The targets of `make bench`: what each one asks, and whether a run met it.

Each target is a ratio of two variants measured side by side in one run (medians of per-round
ratios), never an absolute time. `targets(results)` gives one record per target (target,
measured, met: True, False or None for a cost shown without a target); `run.py` stores them in
results.json and results.md shows them first.
"""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.results_md import ratio

#: Target thresholds of the issues.
C_OVER_B = 1.10
D_OVER_E = 1.15
C_OVER_F = 1.0
#: Floor targets: builder -> (largest ratio to its floor, from which class count).
FLOOR = {"fbeta": (1.10, 100), "mape": (2.0, 0), "confidence": (2.0, 0)}
#: How each floor target is named.
FLOOR_TITLES = {
    "fbeta": "macro F-beta / one argmax",
    "mape": "MAPE / its float64 formula",
    "confidence": "average confidence / one row-max pass",
}


def targets(results: dict) -> list[dict]:
    """Each target of the issues: what was measured and whether it is met."""
    out = []
    if "per_step" in results:
        ps = results["per_step"]
        out += per_step_targets(ps["tasks"], ps["ratios"], results.get("graph_size", []))
    out += floor_targets(results.get("floor", []))
    return out


def floor_targets(records: Sequence[dict]) -> list[dict]:
    out = []
    for ours, (limit, from_classes) in FLOOR.items():
        for r in records:
            if r["classes"] < from_classes:
                continue
            x = r["ratios"][ours]
            out.append(
                {
                    "target": f"{FLOOR_TITLES[ours]} ≤ {limit:.2f}× at C = {r['classes']:,}",
                    "measured": f"{x['median']:.2f}× [{x['min']:.2f}–{x['max']:.2f}]",
                    "met": x["median"] <= limit,
                }
            )
    return out


def per_step_targets(tasks: Sequence[dict], ratios: dict, graph: Sequence[dict]) -> list[dict]:
    """`ratios[task_key]["c/b"]` / `["c/f"]` / `["d/e"]`: spread dicts of paired ratios."""
    out = []
    for task in tasks:
        cb = ratios[task["key"]].get("c/b")
        gb = ratios[task["key"]].get("g/b")
        if cb:
            why = ""
            if gb and cb["median"] > C_OVER_B:
                why = f"; with its input checks off (g): {ratio(gb)} (see notes)"
            out.append(
                {
                    "target": f"{task['title']}: (c) ≤ {C_OVER_B:.2f}× (b) per step",
                    "measured": ratio(cb) + why,
                    "met": cb["median"] <= C_OVER_B,
                }
            )
        cf = ratios[task["key"]].get("c/f")
        if cf and task["kind"] in ("binary", "macro"):
            out.append(
                {
                    "target": f"{task['title']}: (c) ≤ (f) per step",
                    "measured": ratio(cf),
                    "met": cf["median"] <= C_OVER_F,
                }
            )
        if task["kind"] == "macro" and task["classes"] >= 1000 and cb:
            out.append(
                {
                    "target": f"{task['title']}: (c) faster than (b)",
                    "measured": ratio(cb),
                    "met": cb["median"] < 1.0,
                }
            )
    for task in tasks:
        de = ratios[task["key"]].get("d/e")
        if not de:
            continue
        if task["stock_correct"]:
            out.append(
                {
                    "target": f"{task['title']}: (d) ≤ {D_OVER_E:.2f}× (e) per step",
                    "measured": ratio(de),
                    "met": de["median"] <= D_OVER_E,
                }
            )
        else:
            out.append(
                {
                    "target": f"{task['title']}: (d) vs (e)",
                    "measured": ratio(de)
                    + " — (e) is not correct here ("
                    + task["stock"]
                    + "): cost only, no target",
                    "met": None,
                }
            )
    ours = [r for r in graph if r["approach"] == "ours" and r["finished"]]
    if ours:
        out.append(_op_count_target(ours))
    return out


def _op_count_target(ours: Sequence[dict]) -> dict:
    """What runs per step must not grow with C: one count below KEYED_FROM classes (float
    argmax), one from there on (the keyed argmax, see note 9), the first no larger. The
    one-off initializers may change form (see note 2), never with C beyond that."""
    from estimator_metrics.diagnostics import KEYED_FROM  # The one hook (imports TensorFlow).

    sides = {
        side: [r for r in ours if (r["classes"] >= KEYED_FROM) == side] for side in (False, True)
    }
    by_side = {side: sorted({r["update_path_ops"] for r in rs}) for side, rs in sides.items()}
    added = sorted({r["metric_ops"] for r in ours})
    parts = [
        "C = " + ", ".join(f"{r['classes']:,}" for r in rs) + ": " + "/".join(map(str, counts))
        for rs, counts in zip(sides.values(), by_side.values())
        if counts
    ]
    narrow, wide = by_side[False], by_side[True]
    return {
        "target": "our op count independent of C",
        "measured": (
            f"{'; '.join(parts)} ops run per step (keyed argmax from {KEYED_FROM} classes on, "
            f"note 9); {'/'.join(map(str, added))} ops added in all"
            + (" (see note 2)" if len(added) > 1 else "")
        ),
        "met": len(narrow) <= 1 and len(wide) <= 1 and (not narrow or not wide or narrow <= wide),
    }
