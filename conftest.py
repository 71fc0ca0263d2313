"""Sybil runs the examples of README.md and docs/*.md that claim output (tests/support/docs.py):
`pycon` doctest blocks and `console` transcripts. A block that applies to one flavour only is
preceded by a skip directive over the names below, e.g.
`<!-- skip: next if(not ESTIMATOR, reason="needs tf.estimator") -->`; a transcript of what one
TensorFlow line prints (versions, numbers that move with the line) names that line, e.g.
`<!-- skip: next if(TF_LINE != (2, 15), reason="...") -->`.
"""

import doctest
import importlib.metadata
import importlib.util

import pytest
from sybil import Sybil
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser

from support.docs import run_console


class DoctestBlocks(PythonCodeBlockParser):
    """`pycon` blocks as doctests; nothing else (plain `python` blocks are fragments of a
    model_fn or a model, shown, not run)."""

    def __init__(self):
        super().__init__(doctest_optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        self.codeblock_parser.language = "pycon"

    def __call__(self, document):
        for block in self.codeblock_parser(document):
            if not block.parsed.startswith(">>>"):
                raise ValueError(f"{document.path}: a pycon block must start with >>>")
            for region in self.doctest_parser(block.parsed, document.path):
                region.adjust(block, block.parsed)
                yield region


def _tensorflow_line():
    """(major, minor) of the installed TensorFlow, read from its metadata (no import)."""
    for distribution in ("tensorflow-cpu", "tensorflow"):
        try:
            version = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
        return tuple(int(part) for part in version.split(".")[:2])
    return None


def _setup(namespace):
    namespace["ESTIMATOR"] = importlib.util.find_spec("tensorflow_estimator") is not None
    namespace["TF_LINE"] = _tensorflow_line()


pytest_collect_file = Sybil(
    parsers=[DoctestBlocks(), CodeBlockParser("console", run_console), SkipParser()],
    patterns=["README.md", "docs/*.md", "docs/**/*.md"],
    setup=_setup,
).pytest()


def pytest_collection_modifyitems(items):
    # The docs' examples say themselves which flavour they need (skip directives), so they run
    # in the Keras 3 environment too.
    for item in items:
        if type(item).__module__.startswith("sybil"):
            item.add_marker(pytest.mark.keras3)
