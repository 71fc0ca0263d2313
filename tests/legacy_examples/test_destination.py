"""legacy_examples.destination: an Estimator's checkpoint in a Keras model, the same metrics.

The end-to-end test trains and evaluates the classifier as an Estimator here (TensorFlow
2.12-2.15), then runs the Keras half in DESTINATION_PYTHON: `make test` sets it to the Keras 3
environment (.venv-keras3: TensorFlow 2.21, no tensorflow-estimator); unset, the Keras half
runs on this line's Keras. The checkpoint-mapping tests are marked keras3: they write a
checkpoint with the classifier's variable names themselves, so they run on Keras 3 too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import fbeta_score

from estimator_metrics._core.environment import tensorflow_line
from estimator_metrics.legacy_examples import classifier, destination

#: Fewer than the CLI's 300: the comparison does not depend on how well the model learned.
STEPS = 100
KERAS_PYTHON = os.environ.get("DESTINATION_PYTHON")


def test_estimator_half_then_keras_half_give_the_same_metrics(tmp_path):
    report = destination.estimator_half(str(tmp_path), STEPS, log=lambda _: None)
    assert report["global_step"] == STEPS

    # The Estimator's numbers against NumPy and scikit-learn on its own predictions.
    with np.load(tmp_path / destination.EVAL_NPZ) as arrays:
        labels, probabilities = arrays["labels"], arrays["probabilities"]
    predicted = probabilities.argmax(1)
    expected = {
        "accuracy": np.mean(predicted == labels),
        "f1_macro": fbeta_score(
            labels, predicted, beta=1.0, average="macro", labels=range(classifier.NUM_CLASSES)
        ),
        "average_confidence": np.mean(probabilities.astype(np.float64).max(1)),
    }
    for name, value in expected.items():
        np.testing.assert_allclose(report["metrics"][name], value, rtol=1e-7, err_msg=name)

    result = subprocess.run(
        [
            KERAS_PYTHON or sys.executable,
            "-m",
            "estimator_metrics.legacy_examples.destination",
            "keras",
            "--dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, (result.stdout, result.stderr[-3000:])
    keras = json.loads((tmp_path / destination.KERAS_JSON).read_text(encoding="utf-8"))
    assert [row["metric"] for row in keras["rows"]] == list(destination.METRICS)
    assert all(row["agrees"] for row in keras["rows"]), keras["rows"]
    assert keras["predicted_class_differs"] == 0
    assert keras["max_probability_difference"] < 1e-6
    assert "agree" in result.stdout and "DIFFER" not in result.stdout
    if KERAS_PYTHON:  # The other side of the migration: Keras 3, no Estimator at all.
        versions = keras["keras_versions"]
        assert tensorflow_line(versions["tensorflow"]) >= (2, 16), versions
        assert versions["keras"].startswith("3."), versions
        assert versions["tensorflow-estimator"] is None, versions


# --------------------------------------------------------- the checkpoint mapping

SHAPES = {
    "dense/kernel": (classifier.NUM_FEATURES, 64),
    "dense/bias": (64,),
    "dense_1/kernel": (64, classifier.NUM_CLASSES),
    "dense_1/bias": (classifier.NUM_CLASSES,),
}


def _checkpoint(directory, arrays) -> str:
    """A tf.compat.v1 checkpoint holding `arrays` under their names, as Estimator saves."""
    with tf.Graph().as_default():
        variables = [
            tf.compat.v1.get_variable(name, initializer=tf.constant(value))
            for name, value in arrays.items()
        ]
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.variables_initializer(variables))
            return tf.compat.v1.train.Saver(variables).save(session, str(directory / "model.ckpt"))


def _arrays(rng, shapes=SHAPES, training_state=True) -> dict:
    arrays = {name: rng.normal(size=shape).astype(np.float32) for name, shape in shapes.items()}
    if training_state:  # What Estimator's checkpoint holds besides the model.
        arrays["dense/kernel/Adam"] = np.zeros(shapes["dense/kernel"], np.float32)
        arrays["dense_1/bias/Adam_1"] = np.zeros(shapes["dense_1/bias"], np.float32)
        arrays["beta1_power"] = np.float32(0.9)
        arrays["global_step"] = np.int64(300)
    return arrays


@pytest.mark.keras3
def test_checkpoint_weights_land_in_the_keras_layers(tmp_path):
    rng = np.random.default_rng(14)
    arrays = _arrays(rng)
    model = destination.keras_model()
    destination.load_checkpoint_weights(model, _checkpoint(tmp_path, arrays))
    hidden, logits = model.get_layer("hidden"), model.get_layer("logits")
    for got, name in zip(
        hidden.get_weights() + logits.get_weights(), SHAPES
    ):  # kernel, bias, kernel, bias
        np.testing.assert_array_equal(got, arrays[name], err_msg=name)
    x = rng.normal(size=(7, classifier.NUM_FEATURES)).astype(np.float32)
    h = np.maximum(x @ arrays["dense/kernel"] + arrays["dense/bias"], 0)
    z = h @ arrays["dense_1/kernel"] + arrays["dense_1/bias"]
    expected = np.exp(z - z.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.keras3
@pytest.mark.parametrize(
    "change, message",
    [
        ("extra", r"with no place in the Keras model \['dense_2/kernel'\]"),
        ("missing", r"missing \['dense_1/bias'\]"),
        ("shape", r"Expected dense/kernel of shape \(784, 64\) .* received \(784, 32\)"),
    ],
)
def test_a_checkpoint_that_does_not_fit_the_model_is_refused_naming_the_variable(
    tmp_path, change, message
):
    shapes = dict(SHAPES)
    if change == "extra":
        shapes["dense_2/kernel"] = (10, 10)
    elif change == "missing":
        del shapes["dense_1/bias"]
    else:
        shapes["dense/kernel"] = (classifier.NUM_FEATURES, 32)
    arrays = _arrays(np.random.default_rng(0), shapes, training_state=False)
    with pytest.raises(ValueError, match=message):
        destination.load_checkpoint_weights(
            destination.keras_model(), _checkpoint(tmp_path, arrays)
        )


@pytest.mark.keras3
def test_model_evaluate_weighs_only_weighted_metrics():
    """docs/migration.md, the last step: `weights=` of the model_fn become `sample_weight`,
    which reaches only the metrics given as `weighted_metrics`."""
    from estimator_metrics.keras_metrics import AverageConfidence

    probabilities = np.array([[0.9, 0.1], [0.3, 0.7]], np.float32)
    results = {}
    for argument in ("metrics", "weighted_metrics"):
        model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Activation(None)])
        model.compile(loss="mse", **{argument: [AverageConfidence()]})
        results[argument] = model.evaluate(
            probabilities,
            probabilities,
            sample_weight=np.array([1.0, 3.0]),
            verbose=0,
            return_dict=True,
        )["average_confidence"]
    np.testing.assert_allclose(results["metrics"], 0.8, rtol=1e-7)  # (0.9 + 0.7) / 2
    np.testing.assert_allclose(results["weighted_metrics"], 0.75, rtol=1e-7)  # (0.9 + 2.1) / 4
