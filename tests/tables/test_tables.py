"""estimator_metrics._tables: one renderer for the demo's, the cluster's and the matrix's tables."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from estimator_metrics._tables import render

HEADERS = ("metric", "value", "note")
ROWS = [("accuracy", "0.938", "ok"), ("mape", "12.5", "a long note")]


def test_text_pads_each_column_to_its_widest_cell_and_leaves_no_trailing_spaces():
    assert render(HEADERS, ROWS, "lr") == (
        "metric    value  note\n"
        "accuracy  0.938  ok\n"
        "mape       12.5  a long note"
    )  # fmt: skip


def test_ruled_separates_columns_with_bars_and_rules_the_headers():
    assert render(HEADERS, ROWS, "lr", style="ruled") == (
        "metric   | value | note\n"
        "---------+-------+------------\n"
        "accuracy | 0.938 | ok\n"
        "mape     |  12.5 | a long note"
    )  # fmt: skip


def test_markdown_carries_the_alignment_in_its_rule_and_pads_the_raw_text():
    assert render(HEADERS, ROWS, "lr", style="markdown") == (
        "| metric   | value | note        |\n"
        "|:---------|------:|:------------|\n"
        "| accuracy | 0.938 | ok          |\n"
        "| mape     |  12.5 | a long note |"
    )  # fmt: skip


def test_a_header_wider_than_its_cells_sets_the_width_and_right_aligns_too():
    assert render(["name", "examples seen"], [["a", 7], ["b", 1234]], "lr") == (
        "name  examples seen\n"
        "a                 7\n"
        "b              1234"
    )  # fmt: skip


def test_cells_show_as_str_and_no_rows_is_a_header_only_table():
    assert render(["n", "x"], [[3, None]]) == "n  x\n3  None"
    assert render(["n", "x"], [], style="ruled") == "n | x\n--+--"


def test_a_bar_in_a_markdown_cell_is_escaped_and_counted_in_the_width():
    table = render(["a|b", "c"], [["|x|", "y"]], style="markdown")
    assert table.splitlines() == ["| a\\|b  | c |", "|:------|:--|", "| \\|x\\| | y |"]
    assert render(["a|b"], [["|x|"]]) == "a|b\n|x|"  # Text keeps it as it is.


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"style": "html"}, "Expected `style` in ('text', 'ruled', 'markdown'), received 'html'"),
        ({"align": "lc"}, "per column, received 'lc' (unknown: 'c')"),
        ({"align": "lrll"}, "`align` has 4 letters for 3 columns, received 'lrll'"),
        ({"headers": ()}, "`headers` names no column, received ()"),
        (
            {"rows": [("a", "1", "x"), ("b", "2")]},
            "`rows[1]` has 2 cells for 3 columns, received ['b', '2']",
        ),
        ({"rows": [("a", "1\n2", "x")]}, "`rows[0]` cell 1 holds a line break, received '1\\n2'"),
    ],
)
def test_bad_arguments_are_refused_with_the_values_seen(kwargs, message):
    arguments = {"headers": HEADERS, "rows": ROWS, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        render(**arguments)


def test_it_imports_no_tensorflow_and_nothing_else_of_ours():
    # noxfile.py imports it in a venv where importing TensorFlow would cost seconds per run.
    code = (
        "import json, sys\n"
        "import estimator_metrics._tables\n"
        "print(json.dumps(sorted(m for m in sys.modules\n"
        "    if m.partition('.')[0] in {'estimator_metrics', 'tensorflow', 'numpy', 'keras'})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == ["estimator_metrics", "estimator_metrics._tables"]


# The docs show the demo's two tables (docs/examples.md), the cluster's (docs/distributed.md)
# and `make matrix`'s (docs/compatibility.md): each must be laid out as render lays it out
# today (a change of layout updates the docs with it).
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _docs_tables(first_line: re.Pattern) -> list[list[str]]:
    """Each block of lines of a docs page that starts with a match of `first_line`, up to the
    next blank line or code fence."""
    blocks = []
    for page in sorted(DOCS.glob("**/*.md")):
        lines = page.read_text(encoding="utf-8").splitlines()
        for start in (i for i, line in enumerate(lines) if first_line.match(line)):
            end = next(i for i in range(start, len(lines)) if lines[i].strip() in ("", "```"))
            blocks.append(lines[start:end])
    return blocks


@pytest.mark.parametrize(
    "first_line, style, align, cells",
    [
        ("example +metric", "text", "llrrrl", lambda line: re.split(r" {2,}", line)),
        ("metric +evaluator task", "text", "lrrrl", lambda line: re.split(r" {2,}", line)),
        (
            "\\| Python +\\| TensorFlow line",
            "markdown",
            "llllllrrrrl",
            lambda line: line[2:-2].split(" | "),
        ),
    ],
)
def test_the_docs_tables_are_laid_out_as_render_lays_them_out(first_line, style, align, cells):
    blocks = _docs_tables(re.compile(first_line))
    assert blocks, f"no table in docs/ starts with {first_line!r}"
    for block in blocks:
        rows = [[cell.strip() for cell in cells(line)] for line in block]
        if style != "text":  # the rule under the headers is render's to draw
            del rows[1]
        assert render(rows[0], rows[1:], align, style=style) == "\n".join(block)
