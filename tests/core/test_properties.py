"""Property-based: random multi-batch streams against scikit-learn/NumPy in float64.

Hypothesis draws the structure of a case (builder mode, layouts of labels, predictions and
weights, batch sizes including empty batches, averages, class subsets) and a seed for the
values; every case runs through placeholders of three kinds: the batch axis `None` and the
rest static, every dimension `None`, and shape `None`. Bounded and derandomized, so the
same cases run everywhere; no deadline (a graph build is slow, not wrong).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics

from estimator_metrics import builders
from estimator_metrics._core import parity

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


def _fbeta(y, y_pred, **kwargs):
    weights = kwargs.get("sample_weight")
    if weights is not None and not weights.any():  # sklearn refuses; zero_division=0 says 0.
        labels = kwargs.get("labels")
        return 0.0 if kwargs["average"] is not None else np.zeros(len(labels))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return metrics.fbeta_score(y, y_pred, zero_division=0, **kwargs)


def _check(value, expected):
    np.testing.assert_allclose(value, expected, rtol=1e-9, atol=1e-12)


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


@SETTINGS
@given(single_label_cases())
def test_single_label_fbeta_equals_sklearn(case):
    rng = np.random.default_rng(case["seed"])
    made = [_single_label_batch(rng, size, case) for size in case["sizes"]]
    batches = [batch for batch, _, _ in made]
    y, y_pred = (np.concatenate([m[i] for m in made]) for i in (1, 2))
    options = {k: case[k] for k in ("beta", "num_classes", "average", "classes", "threshold")}
    value = run_stream(lambda y, p, w: builders.fbeta(y, p, w, **options), batches, case["kind"])
    labels = case["classes"] or (
        range(case["num_classes"]) if case["average"] != "binary" else None
    )
    expected = _fbeta(
        y,
        y_pred,
        beta=case["beta"],
        average=case["average"],
        labels=labels,
        sample_weight=_oracle_weights(batches, 2),
    )
    _check(value, expected)


@st.composite
def sequence_cases(draw):
    return {
        "num_classes": draw(st.sampled_from([2, 4])),
        "average": draw(st.sampled_from(["micro", "macro", None])),
        "labels": draw(st.sampled_from(["ids", "one-hot"])),
        "predictions": draw(st.sampled_from(["scores", "ids"])),
        "weights": draw(st.sampled_from(["none", "per-token", "per-sequence"])),
        "steps": draw(st.integers(1, 5)),
        "sizes": draw(sizes),
        "seed": draw(seeds),
        "kind": draw(st.sampled_from(PLACEHOLDERS)),
    }


@SETTINGS
@given(sequence_cases())
def test_sequence_fbeta_equals_sklearn_over_every_token(case):
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
    value = run_stream(
        lambda y, p, w: builders.fbeta(y, p, w, num_classes=classes, average=case["average"]),
        batches,
        case["kind"],
    )
    expected = _fbeta(
        np.concatenate(ys),
        np.concatenate(preds),
        beta=1.0,
        average=case["average"],
        labels=range(classes),
        sample_weight=np.concatenate(weights) if weights else None,
    )
    _check(value, expected)


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
        "average": draw(st.sampled_from(["micro", "macro", "weighted", None])),
        "predictions": draw(st.sampled_from(["probabilities", "indicators"])),
        "weights": draw(weight_layouts),
        "threshold": draw(st.sampled_from([0.3, 0.5])),
        "sizes": draw(sizes),
        "seed": draw(seeds),
        "kind": draw(st.sampled_from(PLACEHOLDERS)),
    }


@SETTINGS
@given(multilabel_cases())
def test_multilabel_fbeta_equals_sklearn(case):
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
    options = {
        "average": case["average"],
        "classes": case["classes"],
        "threshold": case["threshold"],
        "multilabel": True,
        "num_classes": columns if case["give_num_classes"] else None,
    }
    value = run_stream(lambda y, p, w: builders.fbeta(y, p, w, **options), batches, case["kind"])
    expected = _fbeta(
        np.concatenate(ys),
        np.concatenate(preds),
        beta=1.0,
        average=case["average"],
        labels=case["classes"] or range(columns),
        sample_weight=_oracle_weights(batches, 2),
    )
    _check(value, expected)


# ------------------------------------------------------------- MAPE, average confidence


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
        y = rng.uniform(0.5, 50, size) * rng.choice([-1, 1], size)  # Away from 0, as sklearn.
        p = y * rng.uniform(0.5, 1.5, size) + rng.normal(size=size)
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


@pytest.mark.parametrize("kind", PLACEHOLDERS)
def test_the_placeholder_kinds_are_what_they_say(kind):
    with tf.Graph().as_default():
        shape = parity.placeholder(np.zeros((2, 3)), kind).shape
    assert {"batch": [None, 3], "none": [None, None]}.get(kind) == (
        shape.as_list() if shape.rank is not None else None
    )
