"""migrate: the report, as a Markdown table (`md`, drawn by the project's one table renderer)
or a JSON document (`json`)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from estimator_metrics._tables import render
from estimator_metrics.migrate._model import Action, Status

_HEADER = (
    "where",
    "in",
    "metric",
    "status",
    "replacement",
    "same number?",
    "action",
    "what to know",
)


def _cell(text: str, code: bool = False) -> str:
    if code and text:
        ticks = "``" if "`" in text else "`"
        pad = " " if ticks == "``" else ""
        return f"{ticks}{pad}{text}{pad}{ticks}"
    return text


def _where(finding) -> str:
    function = "" if finding.function == "<module>" else f"`{finding.function}`"
    role = f" ({finding.role})" if finding.role else ""
    return f"{function}{role}" or "module level"


def counts(results: Sequence) -> dict:
    findings = [f for r in results for f in r.findings]
    return {str(status): sum(f.status is status for f in findings) for status in Status}


def render_md(results: Sequence, status: int, *, write: bool, fix_wrong: bool) -> str:
    findings = [f for r in results for f in r.findings]
    files = len(results)
    lines = [
        f"# estimator-metrics migrate: {len(findings)} metric uses in "
        f"{sum(bool(r.findings) for r in results)} of {files} files",
        "",
    ]
    if findings:
        rows = []
        for finding in findings:
            rows.append(
                [
                    f"{finding.path}:{finding.line}",
                    _where(finding),
                    _cell(
                        finding.metric,
                        code="`" not in finding.metric
                        and not finding.metric.startswith(("hand-built", "tf.keras")),
                    ),
                    f"**{finding.status}**" if finding.status is not Status.OK else str(Status.OK),
                    _cell(
                        finding.replacement,
                        code=not finding.replacement.startswith(("none", "one ", "see ")),
                    ),
                    _cell(finding.same_number),
                    _cell(str(finding.action)),
                    _cell(
                        "; ".join(
                            [*finding.notes, *([f"see {finding.docs}"] if finding.docs else [])]
                        )
                    ),
                ]
            )
        lines += [render(_HEADER, rows, style="markdown"), ""]
    by_status = counts(results)
    lines.append(
        "Status: " + ", ".join(f"{n} {s}" for s, n in by_status.items() if n) + "."
        if findings
        else "No metric uses found."
    )
    done = [f for f in findings if f.action in (Action.REWRITTEN, Action.FIXED)]
    exact = [f for f in findings if f.action is Action.WOULD_REWRITE]
    fixes = [f for f in findings if f.action is Action.WOULD_FIX]
    if write:
        lines.append(
            f"Rewritten: {len(done)} uses in "
            f"{len({f.path for f in done})} files (formatting and comments kept)."
        )
    else:
        lines.append(
            f"`--write` rewrites {len(exact)} exactly equivalent uses"
            + (
                f"; with `--fix-wrong` also the {len(fixes)} fixable wrong ones "
                "(a corrected number)"
                if fixes and not fix_wrong
                else ""
            )
            + "."
        )
    for result in results:
        if result.crashed:
            lines.append(
                f"Could not analyse {result.path}: {result.error} (a limit of migrate; left "
                "untouched)."
            )
        elif result.error:
            where = f"{result.path}:{result.error_line}" if result.error_line else result.path
            lines.append(f"Could not parse {where}: {result.error} (left untouched).")
    lines.append(
        f"Exit status {status}: "
        + (
            "something needs attention (a use not ok and not rewritten, or a file that could not "
            "be parsed)."
            if status
            else "nothing needs attention."
        )
    )
    return "\n".join(lines) + "\n"


def render_json(results: Sequence, status: int, diff: str | None, *, write: bool) -> str:
    document = {
        "files": len(results),
        "findings": [f.as_dict() for r in results for f in r.findings],
        "errors": [
            {"path": r.path, "line": r.error_line, "error": r.error} for r in results if r.error
        ],
        "counts": counts(results),
        "written": write,
        "exit_status": status,
    }
    if diff is not None:
        document["diff"] = diff
    return json.dumps(document, indent=2) + "\n"
