"""Bad input to precision, recall and precision_recall_fbeta: fbeta's errors, word for word.

Every case is refused by `builders.fbeta` first; each other builder of the family must refuse
it with the same error type and message, at build time (ValueError/TypeError) or when the
update runs (the data of the failed `Assert`), from constants and from placeholders whose
every dimension is None. Then the errors the family's new options add.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics import builders

P3 = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)
FAMILY = {
    "precision": builders.precision,
    "recall": builders.recall,
    "precision_recall_fbeta": builders.precision_recall_fbeta,
}
WITH_BETA = ("fbeta", "precision_recall_fbeta")


def _assertion(error) -> str:
    """The data of a failed `Assert` (the op's name differs from builder to builder)."""
    found = re.search(r"assertion failed: (.*?)(?: \[\[\{\{node|$)", str(error), re.M | re.S)
    assert found, str(error)
    return found.group(1).strip()


def outcome(builder, inputs, options, layout=None):
    """(error type, message) of building `builder` on `inputs` and running its updates."""

    def run():
        with tf.Graph().as_default():
            if layout is None:
                tensors = [None if a is None else tf.constant(a) for a in inputs]
                feed = {}
            else:
                shapes = {"none": lambda a: [None] * np.ndim(a), "unknown": lambda a: None}
                tensors = [
                    None
                    if a is None
                    else tf.compat.v1.placeholder(
                        tf.as_dtype(np.asarray(a).dtype), shapes[layout](a)
                    )
                    for a in inputs
                ]
                feed = {t: a for t, a in zip(tensors, inputs) if t is not None}
            result = builder(*tensors, **options)
            pairs = result.values() if isinstance(result, dict) else [result]
            with tf.compat.v1.Session() as session:
                session.run(tf.compat.v1.local_variables_initializer())
                session.run([update for _, update in pairs], feed)

    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)) as info:
        run()
    if info.type is tf.errors.InvalidArgumentError:
        return info.type, _assertion(info.value)
    return info.type, str(info.value)


BAD_OPTIONS = [
    {"beta": -1.0},
    {"beta": "1"},
    {"threshold": 1.0},
    {"average": "sideways", "num_classes": 3},
    {"average": "macro"},
    {"average": None},
    {"num_classes": 3},
    {"num_classes": 1, "average": "macro"},
    {"num_classes": 2.5, "average": "macro"},
    {"multilabel": True},
    {"multilabel": 1, "average": "macro"},
    {"classes": [0, 1]},
    {"num_classes": 3, "average": "macro", "classes": (0, 3)},
    {"num_classes": 3, "average": "macro", "classes": [1, 1]},
    {"num_classes": 3, "average": "macro", "classes": "01"},
    {"multilabel": True, "average": "macro", "classes": []},
    {"average": "samples", "num_classes": 3},
    {"zero_division": 2},
    {"zero_division": "warn"},
    {"zero_division": True},
    {"zero_division": None},
    {"zero_division": -math.inf},
    {"name": 3},
]


@pytest.mark.parametrize("name", FAMILY)
@pytest.mark.parametrize("options", BAD_OPTIONS, ids=str)
def test_bad_options_raise_fbetas_error(name, options):
    if "beta" in options and name not in WITH_BETA:
        pytest.skip("no beta")
    inputs = (np.array([1, 0]), np.array([0.9, 0.1], np.float32), None)
    expected = outcome(builders.fbeta, inputs, options)
    assert expected[0] in (ValueError, TypeError)
    assert outcome(FAMILY[name], inputs, options) == expected


BAD_INPUTS = {
    "shapes_differ": ({}, (np.array([1, 0, 1]), np.array([0.2, 0.3, 0.9, 0.1], np.float32))),
    "probabilities_above_1": ({}, (np.array([1, 0]), np.array([0.2, 1.5], np.float32))),
    "logits_as_probabilities": ({}, (np.array([1, 0]), np.array([2.3, -1.2], np.float32))),
    "two_columns_without_num_classes": ({}, (np.array([1, 0]), P3[:, :2])),
    "scores_narrower_than_num_classes": (
        {"num_classes": 5, "average": "micro"},
        (np.array([1, 0]), P3),
    ),
    "label_ids_out_of_range": (
        {"num_classes": 3, "average": "macro"},
        (np.array([0, 7]), P3),
    ),
    "float_labels_not_whole": ({}, (np.array([0.5, 1.0]), np.array([0.1, 0.9]))),
    "nan_scores": (
        {"num_classes": 3, "average": None},
        (np.array([0, 1]), np.array([[0.1, np.nan, 0.0], [1.0, 0.0, 0.0]])),
    ),
    "one_hot_not_one_hot": (
        {"num_classes": 3, "average": "micro"},
        (np.array([[0, 1, 1], [1, 0, 0]], np.float32), P3),
    ),
    "multilabel_labels_not_0_1": (
        {"multilabel": True, "average": "micro"},
        (np.array([[0, 2, 1], [1, 0, 0]]), P3),
    ),
    "multilabel_width_other_than_num_classes": (
        {"multilabel": True, "average": "macro", "num_classes": 4},
        (np.array([[0, 1, 1], [1, 0, 0]]), P3),
    ),
    "negative_weights": (
        {"num_classes": 3, "average": "weighted"},
        (np.array([0, 2]), P3, np.array([1.0, -2.0], np.float32)),
    ),
    "weights_of_another_length": (
        {"num_classes": 3, "average": "weighted"},
        (np.array([0, 2]), P3, np.array([1.0, 2.0, 3.0], np.float32)),
    ),
    "samples_weights_per_element": (
        {"multilabel": True, "average": "samples"},
        (np.array([[0, 1, 1], [1, 0, 0]]), P3, np.ones([2, 3], np.float32)),
    ),
    "samples_weights_of_another_length": (
        {"multilabel": True, "average": "samples"},
        (np.array([[0, 1, 1], [1, 0, 0]]), P3, np.ones([3], np.float32)),
    ),
}


@pytest.mark.parametrize("layout", [None, "none", "unknown"])
@pytest.mark.parametrize("name", FAMILY)
@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_inputs_raise_fbetas_error(case, name, layout):
    options, inputs = BAD_INPUTS[case]
    inputs = (*inputs, None)[:3]
    if layout and options.get("multilabel") and "num_classes" not in options:
        options = {**options, "num_classes": 3}  # The width must come from somewhere.
    expected = outcome(builders.fbeta, inputs, options, layout)
    if layout == "unknown":  # Not even a rank: every problem shows when the update runs.
        assert expected[0] is tf.errors.InvalidArgumentError, expected
    assert outcome(FAMILY[name], inputs, options, layout) == expected


def test_samples_weigh_examples_not_elements():
    options, inputs = BAD_INPUTS["samples_weights_per_element"]
    error, message = outcome(builders.fbeta, inputs, options)
    assert error is ValueError
    assert message == (
        "Expected `weights` to be a scalar, of length 1, or match the leading axes of "
        "`labels` without its class axis (average='samples' weighs examples); received "
        "weights.shape=(2, 3), values shape=(2,)"
    )


def test_new_options_name_themselves():
    inputs = (np.array([1, 0]), np.array([0.9, 0.1], np.float32), None)
    assert outcome(builders.fbeta, inputs, {"zero_division": 0.5}) == (
        ValueError,
        "Expected `zero_division` to be 0, 1 or float('nan'), received zero_division=0.5",
    )
    assert outcome(builders.precision, inputs, {"average": "samples", "num_classes": 2}) == (
        ValueError,
        "Expected multilabel=True with average='samples' (each example's predicted set of "
        "classes against its true set), received multilabel=False",
    )
    assert outcome(builders.precision_recall_fbeta, inputs, {"key_prefix": 1}) == (
        TypeError,
        "Expected `key_prefix` to be a str, received int: 1",
    )


@pytest.mark.parametrize("name", ["fbeta", *FAMILY])
def test_eager_execution_is_refused_by_name(name):
    builder = {"fbeta": builders.fbeta, **FAMILY}[name]
    with pytest.raises(RuntimeError, match=rf"builders\.{name} builds graph metric ops"):
        builder([1, 0], [1, 0])
