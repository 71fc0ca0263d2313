"""migrate: files in, findings and rewrites planned, files written, report out.

Each file is one task of a process pool (LibCST's codemod runner is the model): a
worker reads it, skips it unparsed when it cannot hold a metric use, analyses and
plans it, writes it or diffs it, and sends back only what the report needs, so the
memory of a run is bounded by the largest file, not by the tree.
"""

from __future__ import annotations

import ast
import concurrent.futures
import io
import os
import re
import sys
import tempfile
import tokenize
from collections.abc import Sequence
from typing import TextIO

import libcst as cst
import tqdm

from estimator_metrics.migrate import _edit as edit
from estimator_metrics.migrate import _report as report
from estimator_metrics.migrate._context import Context
from estimator_metrics.migrate._model import Action, FileResult, Fix, Status
from estimator_metrics.migrate._registry import all_uses, classify

_SKIPPED_DIRECTORIES = {"__pycache__", "node_modules", "site-packages"}


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
                d
                for d in directories
                if not d.startswith(".")
                and d not in _SKIPPED_DIRECTORIES
                and not os.path.exists(os.path.join(root, d, "pyvenv.cfg"))
            )
            for name in sorted(files):
                if name.endswith(".py"):
                    add(os.path.join(root, name))
    return found


def analyze(path: str, text: str) -> FileResult:
    """Every metric use in `text` (the contents of `path`), or its parse error."""
    result = FileResult(path, text=text)
    try:
        tree = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        result.error, result.error_line = _syntax_error(text, path, error)
        return result
    ctx = Context.build(tree, text, path)
    result.module = ctx.module
    findings = [classify(use, ctx) for use in all_uses(ctx)]
    result.findings = sorted(findings, key=lambda f: (f.line, f.column))
    return result


def _syntax_error(text: str, path: str, error: cst.ParserSyntaxError) -> tuple:
    """Python's own message for a file LibCST cannot parse (the compiler only parses it)."""
    try:
        compile(text, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as python_error:
        return f"SyntaxError: {python_error.msg}", python_error.lineno
    except ValueError as python_error:  # E.g. null bytes.
        return f"ValueError: {python_error}", None
    return f"SyntaxError: {error.message}", error.raw_line


def plan(result: FileResult, *, write: bool, fix_wrong: bool) -> None:
    """Sets each finding's action and `result.new_text` (the text --write would write)."""
    chosen, taken, imports = [], {}, []
    for finding in result.findings:
        wanted = finding.fix is Fix.EXACT or (finding.fix is Fix.CORRECTION and fix_wrong)
        if finding.status is Status.OK:
            finding.action = Action.NONE
        elif not wanted or not finding.edits:
            finding.action = (
                Action.WOULD_FIX if finding.fix is Fix.CORRECTION else (Action.REPORT_ONLY)
            )
        elif edit.overlapping(result.module, finding.edits, taken):
            finding.action = Action.REPORT_ONLY
            finding.notes.append("overlaps another rewrite: run --write again")
        else:
            taken.update(finding.edits)
            imports.extend(i for i in finding.imports if i not in imports)
            chosen.append(finding)
    if not chosen:
        return
    try:
        new_text = edit.apply(result.module.tree, taken, imports)
        cst.parse_module(new_text)
    except (cst.ParserSyntaxError, ValueError, TypeError) as error:  # A bug of ours: touch nothing.
        for finding in chosen:
            finding.action = Action.REPORT_ONLY
            finding.notes.append(f"rewrite not applied: {error}")
        return
    for finding in chosen:
        if finding.fix is Fix.EXACT:
            finding.action = Action.REWRITTEN if write else Action.WOULD_REWRITE
        else:
            finding.action = Action.FIXED if write else Action.WOULD_FIX
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
    handle, temporary = tempfile.mkstemp(
        dir=os.path.dirname(path), prefix=".migrate-", suffix=".py"
    )
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
        f.status is not Status.OK and f.action not in (Action.REWRITTEN, Action.FIXED)
        for r in results
        for f in r.findings
    )


def may_hold_a_use(text: str) -> bool:
    """Whether `text` can hold a metric use at all: every streaming API migrate reads is
    reached through a name with "metric" in it (tf.metrics, keras.metrics, tf_metrics,
    MetricSpec, add_metrics, calibration_metrics, estimator_metrics), and tfp's one-shot ECE
    reaches an evaluation only through a metric dict or `eval_metric_ops`, so a file without
    that word is skipped unparsed."""
    return _METRIC.search(text) is not None


_METRIC = re.compile("metric", re.IGNORECASE)
#: Seconds before the progress bar shows: short runs print nothing.
PROGRESS_DELAY = 0.5


def process(path: str, *, write: bool, diff: bool, fix_wrong: bool) -> FileResult:
    """One file, start to end: read, analysed, planned, diffed, written; returns the
    summary the report needs, so nothing of the file is kept after it."""
    try:
        text, encoding = read(path)
    except (OSError, UnicodeDecodeError, SyntaxError) as error:
        return FileResult(path, error=f"{type(error).__name__}: {error}")
    if not may_hold_a_use(text):
        return FileResult(path, encoding=encoding)
    try:
        result = analyze(path, text)
        result.encoding = encoding
        if not result.error:
            plan(result, write=write, fix_wrong=fix_wrong)
        if diff and result.new_text is not None:
            result.diff = edit.unified_diff(path, text, result.new_text)
        if write and result.new_text is not None and result.new_text != text:
            write_file(path, result.new_text, encoding)
    except Exception as error:
        # A pathologically nested file (LibCST recurses), or a bug of ours: reported as such,
        # and the file is left as it was (a write happens last, after every step succeeded).
        return FileResult(path, error=f"{type(error).__name__}: {error}", crashed=True)
    return result.summary()


def default_jobs() -> int:
    """The cores this process may run on (a container's CPU set, not the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _executor(jobs: int, files: int) -> concurrent.futures.Executor:
    """LibCST's codemod runner does the same: a process pool of `jobs` workers, one file
    per task, and no pool at all for one job or one file."""
    if jobs <= 1 or files <= 1:
        return _InProcess()
    cst.parse_module("")  # Warm the parser before the workers fork, as LibCST's runner does.
    return concurrent.futures.ProcessPoolExecutor(max_workers=min(jobs, files))


class _InProcess(concurrent.futures.Executor):
    """An executor that runs each task when it is submitted."""

    def submit(self, fn, /, *args, **kwargs):
        future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


def process_all(
    files: Sequence[str],
    *,
    write: bool = False,
    diff: bool = False,
    fix_wrong: bool = False,
    jobs: int | None = None,
    progress: TextIO | None = None,
) -> list:
    """`process` for every file, in `jobs` processes; the summaries in the order of `files`.

    A progress bar goes to `progress` (default: stderr) when it is a terminal.
    """
    jobs = default_jobs() if jobs is None else jobs
    stream = sys.stderr if progress is None else progress
    results: list = [None] * len(files)
    options = {"write": write, "diff": diff, "fix_wrong": fix_wrong}
    with _executor(jobs, len(files)) as pool:
        # Every task submitted before the bar starts its monitor thread: with the fork start
        # method, the workers are forked at the first submit, from a process of one thread.
        futures = {pool.submit(process, path, **options): i for i, path in enumerate(files)}
        bar = tqdm.tqdm(
            total=len(files),
            unit="file",
            file=stream,
            disable=not _is_terminal(stream),
            delay=PROGRESS_DELAY,
            leave=False,
        )
        with bar:
            for future in concurrent.futures.as_completed(futures):
                results[futures[future]] = future.result()
                bar.update()
    return results


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def run(
    paths: Sequence[str],
    *,
    report_format: str = "md",
    write: bool = False,
    diff: bool = False,
    fix_wrong: bool = False,
    jobs: int | None = None,
    out: TextIO | None = None,
    progress: TextIO | None = None,
) -> int:
    """The whole command: 0 when nothing needs attention, else 1."""
    out = out or sys.stdout
    results = process_all(
        python_files(paths),
        write=write,
        diff=diff,
        fix_wrong=fix_wrong,
        jobs=jobs,
        progress=progress,
    )
    diffs = "".join(r.diff for r in results if r.diff) if diff else None
    status = 1 if needs_attention(results) else 0
    if report_format == "json":
        out.write(report.render_json(results, status, diffs, write=write))
    else:
        if diffs:
            out.write(diffs + "\n")
        out.write(report.render_md(results, status, write=write, fix_wrong=fix_wrong))
    return status
