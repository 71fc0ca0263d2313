"""For measuring the builders, never for evaluating: their run-time checks switched off, and
the class counts from which F-beta's argmax changes form."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import tensorflow as tf

from estimator_metrics._core import checks as _checks
from estimator_metrics._core.rows import GROUPED_FROM, KEY_ARGMAX_FROM, KEYED_FROM, group_width

__all__ = ["GROUPED_FROM", "KEYED_FROM", "KEY_ARGMAX_FROM", "checks_off", "group_width"]


@contextlib.contextmanager
def checks_off() -> Iterator[None]:
    """Builders built inside make every run-time value check a no-op.

    Every check goes through `checks.assert_that`, replaced here for the builds inside by a
    `tf.no_op`: the conditions are still built, but nothing runs them, and Grappler prunes
    what only they read. Builds must run one at a time (the replacement is global). Bad
    input then gives a wrong number instead of an error: only to measure what the checks
    cost.
    """
    saved = _checks.assert_that
    try:
        _checks.assert_that = lambda condition, data: tf.no_op()
        yield
    finally:
        _checks.assert_that = saved
