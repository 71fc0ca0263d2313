"""What a benchmark run measured on: the machine, its load, the versions and the code.

`run.py` stores these in results.json's "meta"; results.md's header shows them, so that
every number there says where it comes from.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem = next(
        (
            line.split()[1]
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal:")
        ),
        None,
    )
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "memory_gib": round(int(mem) / 2**20, 1) if mem else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def load_average() -> tuple | None:
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except OSError:
        return None


def versions() -> dict:
    from importlib import metadata

    import tensorflow as tf

    def installed(*names):
        for name in names:
            try:
                return metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
        return "n/a"

    return {
        "tensorflow": tf.__version__,
        "tensorflow_estimator": installed("tensorflow-estimator"),
        "keras": installed("keras"),
        "numpy": installed("numpy"),
        "scikit-learn": installed("scikit-learn"),
    }


def git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "estimator_metrics"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            timeout=10,
        ).stdout
        return head + (" (estimator_metrics/ has uncommitted changes)" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
