"""results.md from the benchmark results: the one module that renders it (no TensorFlow).

The text is results_template.md, one `## ` section per part, whose `{field}`s `render` fills
in; a section appears when every field it names is known, that is when its part ran. The
tables are built here (drawn by `_tables`, the project's one table renderer), the target
verdicts come with the results (`targets.py`), and the notes, what each run and probe
measured, are notes.md. Both Markdown files wrap at 100 columns; results.md has each
paragraph on one line. `run.py` writes it after a run, or from an earlier run's results.json
(`python -m benchmarks.run --from-json`).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from pathlib import Path

from estimator_metrics import _tables

HERE = Path(__file__).resolve().parent
#: The document's text, one section per part (`{field}`s filled in by `render`).
TEMPLATE = HERE / "results_template.md"
#: What each run and probe measured, numbered; results.md ends with them.
NOTES = HERE / "notes.md"

VARIANT_TITLES = {
    "a": "loss only",
    "b": "tf.compat.v1.metrics by hand",
    "c": "builders (ours)",
    "d": "Keras via adapter.from_keras",
    "e": "stock Keras object in EstimatorSpec",
    "f": "Python-side: fetch + scikit-learn",
    "g": "(c) with input checks off (diagnostic)",
    "t": "(c) as precision_recall_fbeta (all three)",
    "h": "calibration error of (c)'s probabilities (builders)",
}
APPROACH_TITLES = {
    "ours": "builders (ours)",
    "keras": "Keras via from_keras",
    "by_hand": "per-class precision/recall by hand",
}


def render(results: dict) -> str:
    """The whole document: results_template.md's sections of the parts that ran, filled in."""
    meta, settings = results["meta"], results["settings"]
    fields = {
        "command": meta["command"],
        "date": meta["date"],
        "quick": " — **quick smoke run: the numbers mean nothing**" if settings["quick"] else "",
        "runtime_min": results["runtime_seconds"] / 60,
        **meta["machine"],
        "load_start": meta["load_start"],
        "load_end": meta["load_end"],
        **{name.replace("-", "_"): version for name, version in meta["versions"].items()},
        "git": meta["git"],
        "graph_cap": settings["graph_cap"],
        "memory_batch": settings["memory_batch"],
        "notes": _unwrapped(NOTES.read_text(encoding="utf-8")).strip("\n"),
    }
    if results.get("targets"):
        fields["targets_table"] = targets_table(results["targets"])
    if "per_step" in results:
        ps = results["per_step"]
        fields.update({key: ps[key] for key in ("steps", "warmup", "rounds", "heavy_rounds_done")})
        fields["turn_steps"] = ps.get("turn_steps", 1)
        fields["per_step_headline"], fields["per_step_detail"] = per_step_tables(
            ps["tasks"], ps["summary"]
        )
    if "graph_size" in results:
        fields["graph_table"] = graph_table(results["graph_size"])
    if "memory" in results:
        fields["memory_table"] = memory_table(results["memory"])
        fields["evaluation_table"] = evaluation_table(results["memory"])
    if "floor" in results:
        fields["floor_rounds"] = results["floor"][0]["rounds"] if results["floor"] else 0
        fields["floor_table"] = floor_table(default_threads(results["floor"]))
        if any("wall_ratios" in r for r in results["floor"]):
            fields["floor_clock_table"] = floor_clock_table(results["floor"])
    template = _unwrapped(TEMPLATE.read_text(encoding="utf-8"))
    sections = re.split(r"(?m)^(?=## )", template)
    return "".join(
        section.format_map(fields)
        for section in sections
        if all(key in fields for key in re.findall(r"{(\w+)", section))
    )


def _unwrapped(text: str) -> str:
    """`text` with each paragraph, list item and numbered note on one line, as results.md
    has them (the files it is made from wrap at 100 columns)."""
    lines: list = []
    for line in text.splitlines():
        if lines and lines[-1] and line.strip() and not re.match(r"(\* |\d+\. )", line):
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


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


def default_threads(records: Sequence[dict]) -> list:
    """The floor's records of sessions with TensorFlow's default threads (every record of
    runs before the thread settings)."""
    return [r for r in records if not r.get("intra_op")]


def floor_ratio(x: dict | None) -> str:
    """A floor ratio's median [min–max] over rounds; "—" where not measured."""
    return f"{x['median']:.2f}× [{x['min']:.2f}–{x['max']:.2f}]" if x else "—"


def floor_table(records: Sequence[dict]) -> str:
    """Per class count: each builder's CPU µs per update, its floor's, and the ratio."""
    rows = []
    for r in records:
        us, ratios = r["microseconds"], r["ratios"]
        row = [f"{r['classes']:,}", f"{r['copies']}", f"{r['empty_microseconds']:.0f}"]
        for ours, floor in (
            ("fbeta", "argmax"),
            ("mape", "mape_formula"),
            ("confidence", "row_max"),
        ):
            row += [f"{us[floor]:.0f}", f"{us[ours]:.0f}", floor_ratio(ratios[ours])]
        row.insert(6, floor_ratio(ratios["fbeta_unchecked"]))
        row.insert(9, f"{us['abs_sum32']:.0f}")
        x = ratios.get("calibration")  # Absent from runs before the calibration error.
        row += [f"{us['calibration']:.0f}" if x else "—", floor_ratio(x)]
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
            "calibration error µs",
            "calibration / row max",
        ],
        rows,
    )


#: F-beta's pairs on both clocks: (title, ours, its floor).
CLOCK_PAIRS = (
    ("probabilities", "fbeta", "argmax"),
    ("softmax outputs", "fbeta_softmax", "softmax_argmax"),
)


def floor_clock_table(records: Sequence[dict]) -> str:
    """F-beta against its floor by the wall clock and by CPU time, per class count, input
    and session threads (default first): µs per update (wall / CPU) and both ratios."""
    rows = []
    measured = [r for r in records if "wall_ratios" in r]
    for r in sorted(measured, key=lambda r: (r["classes"], r.get("intra_op") or 0)):
        threads = r.get("intra_op") or 0
        for title, ours, floor in CLOCK_PAIRS:
            if ours not in r["ratios"]:
                continue
            wall, cpu = r["wall_microseconds"], r["microseconds"]
            rows.append(
                [
                    f"{r['classes']:,}",
                    f"{threads} intra-op" if threads else "default",
                    title,
                    f"{wall[floor]:.0f} / {cpu[floor]:.0f}",
                    f"{wall[ours]:.0f} / {cpu[ours]:.0f}",
                    floor_ratio(r["wall_ratios"][ours]),
                    floor_ratio(r["ratios"][ours]),
                ]
            )
    return table(
        [
            "classes C",
            "session threads",
            "F-beta from",
            "floor µs, wall / CPU",
            "F-beta µs, wall / CPU",
            "F-beta / floor, wall",
            "F-beta / floor, CPU",
        ],
        rows,
        "rll",
    )


def targets_table(rows: Sequence[dict]) -> str:
    verdict = {True: "**met**", False: "**missed**", None: "—"}
    return table(
        ["target", "measured (median [min–max] of per-round ratios)", "verdict"],
        [[r["target"], r["measured"], verdict[r["met"]]] for r in rows],
        "ll",
    )
