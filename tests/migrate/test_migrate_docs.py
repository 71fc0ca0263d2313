"""What migrate shows a user points at the docs site, never at a test file or the README
(tests/docs/test_links.py checks that each section its rules name exists)."""

from __future__ import annotations

from estimator_metrics import _docs
from estimator_metrics.migrate import _registry
from support.migrate import FIXTURES, report


def test_every_finding_points_at_a_section_of_its_rule(capsys):
    _, document = report(capsys, FIXTURES)
    sections = {_docs.url(address) for address in _registry.addresses()}
    pointed = {f["docs"] for f in document["findings"] if f["status"] != "ok"}
    assert pointed <= sections and len(pointed) >= 15
    assert all(f["docs"] for f in document["findings"] if f["status"] != "ok")


def test_no_text_points_at_a_test_or_the_readme(capsys):
    _, document = report(capsys, FIXTURES)
    for finding in document["findings"]:
        text = " ".join(
            [finding["metric"], finding["replacement"], finding["same_number"], *finding["notes"]]
        )
        for word in ("tests/", "test_", "README", "docs/", ".py::"):
            assert word not in text, (finding["path"], finding["line"], text)
