"""`estimator-metrics migrate PATH...`: find every Estimator metric, say what it becomes.

Reads Python files without importing or running them (standard library
`ast`), reports each metric use with its status and replacement
(`_migrate_rules*`), and with `--write` rewrites the exactly equivalent ones
in place (`--fix-wrong`: also the wrong ones) through source-span edits
(`_migrate_edit`), then re-parses the result. Exit status: 0 when nothing
needs attention, 1 when something does (a file that cannot be parsed, or a
use whose status is not `ok` and that this run did not rewrite), 2 for usage
errors (argparse).
"""

from __future__ import annotations

import ast
import dataclasses
import io
import os
import sys
import tempfile
import tokenize
from typing import Optional, Sequence, TextIO

from estimator_metrics import _migrate_edit as edit
from estimator_metrics import _migrate_report as report
from estimator_metrics._migrate_find import Module
from estimator_metrics._migrate_finding import (
    CORRECTION, EXACT, IMPORTS, OK, Context, Finding)
from estimator_metrics._migrate_rules import classify_contrib, classify_v1
from estimator_metrics._migrate_rules_keras import (
    classify_add_metrics, classify_keras, classify_ok, hand_built_fbeta)

#: Third-party before first-party, as import sorters group them.
IMPORTS_ORDER = ("tf", "adapter")
_SKIPPED_DIRECTORIES = {"__pycache__", "node_modules", "site-packages"}
#: Finding.action values.
REWRITTEN, FIXED = "rewritten", "fixed"
WOULD_REWRITE, WOULD_FIX = "--write rewrites", "--write --fix-wrong fixes"
REPORT_ONLY = "report only"


@dataclasses.dataclass
class FileResult:
    path: str
    findings: list = dataclasses.field(default_factory=list)
    error: Optional[str] = None
    error_line: Optional[int] = None
    text: str = ""
    tree: Optional[ast.Module] = dataclasses.field(default=None, repr=False)
    new_text: Optional[str] = None  # The rewritten text, when anything is rewritten.
    encoding: str = "utf-8"


def python_files(paths: Sequence[str]) -> list:
    """The files named, and every *.py under the directories named (hidden, venvs skipped)."""
    found, seen = [], set()

    def add(path):
        if os.path.realpath(path) not in seen:
            seen.add(os.path.realpath(path))
            found.append(path)

    for path in paths:
        if not os.path.isdir(path):
            add(path)
            continue
        for root, directories, files in os.walk(path):
            directories[:] = sorted(
                d for d in directories if not d.startswith(".") and d not in _SKIPPED_DIRECTORIES
                and not os.path.exists(os.path.join(root, d, "pyvenv.cfg")))
            for name in sorted(files):
                if name.endswith(".py"):
                    add(os.path.join(root, name))
    return found


def analyze(path: str, text: str) -> FileResult:
    """Every metric use in `text` (the contents of `path`), or its parse error."""
    result = FileResult(path, text=text)
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as error:
        result.error = f"{type(error).__name__}: {error.msg}"
        result.error_line = error.lineno
        return result
    except ValueError as error:  # E.g. null bytes.
        result.error = f"ValueError: {error}"
        return result
    result.tree = tree
    module = Module(tree)
    ctx = Context.build(module, edit.Source(text), path)
    classifiers = {"v1": classify_v1, "contrib": classify_contrib, "keras": classify_keras,
                   "adapter": classify_ok, "builder": classify_ok,
                   "add_metrics": classify_add_metrics}
    findings = [classifiers[use.kind](use, ctx) for use in module.uses()]
    findings += hand_built_fbeta(ctx)
    result.findings = sorted(findings, key=lambda f: (f.line, f.column))
    return result


def plan(result: FileResult, *, write: bool, fix_wrong: bool) -> None:
    """Sets each finding's action and `result.new_text` (the text --write would write)."""
    chosen, taken, imports = [], [], []
    for finding in result.findings:
        wanted = finding.fix == EXACT or (finding.fix == CORRECTION and fix_wrong)
        if finding.status == OK:
            finding.action = ""
        elif not wanted:
            finding.action = WOULD_FIX if finding.fix == CORRECTION else REPORT_ONLY
        else:
            edits = [e for e in finding.edits if e not in taken]
            if edit.overlaps(edits, taken):
                finding.action = REPORT_ONLY
                finding.notes.append("overlaps another rewrite: run --write again")
                continue
            taken.extend(edits)
            imports.extend(i for i in finding.imports if i not in imports)
            chosen.append(finding)
    if not chosen:
        return
    source = edit.Source(result.text)
    if imports:
        statement = source.newline.join(IMPORTS[name] for name in IMPORTS_ORDER if name in imports)
        taken.append(edit.import_edit(source, result.tree, statement))
    try:
        new_text = edit.apply(result.text, taken)
        ast.parse(new_text, filename=result.path)
    except (ValueError, SyntaxError) as error:  # A bug of ours: touch nothing.
        for finding in chosen:
            finding.action = REPORT_ONLY
            finding.notes.append(f"rewrite not applied: {error}")
        return
    for finding in chosen:
        if finding.fix == EXACT:
            finding.action = REWRITTEN if write else WOULD_REWRITE
        else:
            finding.action = FIXED if write else WOULD_FIX
    result.new_text = new_text


def read(path: str) -> tuple:
    """`(text, encoding)`, decoded as Python does (PEP 263 cookie, BOM), newlines kept."""
    with open(path, "rb") as handle:
        data = handle.read()
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding), encoding


def write_file(path: str, text: str, encoding: str) -> None:
    """Replaces `path` atomically, keeping its permissions."""
    path = os.path.realpath(path)  # Through a symlink, not over it.
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".migrate-", suffix=".py")
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(text.encode(encoding))
        os.chmod(temporary, os.stat(path).st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def needs_attention(results: Sequence[FileResult]) -> bool:
    """A file that cannot be parsed, or a use that is not ok and was not rewritten now."""
    return any(r.error for r in results) or any(
        f.status != OK and f.action not in (REWRITTEN, FIXED)
        for r in results for f in r.findings)


def run(paths: Sequence[str], *, report_format: str = "md", write: bool = False,
        diff: bool = False, fix_wrong: bool = False, out: Optional[TextIO] = None) -> int:
    """The whole command: 0 when nothing needs attention, else 1."""
    out = out or sys.stdout
    results = []
    for path in python_files(paths):
        try:
            text, encoding = read(path)
        except (OSError, UnicodeDecodeError, SyntaxError) as error:
            results.append(FileResult(path, error=f"{type(error).__name__}: {error}"))
            continue
        result = analyze(path, text)
        result.encoding = encoding
        if not result.error:
            plan(result, write=write, fix_wrong=fix_wrong)
        results.append(result)
    diffs = "".join(edit.unified_diff(r.path, r.text, r.new_text)
                    for r in results if r.new_text is not None) if diff else None
    if write:
        for result in results:
            if result.new_text is not None and result.new_text != result.text:
                write_file(result.path, result.new_text, result.encoding)
    status = 1 if needs_attention(results) else 0
    if report_format == "json":
        out.write(report.render_json(results, status, diffs, write=write))
    else:
        if diffs:
            out.write(diffs + "\n")
        out.write(report.render_md(results, status, write=write, fix_wrong=fix_wrong))
    return status


__all__ = ["FileResult", "Finding", "analyze", "needs_attention", "plan", "python_files", "run"]
