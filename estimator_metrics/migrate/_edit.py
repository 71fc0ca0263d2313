"""migrate: formatting-preserving rewrites with LibCST - new calls, their layout, imports.

A finding's edits map original nodes to new ones; `apply` swaps them in with
one `CSTTransformer` pass, so every byte outside the replaced nodes
(comments, blank lines, line endings, quotes) is kept as parsed; imports are
added with LibCST's `AddImportsVisitor`. A new call
reuses the original argument nodes and their whitespace. When the arguments
it adds make a line longer than the file's longest line (at least 79), they
go on their own line with a 4-space hanging indent; argument lines aligned
under the old "(" (visual indent) follow it.
"""

from __future__ import annotations

import difflib
import io
import re
import tokenize
from collections.abc import Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from estimator_metrics.migrate._model import IMPORTS, IMPORTS_ORDER


def flatten(text: str) -> str:
    """Code on one line: comments dropped, each whitespace run one space.

    >>> flatten("f(a,  # first\\n  b)")
    'f(a, b)'
    """
    if "#" in text:
        lines = text.splitlines(keepends=True)
        try:
            comments = [
                t
                for t in tokenize.generate_tokens(io.StringIO(text).readline)
                if t.type == tokenize.COMMENT
            ]
        except (tokenize.TokenError, IndentationError, SyntaxError):
            comments = []
        for token in reversed(comments):
            (row, col), (_, end_col) = token.start, token.end
            lines[row - 1] = lines[row - 1][:col] + lines[row - 1][end_col:]
        text = "".join(lines)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"([(\[{]) ", r"\1", re.sub(r",? ([)\]}])", r"\1", text))


def _newline_and(column: int, comment: cst.TrailingWhitespace | None = None):
    """A line break followed by `column` spaces (absolute, not block-relative)."""
    return cst.ParenthesizedWhitespace(
        first_line=comment or cst.TrailingWhitespace(),
        empty_lines=[],
        indent=False,
        last_line=cst.SimpleWhitespace(" " * column),
    )


class Layout:
    """Line lengths and columns of one module's source, for laying out new calls."""

    def __init__(self, module, text: str):
        self.module = module  # _module.Module
        self.lines = text.splitlines()
        self.max_line = max([79] + [len(line) for line in self.lines])

    def _line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def _rendered_lines(self, original: cst.CSTNode, new: cst.CSTNode, before: str) -> list:
        """The source lines of `original`, with `before` + `new` in its place."""
        start = self.module.span(original)[0]
        end = self.module.span(original)[1]
        prefix = self._line(start.line)[: start.column]
        suffix = self._line(end.line)[end.column :]
        return (prefix + before + self.module.tree.code_for_node(new) + suffix).splitlines()

    def call(
        self,
        original: cst.Call,
        func: str,
        leading: Sequence[str],
        args: Sequence[cst.Arg],
        before: str = "",
    ) -> cst.Call:
        """`func(<leading>, <args>)` in the place and layout of `original`.

        `args` are nodes of `original.args` (possibly renamed) in their order;
        `before` is text the caller puts in front of the call on its line.
        """

        def fits(new: cst.Call, lines: int) -> bool:
            return all(
                len(line) <= self.max_line
                for line in self._rendered_lines(original, new, before)[: lines + 1]
            )

        new_args = [
            cst.Arg(
                cst.parse_expression(text),
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
            )
            for text in leading
        ]
        call = original.with_changes(func=cst.parse_expression(func), args=[*new_args, *args])
        paren = self.module.span(original.func)[1]
        on_paren_line = not isinstance(original.whitespace_before_args, cst.ParenthesizedWhitespace)
        old_column = paren.column + 1  # Where visually indented arguments start.
        new_column = old_column + len(func) - len(self.module.code(original.func))
        if not on_paren_line:
            if fits(call, 2):
                return call
            column = self.module.span(original.args[0])[0].column if original.args else 0
            new_args[-1] = new_args[-1].with_changes(
                comma=cst.Comma(whitespace_after=_newline_and(column))
            )
            return call.with_changes(args=[*new_args, *args])
        call = self._visual(original, call, old_column, new_column, len(new_args))
        if fits(call, 0):
            return call
        # Too long: the new arguments go on their own line, hanging-indented.
        start = self.module.span(original)[0]
        indent = len(self._line(start.line)) - len(self._line(start.line).lstrip())
        hang = indent + 4
        call = self._visual(
            original,
            call.with_changes(whitespace_before_args=_newline_and(hang)),
            old_column,
            hang,
            len(new_args),
        )
        if not fits(call, 1):
            new_args[-1] = new_args[-1].with_changes(
                comma=cst.Comma(whitespace_after=_newline_and(hang))
            )
            call = call.with_changes(args=[*new_args, *call.args[len(new_args) :]])
        return call

    def _visual(
        self, original: cst.Call, call: cst.Call, old_column: int, new_column: int, added: int
    ) -> cst.Call:
        """Argument lines that started under the old "(" + 1 start at `new_column`."""
        if old_column == new_column:
            return call
        args = list(call.args)
        for index in range(added, len(args) - 1):
            comma = args[index].comma
            following = args[index + 1]
            if not isinstance(comma, cst.Comma) or not isinstance(
                comma.whitespace_after, cst.ParenthesizedWhitespace
            ):
                continue
            # Rewritten arguments are new nodes; their keyword and value nodes are the originals.
            first = following.keyword if following.keyword is not None else following.value
            if self.module.has_span(first) and self.module.span(first)[0].column == old_column:
                args[index] = args[index].with_changes(
                    comma=comma.with_changes(
                        whitespace_after=_newline_and(new_column, comma.whitespace_after.first_line)
                    )
                )
        return call.with_changes(args=args)


def remove_args(args: list, removed: Sequence[cst.Arg]) -> list | None:
    """`args` without `removed`; each removed argument's comma moves to the one before.

    None when the first argument would go (nothing before it to take the comma).
    """
    result = list(args)
    for argument in removed:
        index = next(i for i, a in enumerate(result) if a is argument)
        if index == 0:
            return None
        result[index - 1] = result[index - 1].with_changes(comma=result[index].comma)
        del result[index]
    return result


class _Replace(cst.CSTTransformer):
    """Swaps in each edit: a new node, or a function of the node as updated so far (so an
    edit can keep the rewrites made inside it)."""

    def __init__(self, edits: dict):
        super().__init__()
        self.edits = edits

    def on_leave(self, original_node, updated_node):
        edit = self.edits.get(original_node, updated_node)
        return edit(updated_node) if callable(edit) else edit


def apply(tree: cst.Module, edits: dict, imports: Sequence[str]) -> str:
    """The module's code with `edits` ({original node: new node}) and `imports` added.

    Imports go through LibCST's `AddImportsVisitor`: after the module's leading imports
    (merged into an existing `from estimator_metrics import ...`), third-party first.
    """
    new = tree.visit(_Replace(edits)) if edits else tree
    wanted = [name for name in IMPORTS_ORDER if name in imports]
    if wanted:
        context = CodemodContext()
        for name in wanted:
            module, obj, asname = IMPORTS[name]
            AddImportsVisitor.add_needed_import(context, module, obj, asname)
        new = AddImportsVisitor(context).transform_module(new)
    return new.code


def overlapping(module, first: dict, second: dict) -> bool:
    """Whether a node one edit set replaces is, holds or lies inside one the other replaces
    (an edit that is a function of the updated node keeps the edits inside it)."""
    for edits, others in ((first, second), (second, first)):
        for node in edits:
            if node in others or any(
                a in others and not callable(others[a]) for a in module.ancestors(node)
            ):
                return True
    return False


def unified_diff(path: str, before: str, after: str) -> str:
    old, new = (path, path) if path.startswith("/") else (f"a/{path}", f"b/{path}")
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=old,
            tofile=new,
        )
    )
