"""Keras twins (FBeta, MAPE, AverageConfidence) against their builders, on Keras 2 and 3.

Every test here also runs on Keras 3 (TF 2.16+, `pytest -m keras3`): no Estimator, no
`tensorflow_estimator`. The builder runs in a `tf.compat.v1` graph session, which TF 2.16+
still has. Estimator places: `test_twins_estimator.py`.
"""

import re

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics import builders
from estimator_metrics._core.parity import run_stream
from estimator_metrics.keras_metrics import MAPE, AverageConfidence, FBeta
from support.twins import (
    CASES,
    RTOL,
    builder_in_graph,
    twin_eagerly,
    twin_in_model_evaluate,
)

pytestmark = pytest.mark.keras3


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_builder_equals_the_oracle_and_the_eager_twin_the_builder(case):
    arrays = case.arrays()
    reference = builder_in_graph(case, arrays)
    np.testing.assert_allclose(reference, case.oracle(*arrays), rtol=1e-12)
    assert np.any(reference > 0)  # A stream that exercises the metric.
    np.testing.assert_allclose(twin_eagerly(case, arrays), reference, rtol=RTOL, atol=0)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_twin_in_model_evaluate_equals_the_builder(case):
    arrays = case.arrays()
    evaluated = twin_in_model_evaluate(case, arrays)
    np.testing.assert_allclose(evaluated, builder_in_graph(case, arrays), rtol=RTOL, atol=0)


# ------------------------------------------------------------------ config and serialization

CONFIGS = [
    (FBeta, {}),
    (
        FBeta,
        {
            "beta": 0.5,
            "num_classes": 4,
            "average": None,
            "classes": [3, 1],
            "threshold": 0.25,
            "multilabel": True,
            "name": "f05",
            "dtype": "float32",
        },
    ),
    (FBeta, {"num_classes": 3, "average": "weighted"}),
    (MAPE, {}),
    (MAPE, {"epsilon": 0.5, "name": "mape_half"}),
    (AverageConfidence, {"name": "top", "dtype": "float32"}),
]


@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS)
def test_config_round_trip_and_keras_serialization(cls, kwargs):
    metric = cls(**kwargs)
    config = metric.get_config()
    for key, value in kwargs.items():
        assert config[key] == value, key
    assert cls.from_config(config).get_config() == config
    restored = tf.keras.metrics.deserialize(tf.keras.metrics.serialize(metric))
    assert type(restored) is cls and restored.get_config() == config
    assert tf.keras.utils.get_registered_object(f"estimator_metrics>{cls.__name__}") is cls


def test_restored_twin_gives_the_same_number(multilabel_batches):
    metric = FBeta(beta=2.0, num_classes=5, average="macro", threshold=0.3, multilabel=True)
    restored = tf.keras.metrics.deserialize(tf.keras.metrics.serialize(metric))
    for labels, predictions, weights in multilabel_batches:
        for each in (metric, restored):
            each.update_state(labels, predictions, sample_weight=weights)
    assert float(metric.result()) > 0
    assert float(restored.result()) == float(metric.result())


def test_a_saved_model_restores_its_twins_by_their_registered_names(tmp_path, rng):
    inputs = tf.keras.Input((3,))
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(3, activation="softmax")(inputs))
    twins = [FBeta(num_classes=3, average="macro", classes=[0, 2]), AverageConfidence()]
    model.compile(loss="sparse_categorical_crossentropy", weighted_metrics=twins)
    x, y = rng.normal(size=(40, 3)).astype(np.float32), rng.integers(0, 3, 40)
    w = rng.uniform(0, 2, 40).astype(np.float32)
    kwargs = dict(sample_weight=w, batch_size=16, verbose=0, return_dict=True)
    before = model.evaluate(x, y, **kwargs)
    model.save(tmp_path / "model.keras")
    restored = tf.keras.models.load_model(tmp_path / "model.keras")
    assert restored.evaluate(x, y, **kwargs) == before
    assert before["fbeta"] > 0 and before["average_confidence"] > 0


def test_lazily_built_twin_keeps_num_classes_none_in_its_config():
    metric = FBeta(multilabel=True, average="micro")
    metric.update_state([[1, 0, 1]], [[0.9, 0.8, 0.1]])
    assert metric.counts.shape == (3, 3)
    assert metric.get_config()["num_classes"] is None


# ------------------------------------------------------------- dtype, state, reset, no data


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: FBeta(num_classes=3, average=None, **kw),
        lambda **kw: MAPE(**kw),
        lambda **kw: AverageConfidence(**kw),
    ],
)
def test_state_is_float64_and_result_float64_unless_dtype_says_otherwise(make):
    assert make().result().dtype == tf.float64
    metric = make(dtype="float32")
    assert metric.result().dtype == tf.float32
    assert metric.variables
    # Keras 2 reports a tf.DType, Keras 3 a string.
    assert {tf.as_dtype(variable.dtype) for variable in metric.variables} == {tf.float64}


def test_fbeta_counts_stay_exact_past_2_pow_24():
    metric = FBeta()
    metric.update_state([1], [0.9], sample_weight=[2.0**24])
    for _ in range(100):
        metric.update_state([1, 0], [0.2, 0.7], sample_weight=[1.0, 1.0])
    np.testing.assert_array_equal(metric.counts.numpy(), [2.0**24, 100, 100])
    np.testing.assert_allclose(metric.result(), 2 * 2.0**24 / (2 * 2.0**24 + 200), rtol=1e-15)


def test_no_data_gives_zero_and_reset_state_empties_every_twin():
    twins = [
        FBeta(num_classes=3, average="macro"),
        FBeta(num_classes=3, average=None),
        FBeta(multilabel=True, average="micro"),  # State built on the first update.
        MAPE(),
        AverageConfidence(),
    ]
    for metric in twins:
        np.testing.assert_array_equal(metric.result(), np.zeros_like(metric.result()))
    twins[0].update_state([0, 2], [[0.8, 0.1, 0.1], [0.1, 0.2, 0.7]])
    twins[1].update_state([0, 1, 2], [[0.8, 0.1, 0.1], [0.1, 0.6, 0.3], [0.1, 0.2, 0.7]])
    twins[2].update_state([[1, 0]], [[0.9, 0.1]])
    twins[3].update_state([2.0], [1.0])
    twins[4].update_state(None, [[0.2, 0.8]])
    for metric in twins:
        assert np.all(metric.result().numpy() != 0)
        metric.reset_state()
        np.testing.assert_array_equal(metric.result(), np.zeros_like(metric.result()))


def test_results_before_any_batch_have_the_shape_they_will_have():
    assert FBeta(num_classes=4, average=None).result().shape == (4,)
    assert FBeta(num_classes=4, average=None, classes=[2, 0]).result().shape == (2,)
    assert FBeta(multilabel=True, average=None, classes=[2, 0]).result().shape == (2,)
    assert FBeta(multilabel=True, average=None).result().shape == (0,)  # No C yet.
    assert FBeta(multilabel=True, average="macro").result().shape == ()


# --------------------------------------------------------------------------- bad options


def _options_error(call):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    return info.type, str(info.value)


@pytest.mark.parametrize(
    ("twin", "options"),
    [
        (FBeta, {"beta": 0.0}),
        (FBeta, {"beta": "1"}),
        (FBeta, {"threshold": 1.0}),
        (FBeta, {"average": "samples"}),
        (FBeta, {"num_classes": 1, "average": "macro"}),
        (FBeta, {"num_classes": 3}),  # average="binary" with 3 classes.
        (FBeta, {"average": "macro"}),  # Multiclass without num_classes.
        (FBeta, {"multilabel": True}),  # average="binary" with multilabel.
        (FBeta, {"multilabel": 1, "average": "macro"}),
        (FBeta, {"classes": [0, 1]}),  # classes with average="binary".
        (FBeta, {"num_classes": 3, "average": "macro", "classes": (0, 3)}),
        (FBeta, {"num_classes": 3, "average": "macro", "classes": [1, 1]}),
        (FBeta, {"num_classes": 3, "average": "macro", "classes": "01"}),
        (FBeta, {"multilabel": True, "average": "macro", "classes": []}),
        (MAPE, {"epsilon": 0.0}),
        (MAPE, {"epsilon": float("nan")}),
    ],
)
def test_bad_options_are_refused_with_the_builders_error(twin, options):
    builder = {FBeta: builders.fbeta, MAPE: builders.mape}[twin]
    with tf.Graph().as_default():
        expected = _options_error(lambda: builder([1, 0], [0.9, 0.1], **options))
    assert _options_error(lambda: twin(**options)) == expected


def test_classes_beyond_the_width_seen_are_refused_at_the_first_update():
    """Multilabel without num_classes: C, and so the range of `classes`, comes with data."""
    labels, predictions = [[1, 0, 1]], [[0.9, 0.2, 0.4]]
    options = {"multilabel": True, "average": "macro", "classes": [0, 3]}
    with tf.Graph().as_default():
        expected = _options_error(lambda: builders.fbeta(labels, predictions, **options))
    assert "num_classes=3" in expected[1]
    metric = FBeta(**options)  # C unknown yet: nothing to check [0, 3] against.
    assert _options_error(lambda: metric.update_state(labels, predictions)) == expected


# ---------------------------------------------------------------------------- bad inputs


def _assertion(error) -> str:
    """The data of a failed `Assert`: the same in a session, eagerly and in a tf.function."""
    found = re.search(r"assertion failed: (.*?)(?: \[Op:Assert\])?$", str(error), re.M)
    assert found, str(error)
    return found.group(1)


def _input_error(call):
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)) as info:
        call()
    if info.type is tf.errors.InvalidArgumentError:
        return tf.errors.InvalidArgumentError, _assertion(info.value)
    return info.type, str(info.value)


def _builder_error(builder, inputs, static=None):
    """The builder's error on `inputs` (constants, or placeholders knowing as much of their
    shapes as `static` says): at build time, or when its update runs."""
    if static:
        return _input_error(lambda: run_stream(builder, [inputs], static=static))

    def run():
        with tf.Graph().as_default():
            _, update = builder(*(None if a is None else tf.constant(a) for a in inputs))
            with tf.compat.v1.Session() as session:
                session.run(tf.compat.v1.local_variables_initializer())
                session.run(update)

    return _input_error(run)


def _traced_update(metric, inputs):
    """`metric.update_state` in a tf.function whose inputs have only None dimensions."""
    given = [a for a in inputs if a is not None]
    signature = [tf.TensorSpec([None] * a.ndim, tf.as_dtype(a.dtype)) for a in given]

    @tf.function(input_signature=signature)
    def update(*tensors):
        tensors = iter(tensors)
        metric.update_state(*(None if a is None else next(tensors) for a in inputs))

    return lambda: update(*given)


P3 = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)

BAD_INPUTS = {
    "fbeta_shapes": (
        lambda: FBeta(),
        lambda y, p, w: builders.fbeta(y, p, w),
        (np.array([1, 0, 1]), np.array([0.2, 0.3, 0.9, 0.1], np.float32), None),
    ),
    "fbeta_probabilities_above_1": (
        lambda: FBeta(),
        lambda y, p, w: builders.fbeta(y, p, w),
        (np.array([1, 0]), np.array([0.2, 1.5], np.float32), None),
    ),
    "fbeta_two_columns_without_num_classes": (
        lambda: FBeta(),
        lambda y, p, w: builders.fbeta(y, p, w),
        (np.array([1, 0]), P3[:, :2], None),
    ),
    "fbeta_label_ids_out_of_range": (
        lambda: FBeta(num_classes=3, average="macro"),
        lambda y, p, w: builders.fbeta(y, p, w, num_classes=3, average="macro"),
        (np.array([0, 7]), P3, None),
    ),
    "fbeta_negative_weights": (
        lambda: FBeta(num_classes=3, average=None),
        lambda y, p, w: builders.fbeta(y, p, w, num_classes=3, average=None),
        (np.array([0, 2]), P3, np.array([1.0, -2.0], np.float32)),
    ),
    "fbeta_multilabel_labels_not_0_1": (
        lambda: FBeta(multilabel=True, average="micro"),
        lambda y, p, w: builders.fbeta(y, p, w, multilabel=True, average="micro"),
        (np.array([[0, 2, 1], [1, 0, 0]]), P3, None),
    ),
    "mape_nan_labels": (
        MAPE,
        lambda y, p, w: builders.mape(y, p, w),
        (np.array([1.0, np.nan], np.float32), np.array([1.0, 2.0], np.float32), None),
    ),
    "mape_weights_of_another_length": (
        MAPE,
        lambda y, p, w: builders.mape(y, p, w),
        (np.ones(3, np.float32), np.ones([3, 1], np.float32), np.ones(2, np.float32)),
    ),
    "confidence_one_column": (
        AverageConfidence,
        lambda y, p, w: builders.average_confidence(p, w),
        (None, P3[:, :1], None),
    ),
}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_is_refused_eagerly_with_the_builders_error(name):
    make, builder, inputs = BAD_INPUTS[name]
    expected = _builder_error(builder, inputs)
    labels, predictions, weights = inputs
    assert _input_error(lambda: make().update_state(labels, predictions, weights)) == expected


@pytest.mark.parametrize(
    "name", ["fbeta_shapes", "fbeta_label_ids_out_of_range", "mape_weights_of_another_length"]
)
def test_shapes_known_only_at_run_time_are_checked_there_as_in_the_builder(name):
    """In a tf.function whose inputs have only None dimensions, as in `model.evaluate`
    with unbatched data, the twin refuses at run time what the builder refuses then."""
    make, builder, inputs = BAD_INPUTS[name]
    expected = _builder_error(builder, inputs, static="none")
    assert expected[0] is tf.errors.InvalidArgumentError
    assert _input_error(_traced_update(make(), inputs)) == expected


def test_model_evaluate_refuses_logits_where_probabilities_belong():
    case_inputs = np.array([1, 0, 1, 1]), np.array([0.9, -2.0, 0.4, 3.0], np.float32)
    model = tf.keras.Sequential([tf.keras.layers.Lambda(lambda x: x)])
    model.compile(loss=lambda y, p: 0.0 * tf.reduce_sum(p), metrics=[FBeta()])
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"`predictions` must be finite and lie in \[0, 1\]"
    ):
        model.evaluate(case_inputs[1], case_inputs[0], batch_size=2, verbose=0)


def test_multilabel_width_unknown_statically_needs_num_classes():
    inputs = (np.ones([2, 3], np.float32), np.ones([2, 3], np.float32))
    with pytest.raises(ValueError, match=r"Expected `num_classes` with multilabel=True"):
        _traced_update(FBeta(multilabel=True, average="macro"), inputs)()
    with_width = FBeta(num_classes=3, multilabel=True, average="macro")
    _traced_update(with_width, inputs)()
    assert float(with_width.result()) == 1.0


def test_other_keras_backends_are_refused_by_name(monkeypatch):
    monkeypatch.setattr(tf.keras.backend, "backend", lambda: "jax")
    for twin in (FBeta, MAPE, AverageConfidence):
        with pytest.raises(RuntimeError, match=rf"{twin.__name__} runs on the TensorFlow backend"):
            twin()


def test_xla_is_refused_since_it_drops_the_input_checks():
    """Under XLA the Asserts vanish: out-of-range class ids would count nowhere, silently."""
    labels, predictions = np.array([0, 7]), P3
    metric = FBeta(num_classes=3, average="macro")
    with pytest.raises(RuntimeError, match=r"FBeta cannot run compiled with XLA.*jit_compile"):
        tf.function(lambda y, p: [metric.update_state(y, p)], jit_compile=True)(labels, predictions)
    model = tf.keras.Sequential([tf.keras.layers.Lambda(lambda x: x)])
    model.compile(loss=lambda y, p: 0.0 * tf.reduce_sum(p), metrics=[MAPE()], jit_compile=True)
    with pytest.raises(RuntimeError, match=r"MAPE cannot run compiled with XLA"):
        model.evaluate(np.ones([4, 1], np.float32), np.ones(4, np.float32), verbose=0)
    model.compile(loss=lambda y, p: 0.0 * tf.reduce_sum(p), metrics=[MAPE()], jit_compile=False)
    assert model.evaluate(np.ones([4, 1], np.float32), 2 * np.ones(4, np.float32), verbose=0) == [
        0.0,
        50.0,
    ]
