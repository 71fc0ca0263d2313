"""estimator_metrics.diagnostics: the hook the benchmarks measure the builders through."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics import builders, diagnostics


def _update_path(num_classes: int) -> list[str]:
    """Types of the ops macro F-beta's update runs on softmax outputs, and its Asserts."""
    with tf.Graph().as_default() as graph:
        labels = tf.compat.v1.placeholder(tf.int64, [None])
        probabilities = tf.nn.softmax(tf.compat.v1.placeholder(tf.float32, [None, num_classes]))
        model_ops = set(graph.get_operations())
        _, update = builders.fbeta(labels, probabilities, num_classes=num_classes, average="macro")
        seen, stack = set(), [update if isinstance(update, tf.Operation) else update.op]
        while stack:
            op = stack.pop()
            if op not in seen and op not in model_ops:
                seen.add(op)
                stack += [tensor.op for tensor in op.inputs] + list(op.control_inputs)
        return sorted(op.type for op in seen)


def test_checks_off_leaves_no_assert_on_the_update_path_and_restores_the_checks():
    with diagnostics.checks_off():
        off = _update_path(5)
    assert "Assert" not in off
    assert _update_path(5).count("Assert") >= 3


def test_checks_off_restores_the_checks_when_the_build_fails():
    with tf.Graph().as_default(), pytest.raises(ValueError), diagnostics.checks_off():
        builders.fbeta(np.zeros(2, np.int64), np.zeros((2, 3), np.float32), num_classes=2)
    assert _update_path(5).count("Assert") >= 3


def test_the_ops_an_update_runs_change_once_at_keyed_from_classes():
    below, at, far = (
        _update_path(c)
        for c in (diagnostics.KEYED_FROM - 1, diagnostics.KEYED_FROM, 8 * diagnostics.KEYED_FROM)
    )
    assert below != at == far
    assert "TopKV2" in at and "TopKV2" not in below  # The keyed argmax, from KEYED_FROM on.


def test_the_keys_take_argmax_from_key_argmax_from_classes_the_same_ops_above():
    """Widths with no divisor near their root (primes here): the keys' row maxima by ArgMax
    and a gather instead of `top_k` from KEY_ARGMAX_FROM classes on, decided by the static
    class count."""
    assert diagnostics.KEY_ARGMAX_FROM > diagnostics.KEYED_FROM
    widths = (4093, 4099, 3 * 4099)  # Primes either side of 4,096, and 3 x 4,099.
    assert widths[0] < diagnostics.KEY_ARGMAX_FROM <= widths[1]
    assert not any(diagnostics.group_width(c) for c in widths)
    below, at, far = (_update_path(c) for c in widths)
    assert below != at == far
    assert "TopKV2" in below and "TopKV2" not in at and {"ArgMax", "GatherV2"} <= set(at)


def test_widths_with_a_divisor_near_their_root_are_searched_by_groups_the_same_ops():
    """From GROUPED_FROM classes on, wherever `group_width` finds a divisor: one reduce_max
    over the groups, `top_k` over the group maxima and over the gathered group, and the same
    ops whatever the width."""
    widths = (diagnostics.GROUPED_FROM, 1000, 4096, 10000)
    assert all(diagnostics.group_width(c) for c in widths)
    paths = [_update_path(c) for c in widths]
    assert all(path == paths[0] for path in paths)
    assert paths[0] != _update_path(diagnostics.GROUPED_FROM - 1)  # 511 = 7 x 73: top_k.
    assert paths[0].count("TopKV2") == 2 and "ArgMax" not in paths[0]
    assert {"Max", "GatherV2"} <= set(paths[0])
