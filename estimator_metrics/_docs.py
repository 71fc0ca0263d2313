"""Where user-facing text points: addresses of pages and sections of the documentation site.

Messages, report columns and `--help` texts that send a reader somewhere send them to the docs
site (built from docs/ by `make docs`), never to a test file or the README: a user of the wheel
has neither. `url` builds each address from the page's file name under docs/ and a heading's
anchor, and tests/docs checks that every page and anchor named in our code exists.
"""

from __future__ import annotations

#: The published site (mkdocs.yml's `site_url`; .readthedocs.yaml builds it).
SITE = "https://estimator-metrics.readthedocs.io/en/latest/"


def url(page: str) -> str:
    """The address of `page`, a file under docs/ with an optional `#anchor`.

    >>> url("builders.md#bad-input")
    'https://estimator-metrics.readthedocs.io/en/latest/builders/#bad-input'
    >>> url("index.md")
    'https://estimator-metrics.readthedocs.io/en/latest/'
    """
    path, _, anchor = page.partition("#")
    if not path.endswith(".md"):
        raise ValueError(f"Expected a docs page ending in .md, received {page!r}")
    stem = path[: -len(".md")]
    # mkdocs' directory URLs: docs/a/b.md is served at a/b/, docs/index.md at the root.
    if stem == "index" or stem.endswith("/index"):
        stem = stem[: -len("index")]
    else:
        stem += "/"
    return SITE + stem + (f"#{anchor}" if anchor else "")
