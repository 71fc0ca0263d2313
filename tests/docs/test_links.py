"""Every docs address our code can print names a page and a heading that exist.

User-facing text points at the documentation site through `estimator_metrics._docs.url`; the
site's own links are checked by `make docs` (--strict). This checks the other direction: each
literal page and anchor handed to `url` anywhere in the package, against docs/ and the anchors
mkdocs gives its headings.
"""

import ast
import importlib.util
import re
from pathlib import Path

import pytest

import estimator_metrics
from estimator_metrics import _docs

# mkdocs' own heading anchors; Markdown comes with TensorBoard, which TensorFlow 2.21 no longer
# installs (the Keras 3 run collects this module without running it).
slugify = pytest.importorskip("markdown.extensions.toc").slugify

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: The package as installed (legacy_examples ships inside it), editable or from a wheel.
PACKAGE = Path(estimator_metrics.__file__).resolve().parent
SOURCES = sorted(PACKAGE.rglob("*.py")) + sorted(
    Path(importlib.util.find_spec("estimator_metrics.legacy_examples").origin).parent.rglob("*.py")
)


def _addresses() -> list[tuple[str, str]]:
    """(file:line, "page.md#anchor") for every `url("...")` / `_docs.url("...")` call."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) == "url"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.append((f"{path.name}:{node.lineno}", node.args[0].value))
    return found


def anchors(page: Path) -> set[str]:
    """The anchors mkdocs gives the headings of `page` (markdown's toc slugify)."""
    headings = re.findall(r"^#{1,6} (.+?)\s*$", page.read_text(encoding="utf-8"), re.M)
    return {slugify(re.sub(r"[`*_]", "", h), "-") for h in headings}


ADDRESSES = _addresses()


def test_the_package_points_at_the_docs():
    assert ADDRESSES  # The error where tf.estimator is gone, at least.


@pytest.mark.parametrize(("where", "address"), ADDRESSES, ids=[a for _, a in ADDRESSES])
def test_each_address_names_a_page_and_heading_that_exist(where, address):
    page, _, anchor = address.partition("#")
    assert (DOCS / page).is_file(), f"{where}: no docs/{page}"
    if anchor:
        assert anchor in anchors(DOCS / page), f"{where}: docs/{page} has no heading #{anchor}"


def test_the_addresses_are_those_of_the_site_mkdocs_builds():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(r"^site_url: (\S+)$", config, re.M).group(1) == _docs.SITE


@pytest.mark.skipif(
    not (ROOT / ".readthedocs.yaml").exists(), reason="a checkout's file: not in the image"
)
def test_read_the_docs_builds_with_the_locked_tools():
    config = (ROOT / ".readthedocs.yaml").read_text(encoding="utf-8")
    pins = dict(pin.split("==") for pin in re.findall(r"[\w-]+==[\w.]+", config))
    lock = (ROOT / "docker" / "requirements.lock").read_text(encoding="utf-8")
    assert pins == {
        name: re.search(rf"^{re.escape(name)}==(\S+)", lock, re.M).group(1) for name in pins
    }
    assert set(pins) == {"mkdocs-material", "mkdocstrings-python"}
