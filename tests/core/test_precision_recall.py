"""builders.precision, recall and precision_recall_fbeta: scikit-learn's numbers from one state.

Every mode and average against `precision_recall_fscore_support` over seeded weighted
streams (with an empty batch), `zero_division` 0, 1 and NaN where scores are undefined, and
the graph itself: one variable, one counting update, nothing counted twice.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics import builders
from estimator_metrics._core import parity
from estimator_metrics._core.parity import run_stream
from support.data import NUM_CLASSES, concat
from support.oracles import KEYS, check, prfs

ZERO_DIVISIONS = (0, 1, math.nan)
MULTI_AVERAGES = ("micro", "macro", "weighted", None)


def _stream_all(batches, **options):
    """{key: value} of precision, recall and fbeta: the triple and each builder alone."""
    triple = {
        key: run_stream(
            lambda y, p, w: builders.precision_recall_fbeta(y, p, w, **options)[key], batches
        ).after
        for key in KEYS
    }
    alone = {
        "precision": builders.precision,
        "recall": builders.recall,
        "fbeta": builders.fbeta,
    }
    for key, builder in alone.items():
        kwargs = dict(options)
        if key != "fbeta":
            kwargs.pop("beta", None)
        value = run_stream(lambda y, p, w: builder(y, p, w, **kwargs), batches).after
        np.testing.assert_array_equal(value, triple[key], err_msg=key)
    return triple


def _check_all(values, expected):
    for key in KEYS:
        check(values[key], expected[key])


def _check_stream(batches, y_pred, labels=None, **options):
    """The family over `batches` against scikit-learn on all their labels and weights, with
    `y_pred` the classes the builders decide on, and scikit-learn's `labels`."""
    weights = None if batches[0][2] is None else concat(batches, 2)
    expected = prfs(
        concat(batches, 0),
        y_pred,
        beta=options.get("beta", 1.0),
        average=options.get("average", "binary"),
        labels=labels,
        sample_weight=weights,
        zero_division=options["zero_division"],
    )
    _check_all(_stream_all(batches, **options), expected)


@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS)
@pytest.mark.parametrize("weighted", [True, False])
def test_binary_equals_sklearn(binary_batches, zero_division, weighted):
    batches = [(y, p, w if weighted else None) for y, p, w in binary_batches]
    y_pred = concat(binary_batches, 1) > 0.3
    _check_stream(batches, y_pred, beta=2.0, threshold=0.3, zero_division=zero_division)


@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS)
@pytest.mark.parametrize("average", MULTI_AVERAGES)
def test_multiclass_with_a_class_never_seen_equals_sklearn(
    multiclass_batches, average, zero_division
):
    # Class 4 is neither a label nor a prediction: every score of it is undefined.
    batches = [(np.minimum(y, 3), p[:, :4], w) for y, p, w in multiclass_batches]
    batches = [(y, np.pad(p, [(0, 0), (0, 1)]), w) for y, p, w in batches]
    options = dict(beta=0.5, num_classes=NUM_CLASSES, average=average)
    y_pred = concat(batches, 1).argmax(1)
    _check_stream(batches, y_pred, range(NUM_CLASSES), zero_division=zero_division, **options)


@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS)
@pytest.mark.parametrize("average", MULTI_AVERAGES)
def test_multiclass_classes_equal_sklearn_labels(multiclass_batches, average, zero_division):
    _check_stream(
        multiclass_batches,
        concat(multiclass_batches, 1).argmax(1),
        [4, 1],
        num_classes=NUM_CLASSES,
        average=average,
        classes=[4, 1],
        zero_division=zero_division,
    )


@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS)
@pytest.mark.parametrize("average", [*MULTI_AVERAGES, "samples"])
def test_multilabel_equals_sklearn(multilabel_batches, average, zero_division):
    # Column 0 never predicted, column 1 never true: undefined precision and recall.
    batches = [(y * [1, 0, 1, 1, 1], p * [0, 1, 1, 1, 1], w) for y, p, w in multilabel_batches]
    _check_stream(
        batches,
        (concat(batches, 1) > 0.5).astype(int),
        range(NUM_CLASSES),
        beta=1.5,
        average=average,
        multilabel=True,
        zero_division=zero_division,
    )


@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS)
def test_samples_over_a_class_subset_equals_sklearn(multilabel_batches, zero_division):
    _check_stream(
        multilabel_batches,
        (concat(multilabel_batches, 1) > 0.5).astype(int),
        [3, 0],
        average="samples",
        classes=[3, 0],
        multilabel=True,
        num_classes=NUM_CLASSES,
        zero_division=zero_division,
    )


# ------------------------------------------------------------ undefined scores, exactly


def _triple(labels, predictions, weights=None, **options):
    return {
        key: run_stream(
            lambda y, p: builders.precision_recall_fbeta(y, p, weights, **options)[key],
            [(np.asarray(labels), np.asarray(predictions))],
        ).after
        for key in KEYS
    }


@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS)
@pytest.mark.parametrize(
    "labels, predictions",
    [
        ([0, 0, 0], [0, 0, 0]),  # No positive at all: precision, recall and F undefined.
        ([0, 0, 1], [0, 0, 0]),  # Nothing predicted: precision undefined, F = 0.
        ([0, 0, 0], [1, 0, 0]),  # Nothing true: recall undefined, F = 0.
        ([1, 0, 1], [1, 1, 0]),  # Everything defined.
    ],
)
def test_binary_undefined_scores_follow_sklearn(labels, predictions, zero_division):
    expected = prfs(labels, predictions, average="binary", zero_division=zero_division)
    _check_all(_triple(labels, predictions, zero_division=zero_division), expected)


@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS)
def test_weighted_average_where_no_class_has_support_is_the_plain_mean(zero_division):
    # classes=[1, 2]: no label is 1 or 2, so every support is 0.
    labels, predictions = [0, 0, 0], [1, 1, 0]
    options = dict(num_classes=3, average="weighted", classes=[1, 2])
    expected = prfs(
        labels, predictions, average="weighted", labels=[1, 2], zero_division=zero_division
    )
    _check_all(_triple(labels, predictions, zero_division=zero_division, **options), expected)


@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS)
@pytest.mark.parametrize("average", ["binary", *MULTI_AVERAGES, "samples"])
def test_no_data_and_zero_weights_leave_every_score_undefined(average, zero_division):
    multilabel = average == "samples"
    options = dict(average=average, zero_division=zero_division, multilabel=multilabel)
    if average != "binary" and not multilabel:
        options["num_classes"] = 3
    empty = (np.zeros([0, 3] if multilabel else [0], np.int64),) * 2 + (np.zeros([0]),)
    zero_weight = (np.ones([2, 3] if multilabel else [2], np.int64),) * 2 + (np.zeros([2]),)
    shape = (3,) if average is None else ()
    for key in KEYS:
        before, after = run_stream(
            lambda y, p, w: builders.precision_recall_fbeta(y, p, w, **options)[key],
            [empty, zero_weight],
        )
        for value in (before, after):
            np.testing.assert_array_equal(value, np.full(shape, float(zero_division)))


def test_zero_division_0_builds_todays_fbeta_graph():
    """The default adds no op to F-beta: today's numbers at today's cost."""

    def op_types(**options):
        with tf.Graph().as_default() as graph:
            y = tf.compat.v1.placeholder(tf.int64, [None])
            p = tf.compat.v1.placeholder(tf.float32, [None, 4])
            builders.fbeta(y, p, num_classes=4, **options)
            return sorted(op.type for op in graph.get_operations())

    for average in ("macro", "weighted", None):
        assert op_types(average=average) == op_types(average=average, zero_division=0.0)
        assert "SelectV2" not in op_types(average=average)
        assert "SelectV2" in op_types(average=average, zero_division=1)


# --------------------------------------------------------------- one state, one count


def _graph(build):
    with tf.Graph().as_default() as graph:
        labels = tf.compat.v1.placeholder(tf.int64, [None])
        scores = tf.compat.v1.placeholder(tf.float32, [None, NUM_CLASSES])
        result = build(labels, scores)
    return graph, result


def _ancestors(tensor) -> set:
    seen, todo = set(), [tensor.op]
    while todo:
        op = todo.pop()
        if op in seen:
            continue
        seen.add(op)
        todo += [t.op for t in op.inputs] + list(op.control_inputs)
    return seen


#: Op types that read or count the batch, or keep state: the triple has as many as fbeta.
COUNTING = (
    "VarHandleOp",
    "VariableV2",
    "AssignAddVariableOp",
    "AssignAdd",
    "UnsortedSegmentSum",
    "ArgMax",
    "TopKV2",
    "Assert",
)


@pytest.mark.parametrize(
    "options",
    [
        dict(num_classes=NUM_CLASSES, average="macro"),
        dict(num_classes=NUM_CLASSES, average=None, classes=[2, 0], zero_division=math.nan),
    ],
)
def test_the_triple_keeps_one_variable_and_counts_each_batch_once(options):
    fbeta_graph, _ = _graph(lambda y, p: builders.fbeta(y, p, **options))
    graph, ops = _graph(lambda y, p: builders.precision_recall_fbeta(y, p, **options))
    variables = graph.get_collection(tf.compat.v1.GraphKeys.LOCAL_VARIABLES)
    assert [v.shape.as_list() for v in variables] == [[3, NUM_CLASSES]]
    assert graph.get_collection(tf.compat.v1.GraphKeys.METRIC_VARIABLES) == variables

    def counting(g):
        types = [op.type for op in g.get_operations()]
        return {kind: types.count(kind) for kind in COUNTING}

    assert counting(graph) == counting(fbeta_graph)
    assert counting(graph)["UnsortedSegmentSum"] == 3
    (assign,) = [op for op in graph.get_operations() if op.type == "AssignAddVariableOp"]
    assert list(ops) == ["precision", "recall", "fbeta"]
    for _, update in ops.values():
        assert assign in _ancestors(update)


def test_precision_and_recall_alone_count_as_fbeta_does():
    options = dict(num_classes=NUM_CLASSES, average="weighted")
    graphs = [
        _graph(lambda y, p: builder(y, p, **options))[0]
        for builder in (builders.fbeta, builders.precision, builders.recall)
    ]
    counts = [
        {kind: [op.type for op in g.get_operations()].count(kind) for kind in COUNTING}
        for g in graphs
    ]
    assert counts[0] == counts[1] == counts[2]


def test_key_prefix_lets_several_triples_share_eval_metric_ops():
    def build(y, p):
        tags = builders.precision_recall_fbeta(
            y, p, num_classes=NUM_CLASSES, average="micro", key_prefix="tags/"
        )
        entities = builders.precision_recall_fbeta(
            y, p, num_classes=NUM_CLASSES, average="macro", classes=[1, 2], key_prefix="ent_"
        )
        return {**tags, **entities}

    graph, ops = _graph(build)
    assert list(ops) == [
        "tags/precision",
        "tags/recall",
        "tags/fbeta",
        "ent_precision",
        "ent_recall",
        "ent_fbeta",
    ]
    names = [v.op.name for v in graph.get_collection(tf.compat.v1.GraphKeys.LOCAL_VARIABLES)]
    assert names == ["precision_recall_fbeta/counts", "precision_recall_fbeta_1/counts"]


def test_collections_receive_each_value_and_update():
    with tf.Graph().as_default():
        ops = builders.precision_recall_fbeta(
            [1, 0], [0.9, 0.2], metrics_collections=["m"], updates_collections=["u"]
        )
        assert tf.compat.v1.get_collection("m") == [value for value, _ in ops.values()]
        assert tf.compat.v1.get_collection("u") == [update for _, update in ops.values()]


def test_v1_precision_recall_and_a_hand_built_f1_equal_the_triple(binary_batches):
    """What model_fns write today, one state instead of two and a formula: the same numbers
    on 0/1 ids (v1 counts in float32, hence 1e-6)."""
    batches = [(y, (p > 0.5).astype(np.int64), w) for y, p, w in binary_batches]

    def by_hand(y, p, w):
        precision, precision_update = tf.compat.v1.metrics.precision(y, p, weights=w)
        recall, recall_update = tf.compat.v1.metrics.recall(y, p, weights=w)
        f1 = tf.math.divide_no_nan(2 * precision * recall, precision + recall)
        return {
            "precision": (precision, precision_update),
            "recall": (recall, recall_update),
            "fbeta": (f1, tf.no_op()),
        }

    legacy = parity.run_streams(by_hand, batches)
    ours = parity.run_streams(builders.precision_recall_fbeta, batches)
    for key in KEYS:
        assert 0 < ours[key].after < 1
        np.testing.assert_allclose(ours[key].after, legacy[key].after, rtol=1e-6, err_msg=key)
