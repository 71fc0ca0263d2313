"""Every docs address `migrate` can print names a page under docs/ and one of its headings,
and no text migrate shows a user points at a test file or the README."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from estimator_metrics import _docs
from estimator_metrics.migrate import _registry
from support.migrate import FIXTURES, report

DOCS = Path(__file__).parents[2] / "docs"


def slugify(text: str) -> str:
    """The anchor Python-Markdown's toc extension (mkdocs' default) gives a heading."""
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: str) -> set:
    lines = (DOCS / page).read_text().splitlines()
    fenced, found = False, set()
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            found.add(slugify(line.lstrip("#").strip()))
    return found


def _check(address: str) -> None:
    page, _, anchor = address.partition("#")
    assert (DOCS / page).is_file(), f"{address}: no docs/{page}"
    if anchor:
        assert anchor in anchors(page), f"{address}: no heading with anchor #{anchor} in {page}"


def test_slugify_is_mkdocs():
    assert slugify("Precision, recall") == "precision-recall"
    assert (
        slugify("Third-party `tf_metrics` (NER projects)") == "third-party-tf_metrics-ner-projects"
    )


@pytest.mark.parametrize("key", sorted(k for k, r in _registry.TABLE.items() if r.docs))
def test_every_rule_points_at_a_docs_heading(key):
    _check(_registry.TABLE[key].docs)


def test_every_address_in_the_fixture_report_is_a_docs_heading(capsys):
    _, document = report(capsys, FIXTURES)
    addresses = {f["docs"] for f in document["findings"] if f["docs"]}
    assert len(addresses) >= 15
    for address in addresses:
        assert address.startswith(_docs.SITE), address
        page = address[len(_docs.SITE) :]
        path, _, anchor = page.partition("#")
        _check(f"{path.rstrip('/') or 'index'}.md" + (f"#{anchor}" if anchor else ""))
    every_text = " ".join(
        " ".join([f["metric"], f["replacement"], f["same_number"], *f["notes"]])
        for f in document["findings"]
    )
    assert "tests/" not in every_text and "test_" not in every_text
    assert "README" not in every_text and "docs/" not in every_text
