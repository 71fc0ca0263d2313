"""The task processes of a local cluster: free loopback ports, log tails, and stopping them.

A task is any object with `key`, `pid` (its process group), `log_path` and `returncode`
(`distributed.TaskRun`); `procs` maps each task's key to its `subprocess.Popen`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence

#: Seconds between SIGTERM and SIGKILL when a cluster is stopped.
TERMINATE_GRACE_S = 5.0
#: Lines of each task's log shown when the cluster fails.
LOG_TAIL_LINES = 25


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports, free a moment ago (bound to port 0, then released)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def stop(tasks: Sequence, procs: Mapping[str, subprocess.Popen]) -> None:
    """SIGTERM every task's process group, SIGKILL what is left after a grace period, reap all."""
    for task in tasks:
        if procs[task.key].poll() is None:
            signal_group(task.pid, signal.SIGTERM)
    deadline = time.monotonic() + TERMINATE_GRACE_S
    for proc in procs.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    for task in tasks:
        # Also groups whose leader is gone: nothing of a task may outlive it.
        # (A group id stays reserved while any member lives, so this cannot hit
        # an unrelated process.)
        signal_group(task.pid, signal.SIGKILL)
        task.returncode = procs[task.key].wait()


def signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def log_tails(tasks: Sequence, procs: Mapping[str, subprocess.Popen], first=None) -> str:
    """The end of every task's log, `first`'s (the failed task's) first."""
    parts = []
    for task in sorted(tasks, key=lambda t: t is not first):
        code = procs[task.key].poll()
        state = "running" if code is None else f"exit code {code}"
        try:
            with open(task.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()[-LOG_TAIL_LINES:]
        except OSError as e:
            lines = [f"(cannot read the log: {e})"]
        parts.append(
            f"\n--- {task.key}, pid {task.pid}, {state}: last {len(lines)} lines of "
            f"{task.log_path}\n" + "\n".join(lines)
        )
    return "".join(parts)
