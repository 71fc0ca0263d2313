"""builders.fbeta against sklearn.metrics.fbeta_score on seeded weighted streams."""

import numpy as np
import pytest
from sklearn.metrics import fbeta_score

from estimator_metrics import builders
from estimator_metrics._core.parity import run_stream
from support.data import NUM_CLASSES, concat

BETAS = (0.5, 1.0, 2.0)
MULTI_AVERAGES = ("micro", "macro", "weighted", None)


def _oracle(labels, y_pred, beta, average, weights, num_classes):
    return fbeta_score(
        labels,
        y_pred,
        beta=beta,
        average=average,
        labels=range(num_classes),
        sample_weight=weights,
        zero_division=0,
    )


def _check(build, batches, expected):
    before, value = run_stream(build, batches)
    np.testing.assert_array_equal(before, np.zeros_like(expected))
    np.testing.assert_allclose(value, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("threshold", [0.5, 0.3])
@pytest.mark.parametrize("weighted", [True, False])
def test_binary_probabilities(binary_batches, beta, threshold, weighted):
    batches = [(y, p, w if weighted else None) for y, p, w in binary_batches]
    y, p = concat(binary_batches, 0), concat(binary_batches, 1)
    expected = _oracle(
        y, p > threshold, beta, "binary", concat(binary_batches, 2) if weighted else None, 2
    )
    _check(
        lambda y, p, w: builders.fbeta(y, p, beta=beta, threshold=threshold, weights=w),
        batches,
        expected,
    )


def test_binary_probabilities_b1_and_bool_labels(binary_batches):
    batches = [(y.astype(bool)[:, None], p[:, None], w) for y, p, w in binary_batches]
    expected = _oracle(
        concat(binary_batches, 0),
        concat(binary_batches, 1) > 0.5,
        1.0,
        "binary",
        concat(binary_batches, 2),
        2,
    )
    _check(lambda y, p, w: builders.fbeta(y, p, weights=w), batches, expected)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, bool])
def test_binary_integer_or_bool_predictions_are_ids(binary_batches, dtype):
    batches = [(y, (p > 0.7).astype(dtype), w) for y, p, w in binary_batches]
    expected = _oracle(
        concat(binary_batches, 0),
        concat(binary_batches, 1) > 0.7,
        2.0,
        "binary",
        concat(binary_batches, 2),
        2,
    )
    _check(lambda y, p, w: builders.fbeta(y, p, beta=2.0, weights=w), batches, expected)


def test_binary_from_two_column_scores_with_num_classes_2(multiclass_batches):
    batches = [(np.minimum(y, 1), p[:, :2], w) for y, p, w in multiclass_batches]
    y, scores = concat(batches, 0), concat(batches, 1)
    expected = _oracle(y, scores.argmax(1), 0.5, "binary", concat(batches, 2), 2)
    _check(
        lambda y, p, w: builders.fbeta(y, p, beta=0.5, num_classes=2, weights=w), batches, expected
    )


@pytest.mark.parametrize("average", MULTI_AVERAGES)
@pytest.mark.parametrize("beta", BETAS)
def test_multiclass_scores(multiclass_batches, average, beta):
    y, scores, w = (concat(multiclass_batches, i) for i in range(3))
    expected = _oracle(y, scores.argmax(1), beta, average, w, NUM_CLASSES)
    _check(
        lambda y, p, w: builders.fbeta(
            y, p, beta=beta, num_classes=NUM_CLASSES, average=average, weights=w
        ),
        multiclass_batches,
        expected,
    )


@pytest.mark.parametrize("average", MULTI_AVERAGES)
def test_multiclass_ids_unweighted_with_b1_labels(multiclass_batches, average):
    batches = [(y[:, None], p.argmax(1), None) for y, p, _ in multiclass_batches]
    y, ids = concat(multiclass_batches, 0), concat(batches, 1)
    expected = _oracle(y, ids, 1.0, average, None, NUM_CLASSES)
    _check(
        lambda y, p, w: builders.fbeta(y, p, num_classes=NUM_CLASSES, average=average),
        batches,
        expected,
    )


@pytest.mark.parametrize("average", MULTI_AVERAGES)
def test_multiclass_one_hot_labels(multiclass_batches, average):
    eye = np.eye(NUM_CLASSES, dtype=np.float32)
    batches = [(eye[y], p, w) for y, p, w in multiclass_batches]
    y, scores, w = (concat(multiclass_batches, i) for i in range(3))
    expected = _oracle(y, scores.argmax(1), 1.0, average, w, NUM_CLASSES)
    _check(
        lambda y, p, w: builders.fbeta(y, p, num_classes=NUM_CLASSES, average=average, weights=w),
        batches,
        expected,
    )


@pytest.mark.parametrize("average", MULTI_AVERAGES)
def test_class_never_seen_counts_as_zero_like_sklearn_labels_range(multiclass_batches, average):
    # Class 4 appears neither in labels nor predictions.
    batches = [(np.minimum(y, 3), np.minimum(p.argmax(1), 3), w) for y, p, w in multiclass_batches]
    y, ids, w = (concat(batches, i) for i in range(3))
    expected = _oracle(y, ids, 1.0, average, w, NUM_CLASSES)
    _check(
        lambda y, p, w: builders.fbeta(y, p, num_classes=NUM_CLASSES, average=average, weights=w),
        batches,
        expected,
    )


@pytest.mark.parametrize("average", MULTI_AVERAGES)
@pytest.mark.parametrize("threshold", [0.5, 0.8])
def test_multilabel_probabilities(multilabel_batches, average, threshold):
    y, p, w = (concat(multilabel_batches, i) for i in range(3))
    expected = _oracle(y, p > threshold, 2.0, average, w, NUM_CLASSES)
    _check(
        lambda y, p, w: builders.fbeta(
            y, p, beta=2.0, average=average, threshold=threshold, weights=w, multilabel=True
        ),
        multilabel_batches,
        expected,
    )


@pytest.mark.parametrize("average", MULTI_AVERAGES)
def test_multilabel_ids_with_explicit_num_classes(multilabel_batches, average):
    batches = [(y, (p > 0.5).astype(np.int64), None) for y, p, _ in multilabel_batches]
    y, ids = concat(batches, 0), concat(batches, 1)
    expected = _oracle(y, ids, 1.0, average, None, NUM_CLASSES)
    _check(
        lambda y, p, w: builders.fbeta(
            y, p, num_classes=NUM_CLASSES, average=average, multilabel=True
        ),
        batches,
        expected,
    )


@pytest.mark.parametrize(
    "kwargs, shape",
    [
        ({}, ()),
        ({"num_classes": 3, "average": None}, (3,)),
        ({"num_classes": 3, "average": "macro"}, ()),
        ({"num_classes": 3, "average": "weighted"}, ()),
        ({"num_classes": 3, "average": "micro"}, ()),
    ],
)
def test_no_data_or_zero_weight_is_zero_not_nan(kwargs, shape):
    empty = (np.zeros([0], np.int64), np.zeros([0], np.int64), np.zeros([0], np.float32))
    zero_weight = (np.array([1, 0]), np.array([1, 0]), np.zeros([2], np.float32))
    before, value = run_stream(
        lambda y, p, w: builders.fbeta(y, p, weights=w, **kwargs), [empty, zero_weight]
    )
    assert np.shape(value) == shape
    np.testing.assert_array_equal(value, np.zeros(shape))
    np.testing.assert_array_equal(before, np.zeros(shape))
