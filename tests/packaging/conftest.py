"""The sdist and the wheel, built once per run the way a release is built.

These tests need a package registry (PyPI): the build's isolated environment fetches
setuptools, the fresh venv installs the lock, and the resolution checks read TensorFlow's
releases. Not marked keras3: `make test` runs them once, in .venv.
"""

from __future__ import annotations

import pytest

from support.dist import Dist, build


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Dist:
    return build(tmp_path_factory.mktemp("dist"))
