"""migrate: text edits on exact source spans, applied back to front.

An `Edit` replaces characters `[start, end)` of the original text. Offsets
come from the `ast` positions of the original file (`lineno`, `col_offset`
in UTF-8 bytes, `end_lineno`, `end_col_offset`), so everything outside the
replaced spans - formatting, comments, blank lines, line endings - stays as
it was. `apply` refuses overlapping edits; the caller re-parses the result.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import io
import re
import tokenize
from typing import Optional, Sequence

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclasses.dataclass(frozen=True, order=True)
class Edit:
    start: int
    end: int
    text: str


class Source:
    """A file's text with the offsets of its lines, as Python's tokenizer splits them."""

    def __init__(self, text: str):
        self.text = text
        self._starts = [0] + [match.end() for match in _LINE_END.finditer(text)]
        match = _LINE_END.search(text)
        self.newline = match.group() if match else "\n"

    def offset(self, lineno: int, col: int) -> int:
        """Character offset of an ast (lineno, UTF-8 byte column) position."""
        start = self._starts[lineno - 1]
        end = self._starts[lineno] if lineno < len(self._starts) else len(self.text)
        line = self.text[start:end]
        if line.isascii():
            return start + col
        return start + len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.offset(node.lineno, node.col_offset),
                self.offset(node.end_lineno, node.end_col_offset))

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def flat(self, node: ast.AST) -> str:
        """The node's source on one line, without comments (for reports)."""
        return flatten(self.segment(node))

    @property
    def max_line(self) -> int:
        """The longest line (at least 79 characters): rewritten lines wrap beyond it."""
        return max([79] + [len(line) for line in _LINE_END.split(self.text)])

    def line_bounds(self, offset: int) -> tuple[int, int]:
        """`[start, end)` of the line holding `offset`, line break excluded."""
        start = max(self.text.rfind("\n", 0, offset), self.text.rfind("\r", 0, offset)) + 1
        match = _LINE_END.search(self.text, offset)
        return start, match.start() if match else len(self.text)

    def line_start(self, lineno: int) -> int:
        return self._starts[lineno - 1] if lineno - 1 < len(self._starts) else len(self.text)

    def line_count(self) -> int:
        return len(self._starts)


def flatten(text: str) -> str:
    """Code on one line: comments dropped, each whitespace run one space."""
    if "#" in text:
        tokens = []
        try:
            for token in tokenize.generate_tokens(io.StringIO(text).readline):
                tokens.append(token)
        except (tokenize.TokenError, IndentationError, SyntaxError):
            pass
        lines = text.splitlines(keepends=True)
        for token in reversed([t for t in tokens if t.type == tokenize.COMMENT]):
            (row, col), (_, end_col) = token.start, token.end
            lines[row - 1] = lines[row - 1][:col] + lines[row - 1][end_col:]
        text = "".join(lines)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"([(\[{]) ", r"\1", re.sub(r",? ([)\]}])", r"\1", text))


def replace(source: Source, node: ast.AST, text: str) -> Edit:
    return Edit(*source.span(node), text)


def insert_before(source: Source, node: ast.AST, text: str) -> Edit:
    start, _ = source.span(node)
    return Edit(start, start, text)


def keyword_name(source: Source, keyword: ast.keyword, new_name: str) -> Edit:
    """Renames `old=value` to `new_name=value` (the keyword's name only)."""
    start = source.offset(keyword.lineno, keyword.col_offset)
    return Edit(start, start + len(keyword.arg), new_name)


def argument_nodes(call: ast.Call) -> list[ast.AST]:
    """Positional and keyword argument nodes of `call`, in source order."""
    return sorted([*call.args, *call.keywords], key=lambda n: (n.lineno, n.col_offset))


def remove_argument(source: Source, call: ast.Call, node: ast.AST) -> Optional[Edit]:
    """Deletes one argument and the comma before it; None for the first argument."""
    nodes = argument_nodes(call)
    index = next(i for i, n in enumerate(nodes) if n is node)
    if index == 0:
        return None
    _, previous_end = source.span(nodes[index - 1])
    _, end = source.span(node)
    return Edit(previous_end, end, "")


def conflict(first: Edit, second: Edit) -> bool:
    """Overlapping spans, or two insertions at one offset (their order is ambiguous)."""
    if first.start < second.end and second.start < first.end:
        return True
    return first.start == first.end == second.start == second.end


def apply(text: str, edits: Sequence[Edit]) -> str:
    """`text` with every edit applied, from the end backwards; conflicts raise."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for index, first in enumerate(ordered):
        for second in ordered[index + 1:]:
            if conflict(first, second):
                raise ValueError(f"conflicting edits: {first} and {second}")
    for edit in reversed(ordered):
        text = text[:edit.start] + edit.text + text[edit.end:]
    return text


def overlaps(edits: Sequence[Edit], taken: Sequence[Edit]) -> bool:
    """Whether any of `edits` conflicts with any of `taken`."""
    return any(conflict(edit, other) for edit in edits for other in taken)


def import_edit(source: Source, tree: ast.Module, statement: str) -> Edit:
    """Inserts `statement` on its own line after the module's leading imports.

    After the last top-level import that comes before the first function or
    class; without one, after the docstring; else at the top.
    """
    anchor = None
    for index, node in enumerate(tree.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            anchor = node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            break
        elif index == 0 and isinstance(node, ast.Expr) and isinstance(
                getattr(node, "value", None), ast.Constant) and isinstance(node.value.value, str):
            anchor = anchor or node
    if anchor is None:  # Below a shebang, an encoding cookie, a license header.
        match = re.match(r"(?:[ \t]*#[^\r\n]*(?:\r\n|\r|\n))*", source.text)
        return Edit(match.end(), match.end(), statement + source.newline)
    position = source.line_start(anchor.end_lineno + 1)
    if anchor.end_lineno >= source.line_count() or position > len(source.text):
        position = len(source.text)
    prefix = "" if source.text[:position].endswith(("\n", "\r")) else source.newline
    return Edit(position, position, prefix + statement + source.newline)


def relayout(source: Source, call: ast.Call, edits: list, insertion: Edit) -> list:
    """`edits` with the call's layout kept readable.

    `insertion` (new leading arguments, ending in ", ") is one of `edits`.
    When the line it lands on would grow past `source.max_line`, the new
    arguments go on their own line with a 4-space hanging indent. Argument
    lines aligned under the old "(" (visual indent) move with it.
    """
    paren = source.text.find("(", source.span(call.func)[1])
    line_start, line_end = source.line_bounds(insertion.start)
    inside = [e for e in edits if line_start <= e.start and e.end <= line_end]
    new_line = apply(source.text[line_start:line_end],
                     [Edit(e.start - line_start, e.end - line_start, e.text) for e in inside])
    indent = re.match(r"[ \t]*", source.text[line_start:line_end]).group()
    first_on_paren_line = source.line_bounds(paren)[0] == line_start
    result = list(edits)
    target = None  # The column continuation lines should start at.
    if len(new_line) > source.max_line:
        hang = indent + "    " if first_on_paren_line else indent
        text = insertion.text.rstrip()
        # What follows the new arguments on their line, after the other edits.
        rest = apply(source.text[insertion.start:line_end],
                     [Edit(e.start - insertion.start, e.end - insertion.start, e.text)
                      for e in inside if e.start >= insertion.start and e is not insertion])
        joined = len(hang) + len(insertion.text) + len(rest) <= source.max_line
        after = " " if joined else source.newline + hang
        text = (f"{source.newline}{hang}{text}{after}" if first_on_paren_line
                else f"{text}{after}")
        result[result.index(insertion)] = Edit(insertion.start, insertion.end, text)
        target = len(hang)
        if joined and not first_on_paren_line:
            return result
    if not first_on_paren_line:
        return result
    paren_line_start, _ = source.line_bounds(paren)
    old_column = paren - paren_line_start
    if target is None:
        before = [Edit(e.start - paren_line_start, e.end - paren_line_start, e.text)
                  for e in edits if paren_line_start <= e.start and e.end <= paren]
        target = len(apply(source.text[paren_line_start:paren], before)) + 1
    if target == old_column + 1:
        return result
    _, call_end = source.span(call)
    for match in _LINE_END.finditer(source.text, paren, call_end):
        start = match.end()
        spaces = re.match(r"[ ]*", source.text[start:call_end]).group()
        reindent = Edit(start, start + len(spaces), " " * target)
        if len(spaces) == old_column + 1 and not overlaps([reindent], result):
            result.append(reindent)
    return result


def unified_diff(path: str, before: str, after: str) -> str:
    old, new = (path, path) if path.startswith("/") else (f"a/{path}", f"b/{path}")
    return "".join(difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=old, tofile=new))
