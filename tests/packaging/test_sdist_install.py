"""The sdist installs into a fresh venv, and `estimator-metrics demo` runs from what it installed.

The venv gets the locked stack first (docker/requirements.lock, every hash checked; uv copies
it from its cache in seconds where pip takes minutes), then pip installs the sdist as a user's
pip does: an isolated build of the wheel from the unpacked sdist, then the install. The demo
runs from an empty directory, so that nothing of the checkout can stand in for what the sdist
installed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from support.dist import ROOT, run, tool

LOCK = ROOT / "docker" / "requirements.lock"


def test_the_sdist_installs_into_a_fresh_venv_and_the_demo_runs_from_it(dist, tmp_path):
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    # The base interpreter of this venv, so the new one shares nothing with it.
    result = run(Path(sys.base_prefix) / "bin" / "python3", "-m", "venv", venv)
    assert result.returncode == 0, result.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = run(
        tool("uv"), "pip", "install", "--python", python, "--require-hashes", "-r", LOCK, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    result = run(python, "-m", "pip", "install", "--no-input", dist.sdist, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    result = run(python, "-m", "pip", "check", env=env)
    assert result.returncode == 0, result.stdout

    workdir = tmp_path / "empty"
    workdir.mkdir()
    where = run(
        python,
        "-c",
        "import estimator_metrics, estimator_metrics.legacy_examples as e, sys; "
        "print(estimator_metrics.__file__); print(e.__file__); print(sys.prefix)",
        cwd=workdir,
        env=env,
    )
    assert where.returncode == 0, where.stderr[-2000:]
    package, examples, prefix = where.stdout.split()
    site_packages = f"{prefix}/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"
    assert package.startswith(site_packages) and examples.startswith(site_packages), where.stdout

    demo = run(
        venv / "bin" / "estimator-metrics",
        "demo",
        "--model-dir",
        tmp_path / "model",
        cwd=workdir,
        env={**env, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "Traceback" not in demo.stderr
