"""Installing where Estimator is gone: imports, the two install flavours, the clear errors.

Marked keras3: `make test` runs these on TensorFlow 2.15 (.venv, the Estimator flavour) and on
TensorFlow 2.21 (.venv-keras3: Keras 3, numpy 2, no tensorflow-estimator). Each test checks
what is true in the environment it runs in; the ones about the errors skip where tf.estimator
works, and run in the Keras 3 environment.
"""

from __future__ import annotations

import configparser
import importlib.metadata
import importlib.util
import json
import os
import site
import subprocess
import sys
from pathlib import Path

import pytest
import tensorflow as tf
from packaging.requirements import Requirement

from estimator_metrics._core import environment

pytestmark = pytest.mark.keras3

ROOT = Path(__file__).resolve().parents[2]
#: Every module a user may import; none may need tf.estimator (or Keras 2) to be imported.
MODULES = (
    "estimator_metrics",
    "estimator_metrics.builders",
    "estimator_metrics.keras_metrics",
    "estimator_metrics.adapter",
    "estimator_metrics.parity",
    "estimator_metrics.keys",
    "estimator_metrics.diagnostics",
    "estimator_metrics.cli",
    "estimator_metrics.demo",
    "estimator_metrics.legacy_examples.classifier",
    "estimator_metrics.legacy_examples.regressor",
    "estimator_metrics.legacy_examples.binary",
    "estimator_metrics.legacy_examples.custom_loss",
    "estimator_metrics.legacy_examples.distributed",
    "estimator_metrics.legacy_examples.destination",
)
LINE = "TensorFlow 2.12-2.15 with tensorflow-estimator of the same line, on Python 3.9-3.11"
ESTIMATOR_WORKS = environment.estimator_problem() is None
needs_no_estimator = pytest.mark.skipif(
    ESTIMATOR_WORKS,
    reason="tf.estimator works here; the Keras 3 run (make test-keras3) checks the errors",
)


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
    )


def test_every_module_imports_without_importing_tensorflow_estimator():
    code = (
        "import importlib, json, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = [m for m in sys.modules if m.startswith('tensorflow_estimator')]\n"
        "print(json.dumps(sorted(loaded)))\n"
    )
    result = _run("-c", code)
    assert result.returncode == 0, result.stderr[-3000:]
    # Nothing of ours imports tensorflow_estimator before it is used, on any line.
    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_estimator_problem_is_none_exactly_on_the_estimator_line():
    line = environment.tensorflow_line(tf.__version__)
    installed = importlib.util.find_spec("tensorflow_estimator") is not None
    expected_to_work = (2, 12) <= line <= (2, 15) and installed
    assert (environment.estimator_problem() is None) == expected_to_work, (
        tf.__version__,
        environment.estimator_problem(),
    )


def test_message_names_what_the_supported_line_and_what_was_found():
    message = environment.estimator_message("estimator-metrics demo", environment.found())
    assert message.startswith(f"estimator-metrics demo needs tf.estimator: {LINE}")
    assert f"found TensorFlow {tf.__version__} (Keras " in message
    assert 'pip install "estimator-metrics[cpu]"' in message
    assert environment.tensorflow_line("2.21.0") == (2, 21)
    assert environment.tensorflow_line("nightly") is None


# ----------------------------------------------------------------- the flavours


def _setup_cfg() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg", encoding="utf-8")
    return parser


def _requirements(text: str) -> dict[str, list[Requirement]]:
    """{name: its requirements}: an extra may list a name once more per band of Pythons."""
    out: dict[str, list[Requirement]] = {}
    for line in text.strip().splitlines():
        if line.strip():
            requirement = Requirement(line)
            out.setdefault(requirement.name, []).append(requirement)
    return out


def test_setup_cfg_extras_name_the_line_the_errors_name():
    config = _setup_cfg()
    (first_major, first_minor), (last_major, last_minor) = environment.ESTIMATOR_LINES
    estimator_range = f"<{last_major}.{last_minor + 1},>={first_major}.{first_minor}"
    keras3_floor = f">={last_major}.{last_minor + 1}"
    extras = {
        name: _requirements(config["options.extras_require"][name])
        for name in ("cpu", "gpu", "keras3-cpu", "keras3-gpu")
    }
    for flavour, tensorflow in (("cpu", "tensorflow-cpu"), ("gpu", "tensorflow")):
        # One line each, for every Python: the range itself keeps them to 3.9-3.11
        # (tests/packaging resolves them).
        assert [str(r.specifier) for r in extras[flavour][tensorflow]] == [estimator_range]
        assert [str(r.specifier) for r in extras[flavour]["tensorflow-estimator"]] == [
            estimator_range
        ]
        assert [str(r.specifier) for r in extras[flavour]["numpy"]] == ["<2"]
    for flavour, tensorflow in (("keras3-cpu", "tensorflow-cpu"), ("keras3-gpu", "tensorflow")):
        # The range on every Python, then a floor per band of Pythons.
        unmarked = [r for r in extras[flavour][tensorflow] if r.marker is None]
        assert len(unmarked) == 1
        assert keras3_floor in str(unmarked[0].specifier).split(",")
    # Required everywhere, tensorflow-estimator would pull 2.15 onto TensorFlow 2.16+, and a
    # TensorFlow distribution would pick the flavour for the user.
    required = set(_requirements(config["options"]["install_requires"]))
    assert "numpy" in required
    assert not required & {"tensorflow", "tensorflow-cpu", "tensorflow-estimator", "keras"}


def _installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _satisfied(requirement: Requirement) -> bool:
    version = _installed(requirement.name)
    return version is not None and requirement.specifier.contains(version, prereleases=True)


def test_this_environment_satisfies_its_own_flavour_and_not_the_other():
    """What pip installed (the package's metadata) against what this venv holds."""
    # The metadata pip installed in site-packages, not an egg-info left in the work tree by
    # an older setup.cfg (the tree is on sys.path first).
    (installed,) = importlib.metadata.distributions(
        name="estimator-metrics", path=site.getsitepackages()
    )
    requires = [Requirement(r) for r in installed.requires]

    def extra(name):
        # Markers evaluated here: this Python, and the extra asked for.
        return [r for r in requires if r.marker and r.marker.evaluate({"extra": name})]

    base = [r for r in requires if r.marker is None]
    assert "numpy" in {r.name for r in base} and all(map(_satisfied, base)), base
    assert not {r.name for r in base} & {"tensorflow", "tensorflow-cpu", "tensorflow-estimator"}
    tensorflow_cpu = _installed("tensorflow-cpu")
    assert tensorflow_cpu, "both locked environments hold tensorflow-cpu"
    estimator_flavour, keras3_flavour = extra("cpu"), extra("keras3-cpu")
    if ESTIMATOR_WORKS:
        assert all(map(_satisfied, estimator_flavour)), (estimator_flavour, tensorflow_cpu)
        assert not any(map(_satisfied, keras3_flavour)), (keras3_flavour, tensorflow_cpu)
    else:
        assert all(map(_satisfied, keras3_flavour)), (keras3_flavour, tensorflow_cpu)
        assert not _satisfied(next(r for r in estimator_flavour if r.name == "tensorflow-cpu"))
        assert _installed("tensorflow-estimator") is None


# --------------------------------------------------------- what fails, and how


@needs_no_estimator
@pytest.mark.parametrize(
    "argv, what",
    [
        (["example", "classifier"], "estimator-metrics example classifier"),
        (["example", "distributed"], "legacy_examples.distributed.run_cluster"),
        (
            ["example", "destination", "estimator", "--dir", "unused"],
            "legacy_examples.destination estimator",
        ),
    ],
)
def test_commands_that_need_estimator_exit_2_naming_the_line_and_the_version(
    argv, what, capsys, monkeypatch, tmp_path
):
    from estimator_metrics import cli

    monkeypatch.chdir(tmp_path)
    try:
        code = cli.main(argv)
    except SystemExit as exit_:  # The examples' own parsers exit through argparse.
        code = exit_.code
    stderr = capsys.readouterr().err
    assert code == 2, stderr
    assert f"error: {what} needs tf.estimator: {LINE}" in stderr
    assert f"found TensorFlow {tf.__version__} (Keras " in stderr
    assert list(tmp_path.iterdir()) == []  # Nothing written.


@needs_no_estimator
def test_the_installed_command_exits_2_with_the_message_and_no_traceback(tmp_path):
    result = subprocess.run(
        [str(Path(sys.executable).with_name("estimator-metrics")), "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        cwd=tmp_path,
    )
    assert result.returncode == 2, (result.stdout, result.stderr[-2000:])
    assert result.stderr.startswith(
        f"estimator-metrics demo: error: estimator-metrics demo needs tf.estimator: {LINE}"
    ), result.stderr[-2000:]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert list(tmp_path.iterdir()) == []


@needs_no_estimator
def test_library_calls_that_need_estimator_raise_before_doing_anything(tmp_path):
    from estimator_metrics import demo
    from estimator_metrics.legacy_examples import (
        _common,
        classifier,
        destination,
        distributed,
        regressor,
    )

    calls = {
        "legacy_examples.classifier": lambda: _common.estimator(
            classifier.EXAMPLE, "legacy", str(tmp_path / "c"), 0
        ),
        "legacy_examples progress_hook": lambda: _common.progress_hook("x", 10),
        "legacy_examples.regressor": lambda: _common.run(regressor.EXAMPLE, "keras", 1, None),
        "estimator-metrics demo": lambda: demo.run(
            steps=1, model_dir=str(tmp_path / "d"), examples=["classifier"]
        ),
        "legacy_examples.distributed.run_cluster": lambda: distributed.run_cluster(
            "binary", steps=1, model_dir=str(tmp_path / "e")
        ),
        "legacy_examples.destination estimator": lambda: destination.estimator_half(
            str(tmp_path / "f"), steps=1
        ),
    }
    for what, call in calls.items():
        with pytest.raises(environment.EstimatorUnavailableError) as error:
            call()
        assert str(error.value).startswith(f"{what} needs tf.estimator: {LINE}"), what
        assert isinstance(error.value, ImportError)
    assert list(tmp_path.iterdir()) == []  # Nothing was started or written.
