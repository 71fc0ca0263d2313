"""One table renderer for every table the project prints or writes: plain text or Markdown.

It takes strings and returns a string: it imports nothing of ours and no TensorFlow, so
anything may use it, noxfile.py included (it runs without TensorFlow).

>>> print(render(["metric", "value"], [["accuracy", "0.938"], ["rmse", "12.5"]], "lr"))
metric    value
accuracy  0.938
rmse       12.5
>>> print(render(["metric", "value"], [["rmse", "12.5"]], "lr", style="ruled"))
metric | value
-------+------
rmse   |  12.5
>>> print(render(["metric", "value"], [["rmse", "12.5"]], "lr", style="markdown"))
| metric | value |
|:-------|------:|
| rmse   |  12.5 |
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: The styles `render` knows, by what separates the columns.
STYLES = ("text", "ruled", "markdown")
#: One letter per column in `render`'s `align`.
ALIGNMENTS = {"l": str.ljust, "r": str.rjust}


def render(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    align: str = "",
    *,
    style: str = "text",
) -> str:
    """The table of `headers` over `rows`, every column as wide as its widest cell.

    Args:
      headers: The column titles; their number is the table's number of columns.
      rows: One sequence of cells per row, as many as `headers`; a cell shows as
        `str(cell)`, so format numbers before (a fixed number of decimals lines them up).
      align: One letter per column, "l" (left) or "r" (right); columns past its end are
        left-aligned. "r" suits numbers: their last digits line up.
      style: "text": columns two spaces apart, no trailing spaces (terminal output).
        "ruled": " | " between columns and a "-+-" rule under the headers.
        "markdown": a GitHub Markdown table whose alignment row (":---" left, "---:"
        right) carries `align`; cells are padded so the raw text lines up too, and a
        "|" in a cell is escaped.

    Raises:
      ValueError: an unknown style or alignment letter, no headers, more letters than
        columns, a row with another number of cells than `headers`, or a cell with a line
        break.
    """
    if style not in STYLES:
        raise ValueError(f"Expected `style` in {STYLES}, received {style!r}")
    if not headers:
        raise ValueError(f"`headers` names no column, received {headers!r}")
    table = [_cells(headers, "headers", len(headers), style)]
    table += [_cells(row, f"rows[{i}]", len(headers), style) for i, row in enumerate(rows)]
    letters = _column_alignment(align, len(headers))
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = [
        [ALIGNMENTS[a](cell, width) for a, cell, width in zip(letters, row, widths)]
        for row in table
    ]
    if style == "markdown":
        rule = [
            ":" + "-" * (width + 1) if a == "l" else "-" * (width + 1) + ":"
            for a, width in zip(letters, widths)
        ]
        out = ["| " + " | ".join(line) + " |" for line in lines]
        return "\n".join([out[0], "|" + "|".join(rule) + "|", *out[1:]])
    if style == "ruled":
        out = [" | ".join(line).rstrip() for line in lines]
        return "\n".join([out[0], "-+-".join("-" * width for width in widths), *out[1:]])
    return "\n".join("  ".join(line).rstrip() for line in lines)


def _column_alignment(align: str, columns: int) -> str:
    """`align` checked, and filled up with "l" to one letter per column."""
    unknown = sorted(set(align) - set(ALIGNMENTS))
    if unknown:
        raise ValueError(
            f"`align` takes one of {sorted(ALIGNMENTS)} per column, received {align!r} "
            f"(unknown: {', '.join(map(repr, unknown))})"
        )
    if len(align) > columns:
        raise ValueError(
            f"`align` has {len(align)} letters for {columns} columns, received {align!r}"
        )
    return align.ljust(columns, "l")


def _cells(row: Sequence[object], where: str, columns: int, style: str) -> list[str]:
    """The cells of one row as strings, checked; `where` names the row in errors."""
    cells = [str(cell) for cell in row]
    if len(cells) != columns:
        raise ValueError(
            f"`{where}` has {len(cells)} cells for {columns} columns, received {cells!r}"
        )
    for i, cell in enumerate(cells):
        if "\n" in cell or "\r" in cell:
            # A line break would split the row, in a terminal and in Markdown alike.
            raise ValueError(f"`{where}` cell {i} holds a line break, received {cell!r}")
    if style == "markdown":
        # An unescaped "|" would end the cell early and shift every cell after it.
        cells = [cell.replace("|", "\\|") for cell in cells]
    return cells
