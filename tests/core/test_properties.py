"""Property-based: random multi-batch streams against scikit-learn/NumPy in float64.

Hypothesis draws the structure of a case (builder and mode, layouts of labels, predictions
and weights, batch sizes including empty batches, averages, class subsets, zero_division)
and a seed for the values; every case runs through placeholders of three kinds: the batch
axis `None` and the rest static, every dimension `None`, and shape `None`. The confusion
family (fbeta, precision, recall, precision_recall_fbeta: one drawn per case) is checked
against `precision_recall_fscore_support`. Bounded and derandomized, so the same cases run
everywhere; no deadline (a graph build is slow, not wrong).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics

from estimator_metrics import builders
from estimator_metrics._core import parity
from support import calibration as calibration_oracle
from support.oracles import check, prfs

PLACEHOLDERS = parity.STATIC  # batch axis None; every dimension None; shape=None
SETTINGS = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def run_stream(build, batches, kind):
    """Final value of `build(*placeholders)` after one update per batch (None: not fed)."""
    return parity.run_stream(build, batches, static=kind).after


sizes = st.lists(st.integers(0, 9), min_size=1, max_size=4).filter(lambda s: sum(s) > 0)
seeds = st.integers(0, 2**32 - 1)
weight_layouts = st.sampled_from(["none", "per-example", "column", "length-1"])


def _weights(rng, size, layout, zero_share=0.3):
    if layout == "none":
        return None
    if layout == "length-1":
        return np.array([rng.uniform(0.5, 3.0)])
    w = rng.integers(0, 4, size) * rng.choice([0.5, 1.0], size)
    w[rng.uniform(size=size) < zero_share] = 0.0
    return w[:, None] if layout == "column" else w


def _expand(w, total, per_example=1):
    """The weight of every flattened element, for the oracle."""
    if w is None:
        return None
    w = np.ravel(w)
    return np.full(total, w[0]) if w.size == 1 and total != 1 else np.repeat(w, per_example)


def _oracle_weights(batches, index, per_example=1):
    parts = [_expand(batch[index], len(batch[0]) * per_example, per_example) for batch in batches]
    return None if parts[0] is None else np.concatenate(parts)


def _check(value, expected):
    check(value, expected)


FAMILY = ("fbeta", "precision", "recall", "precision_recall_fbeta")
family = st.sampled_from(FAMILY)
zero_divisions = st.sampled_from([0, 1, math.nan])


def run_family(builder, options, batches, kind):
    """{metric: final value} of `builder` of the family (the triple: all three)."""
    if builder == "precision_recall_fbeta":
        streams = parity.run_streams(
            lambda y, p, w: builders.precision_recall_fbeta(y, p, w, **options),
            batches,
            static=kind,
        )
        return {key: stream.after for key, stream in streams.items()}
    if builder != "fbeta":
        options = {key: value for key, value in options.items() if key != "beta"}
    make = getattr(builders, builder)
    return {builder: run_stream(lambda y, p, w: make(y, p, w, **options), batches, kind)}


def check_family(values, y, y_pred, options, labels, sample_weight):
    """`values` of `run_family` against scikit-learn with the same options."""
    expected = prfs(
        y,
        y_pred,
        beta=options.get("beta", 1.0),
        average=options["average"],
        labels=labels,
        sample_weight=sample_weight,
        zero_division=options["zero_division"],
    )
    for key, value in values.items():
        check(value, expected[key])


# ---------------------------------------------------------------------------- F-beta


@st.composite
def single_label_cases(draw):
    num_classes = draw(st.sampled_from([None, 2, 3, 5]))
    average = (
        "binary"
        if num_classes in (None, 2) and draw(st.booleans())
        else draw(st.sampled_from(["micro", "macro", "weighted", None]))
    )
    if num_classes is None and average != "binary":
        num_classes = 2
    classes = None
    if average != "binary" and draw(st.booleans()):
        classes = draw(st.lists(st.integers(0, num_classes - 1), min_size=1, unique=True))
    return {
        "num_classes": num_classes,
        "average": average,
        "classes": classes,
        "labels": draw(st.sampled_from(["ids", "column", "one-hot"])),
        "predictions": draw(
            st.sampled_from(
                (["ids", "column ids", "scores"] if num_classes else ["ids", "column ids"])
                + (["probabilities", "column probabilities"] if num_classes in (None, 2) else [])
            )
        ),
        "weights": draw(weight_layouts),
        "beta": draw(st.sampled_from([0.5, 1.0, 2.0])),
        "threshold": draw(st.sampled_from([0.3, 0.5])),
        "zero_division": draw(zero_divisions),
        "builder": draw(family),
        "sizes": draw(sizes),
        "seed": draw(seeds),
        "kind": draw(st.sampled_from(PLACEHOLDERS)),
    }


def _single_label_batch(rng, size, case):
    classes = case["num_classes"] or 2
    y = rng.integers(0, classes, size)
    labels = {"ids": y, "column": y[:, None], "one-hot": np.eye(classes)[y]}[case["labels"]]
    scores = rng.normal(size=(size, classes)).astype(np.float32)
    probability = rng.uniform(size=size).astype(np.float32)
    if case["predictions"] == "scores":
        predictions, y_pred = scores, scores.argmax(1)
    elif "probabilities" in case["predictions"]:
        predictions, y_pred = probability, (probability > case["threshold"]).astype(int)
    else:
        y_pred = rng.integers(0, classes, size)
        predictions = y_pred
    if case["predictions"].startswith("column"):
        predictions = predictions[:, None]
    return (labels, predictions, _weights(rng, size, case["weights"])), y, y_pred


OPTIONS = ("beta", "num_classes", "average", "classes", "threshold", "zero_division")


@SETTINGS
@given(single_label_cases())
def test_single_label_family_equals_sklearn(case):
    rng = np.random.default_rng(case["seed"])
    made = [_single_label_batch(rng, size, case) for size in case["sizes"]]
    batches = [batch for batch, _, _ in made]
    y, y_pred = (np.concatenate([m[i] for m in made]) for i in (1, 2))
    options = {k: case[k] for k in OPTIONS}
    values = run_family(case["builder"], options, batches, case["kind"])
    labels = case["classes"] or (
        range(case["num_classes"]) if case["average"] != "binary" else None
    )
    check_family(values, y, y_pred, options, labels, _oracle_weights(batches, 2))


@st.composite
def sequence_cases(draw):
    return {
        "num_classes": draw(st.sampled_from([2, 4])),
        "average": draw(st.sampled_from(["micro", "macro", None])),
        "labels": draw(st.sampled_from(["ids", "one-hot"])),
        "predictions": draw(st.sampled_from(["scores", "ids"])),
        "weights": draw(st.sampled_from(["none", "per-token", "per-sequence"])),
        "steps": draw(st.integers(1, 5)),
        "zero_division": draw(zero_divisions),
        "builder": draw(family),
        "sizes": draw(sizes),
        "seed": draw(seeds),
        "kind": draw(st.sampled_from(PLACEHOLDERS)),
    }


@SETTINGS
@given(sequence_cases())
def test_sequence_family_equals_sklearn_over_every_token(case):
    rng = np.random.default_rng(case["seed"])
    classes, steps = case["num_classes"], case["steps"]
    batches, ys, preds, weights = [], [], [], []
    for size in case["sizes"]:
        y = rng.integers(0, classes, (size, steps))
        scores = rng.normal(size=(size, steps, classes)).astype(np.float32)
        ids = scores.argmax(-1)
        w = {
            "none": None,
            "per-token": rng.integers(0, 3, (size, steps)).astype(np.float64),
            "per-sequence": rng.integers(0, 3, size).astype(np.float64),
        }[case["weights"]]
        labels = y if case["labels"] == "ids" else np.eye(classes)[y]
        batches.append((labels, scores if case["predictions"] == "scores" else ids, w))
        ys.append(y.ravel()), preds.append(ids.ravel())
        if w is not None:
            weights.append(np.repeat(w, steps) if w.ndim == 1 else w.ravel())
    options = {
        "num_classes": classes,
        "average": case["average"],
        "zero_division": case["zero_division"],
    }
    values = run_family(case["builder"], options, batches, case["kind"])
    check_family(
        values,
        np.concatenate(ys),
        np.concatenate(preds),
        options,
        range(classes),
        np.concatenate(weights) if weights else None,
    )


@st.composite
def multilabel_cases(draw):
    num_classes = draw(st.integers(2, 5))
    classes = None
    if draw(st.booleans()):
        classes = draw(st.lists(st.integers(0, num_classes - 1), min_size=1, unique=True))
    return {
        "num_classes": num_classes,
        "classes": classes,
        "give_num_classes": draw(st.booleans()),
        "average": draw(st.sampled_from(["micro", "macro", "weighted", "samples", None])),
        "predictions": draw(st.sampled_from(["probabilities", "indicators"])),
        "weights": draw(weight_layouts),
        "threshold": draw(st.sampled_from([0.3, 0.5])),
        "beta": draw(st.sampled_from([0.5, 1.0, 2.0])),
        "zero_division": draw(zero_divisions),
        "builder": draw(family),
        "sizes": draw(sizes),
        "seed": draw(seeds),
        "kind": draw(st.sampled_from(PLACEHOLDERS)),
    }


@SETTINGS
@given(multilabel_cases())
def test_multilabel_family_equals_sklearn(case):
    rng = np.random.default_rng(case["seed"])
    columns = case["num_classes"]
    batches, ys, preds = [], [], []
    for size in case["sizes"]:
        y = rng.integers(0, 2, (size, columns))
        p = rng.uniform(size=(size, columns)).astype(np.float32)
        predicted = (p > case["threshold"]).astype(np.int64)
        batches.append(
            (
                y,
                p if case["predictions"] == "probabilities" else predicted,
                _weights(rng, size, case["weights"]),
            )
        )
        ys.append(y), preds.append(predicted)
    if case["kind"] != "batch" and not case["give_num_classes"]:
        case["give_num_classes"] = True  # The width must come from somewhere.
    options = {key: case[key] for key in ("average", "classes", "threshold", "beta")}
    options.update(
        multilabel=True,
        zero_division=case["zero_division"],
        num_classes=columns if case["give_num_classes"] else None,
    )
    values = run_family(case["builder"], options, batches, case["kind"])
    check_family(
        values,
        np.concatenate(ys),
        np.concatenate(preds),
        options,
        case["classes"] or range(columns),
        _oracle_weights(batches, 2),
    )


# ------------------------------------------------------------- MAPE, average confidence


def _targets(rng, shape):
    """Regression targets away from 0 (as scikit-learn's MAPE needs), and predictions."""
    y = rng.uniform(0.5, 50, shape) * rng.choice([-1, 1], shape)
    return y, y * rng.uniform(0.5, 1.5, shape) + rng.normal(size=shape)


@SETTINGS
@given(
    labels=st.sampled_from(["[B]", "[B, 1]"]),
    predictions=st.sampled_from(["[B]", "[B, 1]"]),
    weights=weight_layouts,
    sizes=sizes,
    seed=seeds,
    kind=st.sampled_from(PLACEHOLDERS),
)
def test_mape_equals_sklearn(labels, predictions, weights, sizes, seed, kind):
    rng = np.random.default_rng(seed)
    batches, ys, ps = [], [], []
    for size in sizes:
        y, p = _targets(rng, size)
        batches.append(
            (
                y if labels == "[B]" else y[:, None],
                p if predictions == "[B]" else p[:, None],
                _weights(rng, size, weights, zero_share=0.2),
            )
        )
        ys.append(y), ps.append(p)
    w = _oracle_weights(batches, 2)
    value = run_stream(lambda y, p, w: builders.mape(y, p, w), batches, kind)
    y, p = np.concatenate(ys), np.concatenate(ps)
    if w is not None and w.sum() == 0:  # No weight at all: 0.0, never NaN (sklearn divides).
        assert value == 0.0
        return
    _check(value, 100 * metrics.mean_absolute_percentage_error(y, p, sample_weight=w))


@SETTINGS
@given(
    columns=st.integers(1, 4),
    multioutput=st.sampled_from(["uniform_average", "raw_values", "weights"]),
    weights=weight_layouts,
    sizes=sizes,
    seed=seeds,
    kind=st.sampled_from(PLACEHOLDERS),
)
def test_mape_per_output_column_equals_sklearn(columns, multioutput, weights, sizes, seed, kind):
    rng = np.random.default_rng(seed)
    batches, ys, ps = [], [], []
    for size in sizes:
        y, p = _targets(rng, (size, columns))
        batches.append((y, p, _weights(rng, size, weights, zero_share=0.2)))
        ys.append(y), ps.append(p)
    if multioutput == "weights":
        multioutput = rng.uniform(0, 2, columns).tolist()
    build = lambda y, p, w: builders.mape(y, p, w, multioutput=multioutput)
    if multioutput == "raw_values" and kind != "batch":  # K is the static last axis.
        with pytest.raises(ValueError, match=r"with a static last axis \(the K output columns\)"):
            run_stream(build, batches, kind)
        return
    value = run_stream(build, batches, kind)
    w = _oracle_weights(batches, 2)
    if w is not None and w.sum() == 0:  # No weight at all: 0.0 per column, never NaN.
        np.testing.assert_array_equal(value, np.zeros_like(value))
        return
    y, p = np.concatenate(ys), np.concatenate(ps)
    if columns == 1 and not isinstance(multioutput, str):  # sklearn refuses: its one column.
        multioutput = "uniform_average"
    expected = metrics.mean_absolute_percentage_error(
        y, p, sample_weight=w, multioutput=multioutput
    )
    _check(value, 100 * expected)


@SETTINGS
@given(
    columns=st.integers(2, 6),
    sequence=st.booleans(),
    weights=weight_layouts,
    sizes=sizes,
    seed=seeds,
    kind=st.sampled_from(PLACEHOLDERS),
)
def test_average_confidence_equals_numpy(columns, sequence, weights, sizes, seed, kind):
    rng = np.random.default_rng(seed)
    steps = 3 if sequence else 1
    batches = []
    for size in sizes:
        p = rng.dirichlet(np.ones(columns), size=(size, steps) if sequence else size)
        batches.append((p, _weights(rng, size, weights)))
    confidence = np.concatenate([b[0].max(-1).ravel() for b in batches])
    w = _oracle_weights(batches, 1, per_example=steps)
    w = np.ones_like(confidence) if w is None else w
    expected = 0.0 if w.sum() == 0 else np.sum(w * confidence) / w.sum()
    value = run_stream(lambda p, w: builders.average_confidence(p, w), batches, kind)
    _check(value, expected)


@SETTINGS
@given(
    columns=st.sampled_from([1, 2, 3, 6, 20]),  # 1: probabilities of class 1; 20: keyed rows.
    labels=st.sampled_from(["ids", "column", "one-hot"]),
    num_bins=st.sampled_from([1, 2, 7, 15]),
    norm=st.sampled_from(builders.NORMS),
    weights=weight_layouts,
    sizes=sizes,
    seed=seeds,
    kind=st.sampled_from(PLACEHOLDERS),
)
def test_calibration_error_equals_numpy(
    columns, labels, num_bins, norm, weights, sizes, seed, kind
):
    rng = np.random.default_rng(seed)
    classes = max(columns, 2)
    batches, confidence, correct = [], [], []
    for size in sizes:
        if columns == 1:
            p = rng.uniform(size=size)
            p[rng.uniform(size=size) < 0.2] = rng.choice([0.0, 0.5, 1.0])  # Edges, exactly.
            p = p[:, None] if labels == "column" else p
            y = rng.integers(0, 2, size)
            found = calibration_oracle.of_class_1(y, p)
        else:
            p = rng.dirichlet(np.full(columns, 0.5), size=size)
            p[: size // 3] = np.round(p[: size // 3] * 4) / 4  # Ties, and sums off 1 a little.
            y = rng.integers(0, classes, size)
            found = calibration_oracle.top_label(y, p)
        given = {"ids": y, "column": y[:, None], "one-hot": np.eye(classes)[y]}[labels]
        if columns == 1 and labels == "one-hot":
            given = y  # One-hot binary labels are F-beta's business; ids here.
        batches.append((given, p, _weights(rng, size, weights)))
        confidence.append(found[0]), correct.append(found[1])
    w = _oracle_weights(batches, 2)
    state = calibration_oracle.bins(
        np.concatenate(confidence), np.concatenate(correct), w, num_bins
    )
    value = run_stream(
        lambda y, p, w: builders.calibration_error(y, p, w, num_bins=num_bins, norm=norm),
        batches,
        kind,
    )
    _check(value, calibration_oracle.calibration_error(state, norm))


@pytest.mark.parametrize("kind", PLACEHOLDERS)
def test_the_placeholder_kinds_are_what_they_say(kind):
    with tf.Graph().as_default():
        shape = parity.placeholder(np.zeros((2, 3)), kind).shape
    assert {"batch": [None, 3], "none": [None, None]}.get(kind) == (
        shape.as_list() if shape.rank is not None else None
    )
