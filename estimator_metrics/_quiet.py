"""Keeps TensorFlow's log noise out of command-line output; imports TensorFlow only when called."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator

#: Log lines of TensorFlow's C++ runtime by level, in absl's format ("I1207 12:00:00.000 ...",
#: or "I0000 00:00:..." before absl is set up): TF_CPP_MIN_LOG_LEVEL 1 drops I, 2 drops W too.
_ABSL_LEVELS = {1: re.compile(r"^I\d{4} "), 2: re.compile(r"^[IW]\d{4} ")}
_ABSL_LINE = re.compile(r"^[IWEF]\d{4} ")
#: What absl prints before its first line when nothing has set it up yet.
_ABSL_BANNER = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
)


def quiet_tensorflow() -> None:
    """Keeps TensorFlow's C++ and Python log noise out of the output.

    Call it before TensorFlow is first imported: the C++ level is read once, at import.
    TensorFlow 2.16+ logs through absl, which writes to stderr before anything has set it up
    and so ignores TF_CPP_MIN_LOG_LEVEL there (on CPUs with AVX-512, "oneDNN custom
    operations are on", twice): those lines are dropped at the level that variable asks for,
    and everything else the import writes to stderr (errors, fatal messages) is passed on.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", message=r".* is deprecated and will be removed")
    with _filtered_stderr(_min_log_level()):
        import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)


def _min_log_level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


@contextlib.contextmanager
def _filtered_stderr(level: int) -> Iterator[None]:
    """Collects what is written to file descriptor 2 inside the block (C++ writes there, not
    to `sys.stderr`), then writes it back without the absl lines below `level`."""
    pattern = _ABSL_LEVELS.get(min(level, 2))
    if pattern is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", "replace")
            kept = [line for line in text.splitlines(True) if not pattern.match(line)]
            if not any(_ABSL_LINE.match(line) for line in kept):  # The banner announced them.
                kept = [line for line in kept if line.rstrip("\n") != _ABSL_BANNER]
            if kept:
                os.write(2, "".join(kept).encode("utf-8"))
