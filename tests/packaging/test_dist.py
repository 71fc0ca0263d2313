"""What the sdist and the wheel carry, and what their metadata says.

`twine check --strict` passes on both; the wheel ships the examples inside our namespace and
`py.typed`; the sdist carries what rebuilds the wheel (legacy_examples included) and the tests;
the metadata's Python versions, project URLs and flavours agree with the code that names them.
"""

from __future__ import annotations

import tarfile
import zipfile
from email.parser import Parser

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from estimator_metrics import _docs
from estimator_metrics._core import environment
from support.dist import ROOT, run, tool

#: Every Python version the package claims (python_requires, classifiers).
PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")


def _wheel_metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (name,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return Parser().parsestr(archive.read(name).decode("utf-8"))


def test_twine_check_passes_on_the_sdist_and_the_wheel(dist):
    result = run(tool("twine"), "check", "--strict", dist.sdist, dist.wheel)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_the_wheel_ships_the_package_the_examples_and_py_typed(dist):
    with zipfile.ZipFile(dist.wheel) as archive:
        names = set(archive.namelist())
    top_level = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    # legacy_examples/ ships inside our namespace: no generic top-level package.
    assert top_level == {"estimator_metrics"}, top_level
    examples = {p.name for p in (ROOT / "legacy_examples").glob("*.py")}
    assert examples <= {
        n.rsplit("/", 1)[1] for n in names if n.startswith("estimator_metrics/legacy_examples/")
    }
    assert "estimator_metrics/py.typed" in names
    assert not any("/tests/" in n or n.startswith("tests/") for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)


def test_the_sdist_carries_what_builds_the_wheel_and_the_tests(dist):
    with tarfile.open(dist.sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    for path in (
        "setup.cfg",
        "setup.py",
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "estimator_metrics/py.typed",
        "tests/conftest.py",
    ):
        assert path in names, path
    for tree in ("legacy_examples", "estimator_metrics", "tests"):
        sources = {
            p.relative_to(ROOT).as_posix()
            for p in (ROOT / tree).rglob("*.py")
            if "__pycache__" not in p.parts
        }
        assert sources <= names, sorted(sources - names)[:10]
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_metadata_names_the_docs_the_pythons_and_the_flavours(dist):
    metadata = _wheel_metadata(dist.wheel)
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL"))
    assert urls == {"Documentation": _docs.SITE, "Changelog": _docs.url("changelog.md")}
    assert metadata["License"] == "Apache-2.0"
    assert metadata["Summary"] and metadata["Description-Content-Type"] == "text/markdown"
    # python_requires and the classifiers: 3.9 to 3.13, the union of the two flavours.
    requires_python = SpecifierSet(metadata["Requires-Python"])
    assert [p for p in (*PYTHONS, "3.8", "3.14") if p in requires_python] == list(PYTHONS)
    classifiers = metadata.get_all("Classifier")
    prefix = "Programming Language :: Python :: 3."
    claimed = [f"3.{c[len(prefix) :]}" for c in classifiers if c.startswith(prefix)]
    assert claimed == list(PYTHONS)
    assert "Typing :: Typed" in classifiers
    first, last = environment.ESTIMATOR_PYTHONS
    assert f"{first[0]}.{first[1]}" == PYTHONS[0]
    assert PYTHONS.index(f"{last[0]}.{last[1]}") < len(PYTHONS) - 1
    assert set(metadata.get_all("Provides-Extra")) >= {"cpu", "gpu", "keras3-cpu", "keras3-gpu"}


@pytest.mark.parametrize("extra", ["cpu", "gpu", "keras3-cpu", "keras3-gpu"])
def test_no_extra_pulls_tensorflow_estimator_without_its_tensorflow_line(dist, extra):
    requires = [Requirement(r) for r in _wheel_metadata(dist.wheel).get_all("Requires-Dist")]
    for python in PYTHONS:
        environment_ = {"extra": extra, "python_version": python, "python_full_version": python}
        names = {r.name for r in requires if r.marker and r.marker.evaluate(environment_)}
        # tensorflow-estimator comes only with a TensorFlow of the Estimator lines.
        assert ("tensorflow-estimator" in names) == (extra in ("cpu", "gpu")), (python, names)
        assert names & {"tensorflow", "tensorflow-cpu"}, (python, names)
