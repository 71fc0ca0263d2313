"""Markdown tables and target verdicts from the benchmark results (plain data, no TF)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from estimator_metrics import _tables
from estimator_metrics._core.rows import KEYED_FROM

VARIANT_TITLES = {
    "a": "loss only",
    "b": "tf.compat.v1.metrics by hand",
    "c": "builders (ours)",
    "d": "Keras via adapter.from_keras",
    "e": "stock Keras object in EstimatorSpec",
    "f": "Python-side: fetch + scikit-learn",
    "g": "(c) with input checks off (diagnostic)",
    "t": "(c) as precision_recall_fbeta (all three)",
}
APPROACH_TITLES = {
    "ours": "builders (ours)",
    "keras": "Keras via from_keras",
    "by_hand": "per-class precision/recall by hand",
}
#: Target thresholds of the issues.
C_OVER_B = 1.10
D_OVER_E = 1.15
C_OVER_F = 1.0
#: precision_recall_fbeta (t) against fbeta alone (c): one state, one count.
T_OVER_C = 1.05
#: Floor targets: builder -> (largest ratio to its floor, from which class count).
FLOOR = {"fbeta": (1.10, 100), "mape": (2.0, 0), "confidence": (2.0, 0)}
FLOOR_TITLES = {
    "fbeta": "macro F-beta / one argmax",
    "mape": "MAPE / its float64 formula",
    "confidence": "average confidence / one row-max pass",
}


def table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """A Markdown table; `align` is one char per column, "l" or "r" (default "r")."""
    return _tables.render(header, rows, align.ljust(len(header), "r"), style="markdown")


def spread(s: dict | None, digits: int = 3, unit: str = "") -> str:
    if not s:
        return "n/a"
    if s["n"] == 1:
        return f"{s['median']:.{digits}f}{unit}"
    return f"{s['median']:.{digits}f}{unit} [{s['min']:.{digits}f}–{s['max']:.{digits}f}]"


def ratio(s: dict | None) -> str:
    if not s:
        return "n/a"
    if s["n"] == 1:
        return f"{s['median']:.2f}×"
    return f"{s['median']:.2f}× [{s['min']:.2f}–{s['max']:.2f}]"


def value_cell(summary: dict) -> str:
    if summary["value"] is None:
        return "—"
    if summary["value_ok"] is None:
        return f"{summary['value']:.6g} (reference)"
    return f"{summary['value']:.6g} " + ("ok" if summary["value_ok"] else "**WRONG**")


def per_step_tables(tasks: Sequence[dict], summary: dict) -> tuple[str, str]:
    """(headline table of ratios to (a), detail table)."""
    head_rows, detail_rows = [], []
    for task in tasks:
        variants = summary[task["key"]]
        a = variants["a"]["step_ms"]
        row = [task["title"], spread(a)]
        for v in "bcdef":
            cell = ratio(variants[v]["ratio_to_a"]) if v in variants else "—"
            if v == "e" and v in variants and not task["stock_correct"]:
                cell += " †"
            row.append(cell)
        head_rows.append(row)
        for v, s in variants.items():
            extra = ""
            if s["end_seconds"] is not None:
                extra = f"; + {s['end_seconds'] * 1e3:.0f} ms at the end"
            detail_rows.append(
                [
                    task["title"],
                    f"({v}) {VARIANT_TITLES[v]}",
                    spread(s["step_ms"]),
                    spread(s["after_another_ms"]) if s.get("after_another_ms") else "—",
                    ratio(s["ratio_to_a"]),
                    spread(s["overhead_ms"]) + extra,
                    value_cell(s),
                    f"{s['metric_ops']:,}",
                    f"{s['metric_build_seconds']:.2f}",
                    f"{s['setup_seconds']:.1f}",
                    str(s["step_ms"]["n"]),
                ]
            )
    headline = table(
        [
            "metric",
            "(a) loss only, ms/step",
            "(b) by hand",
            "(c) ours",
            "(d) from_keras",
            "(e) stock Keras",
            "(f) Python-side",
        ],
        head_rows,
        "l",
    )
    detail = table(
        [
            "metric",
            "variant",
            "ms/step median [min–max]",
            "first step of a turn, ms",
            "× loss only",
            "overhead ms/step",
            "value vs scikit-learn",
            "metric ops",
            "metric build s",
            "setup s",
            "rounds",
        ],
        detail_rows,
        "ll",
    )
    return headline, detail


def graph_table(records: Sequence[dict]) -> str:
    by = {(r["approach"], r["classes"]): r for r in records}
    classes = sorted({r["classes"] for r in records})
    rows = []
    for c in classes:
        row = [f"{c:,}"]
        for approach in ("ours", "keras", "by_hand"):
            r = by.get((approach, c))
            if r is None:
                row += ["—", "—", "—"]
            elif r["finished"]:
                row += [
                    f"{r['metric_ops']:,}",
                    f"{r['update_path_ops']:,}",
                    _seconds(r["metric_build_seconds"]),
                ]
            else:
                row += [
                    f"≥ {r['metric_ops']:,} (partial)",
                    "—",
                    f"did not finish in {r['cap_seconds']:.0f} s ({r['classes_built']:,} "
                    f"of {c:,} classes built{_extrapolated(records, approach, c)})",
                ]
        rows.append(row)
    header = ["classes C"]
    for approach in ("ours", "keras", "by_hand"):
        title = APPROACH_TITLES[approach]
        header += [f"{title}: ops added", "run per step", "build"]
    return table(header, rows)


def _extrapolated(records: Sequence[dict], approach: str, classes: int) -> str:
    """ "; ~N s at the rate of the largest finished C", if there is one."""
    done = [r for r in records if r["approach"] == approach and r["finished"]]
    if not done:
        return ""
    largest = max(done, key=lambda r: r["classes"])
    estimate = largest["metric_build_seconds"] / largest["classes"] * classes
    return f"; ~{estimate:,.0f} s at the per-class rate of C = {largest['classes']:,}"


def _seconds(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def grouped_runs(records: Sequence[dict]) -> list[dict]:
    """One record per (examples, variant): medians over repeats; the failures as they are."""
    groups: dict = {}
    for r in records:
        groups.setdefault((r["examples"], r["variant"]), []).append(r)
    out = []
    for (_, _), runs in sorted(groups.items()):
        ok = [r for r in runs if "error" not in r]
        if not ok:
            out.append(runs[0])
            continue
        merged = dict(ok[0])
        for key in ("peak_mib", "growth_mib", "evaluate_seconds"):
            merged[key] = statistics.median(r[key] for r in ok)
        rates = [r["examples_per_second"] for r in ok if r.get("examples_per_second")]
        merged["examples_per_second"] = statistics.median(rates) if rates else None
        ends = [r["end_seconds"] for r in ok if r.get("end_seconds") is not None]
        merged["end_seconds"] = statistics.median(ends) if ends else None
        merged["repeats"] = len(ok)
        out.append(merged)
    return out


def memory_table(records: Sequence[dict]) -> str:
    rows = []
    for r in grouped_runs(records):
        title = f"({r['variant']}) {VARIANT_TITLES[r['variant']]}"
        if "error" in r:
            rows.append([title, f"{r['examples']:,}", "failed: " + r["error"], "", "", ""])
            continue
        rate = r["examples_per_second"]
        rows.append(
            [
                title,
                f"{r['examples']:,}",
                f"{r['peak_mib']:.0f}",
                f"{r['growth_mib']:.0f}",
                "—" if rate is None else f"{rate / 1e6:.2f} M",
                "—" if r["value"] is None else f"{r['value']:.6f}",
            ]
        )
    return table(
        [
            "variant",
            "examples",
            "peak RSS MiB",
            "growth during evaluate MiB",
            "examples/s (steady)",
            "value",
        ],
        rows,
        "l",
    )


def evaluation_table(records: Sequence[dict]) -> str:
    """Seconds per whole evaluate of (a), (c), (f) at each size, and which of (c), (f) wins."""
    runs = {(r["examples"], r["variant"]): r for r in grouped_runs(records) if "error" not in r}
    rows = []
    for examples in sorted({e for e, _ in runs}):
        a, c, f = (runs.get((examples, v)) for v in "acf")
        if not (c and f):
            continue
        faster = "(c) ours" if c["evaluate_seconds"] < f["evaluate_seconds"] else "(f) Python-side"
        rows.append(
            [
                f"{examples:,}",
                "—" if a is None else f"{a['evaluate_seconds']:.2f}",
                f"{c['evaluate_seconds']:.2f}",
                f"{f['evaluate_seconds']:.2f}",
                f"{f['end_seconds']:.2f}" if f.get("end_seconds") is not None else "—",
                f"{c['evaluate_seconds'] / f['evaluate_seconds']:.2f}×",
                faster,
                f"{c['peak_mib']:.0f} / {f['peak_mib']:.0f}",
            ]
        )
    return table(
        [
            "examples",
            "(a) loss only s",
            "(c) ours s",
            "(f) Python-side s",
            "of which (f)'s scikit-learn call s",
            "(c) / (f)",
            "faster",
            "peak MiB (c) / (f)",
        ],
        rows,
    )


def floor_table(records: Sequence[dict]) -> str:
    """Per class count: each builder's µs per update, its floor's, and the ratio."""
    rows = []
    for r in records:
        us, ratios = r["microseconds"], r["ratios"]
        row = [f"{r['classes']:,}", f"{r['copies']}", f"{r['empty_microseconds']:.0f}"]
        for ours, floor in (
            ("fbeta", "argmax"),
            ("mape", "mape_formula"),
            ("confidence", "row_max"),
        ):
            x = ratios[ours]
            row += [
                f"{us[floor]:.0f}",
                f"{us[ours]:.0f}",
                f"{x['median']:.2f}× [{x['min']:.2f}–{x['max']:.2f}]",
            ]
        off = ratios["fbeta_unchecked"]
        row.insert(6, f"{off['median']:.2f}× [{off['min']:.2f}–{off['max']:.2f}]")
        row.insert(9, f"{us['abs_sum32']:.0f}")
        rows.append(row)
    return table(
        [
            "classes C",
            "copies per run",
            "empty run µs",
            "argmax µs",
            "F-beta µs",
            "F-beta / argmax",
            "checks off / argmax",
            "MAPE formula (float64) µs",
            "MAPE µs",
            "float32 pass µs",
            "MAPE / formula",
            "row max µs",
            "average confidence µs",
            "confidence / row max",
        ],
        rows,
    )


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
        tc = ratios[task["key"]].get("t/c")
        if tc:
            out.append(
                {
                    "target": f"{task['title']}: precision, recall and F-beta (t) ≤ "
                    f"{T_OVER_C:.2f}× F-beta alone (c) per step",
                    "measured": ratio(tc),
                    "met": tc["median"] <= T_OVER_C,
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


def targets_table(rows: Sequence[dict]) -> str:
    verdict = {True: "**met**", False: "**missed**", None: "—"}
    return table(
        ["target", "measured (median [min–max] of per-round ratios)", "verdict"],
        [[r["target"], r["measured"], verdict[r["met"]]] for r in rows],
        "ll",
    )
