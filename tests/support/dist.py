"""The package as it ships: build its sdist and wheel, run the tools that check them.

Used by tests/packaging; build, twine and uv are locked in .venv (docker/requirements.in).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Dist:
    sdist: Path
    wheel: Path


def run(*args: str | Path, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    """Runs a command with its text output captured; the caller checks the return code."""
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kwargs
    )


def tool(name: str) -> Path:
    """A console script of the running venv."""
    return Path(sys.executable).with_name(name)


def build(out: Path) -> Dist:
    """`python -m build`: the sdist, then the wheel built from the unpacked sdist, each in an
    isolated environment holding only what pyproject.toml's [build-system] names, as a user's
    pip builds them."""
    result = run(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return Dist(sdist=sdist, wheel=wheel)
