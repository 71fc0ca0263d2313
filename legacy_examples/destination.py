"""Leaving Estimator: the classifier's checkpoint in a Keras model, evaluated with the twins.

The last step of the migration, end to end, in two environments (`make destination` runs both):

  estimator  (TensorFlow 2.12-2.15, tf.estimator): trains the `classifier` example as an
             Estimator and evaluates its checkpoint with `Estimator.evaluate` and the builders
             (`builders.average_confidence` in its model_fn, `builders.fbeta` added with
             `tf.estimator.add_metrics`, `tf.compat.v1.metrics.accuracy`). Writes to DIR: the
             checkpoint, the evaluation data (`eval.npz`), the Estimator's predicted
             probabilities and its metrics (`estimator.json`).
  keras      (TensorFlow 2.16+ with Keras 3; Keras 2 works too): reads the checkpoint with
             `tf.train.load_checkpoint`, maps its variable names onto the equivalent Keras model
             (`CHECKPOINT_TO_KERAS`), evaluates it with `model.evaluate` and the twins
             (`keras_metrics.FBeta`, `keras_metrics.AverageConfidence`) on the same data, and
             prints both sides; exits 1 when a metric differs beyond its tolerance.

Tolerances (absolute; `TOLERANCES`): the two sides run the same network on the same weights
and data, but in different TensorFlow builds (a TF 2.15 graph, a TF 2.21 Keras model), so
their float32 probabilities may differ in the last bits. Accuracy and F1 count predicted
classes: equal when every example's predicted class is (the keras half checks it and reports
how many differ), so their tolerance is 0. Average confidence is a mean of float32 top
probabilities summed in float64 on both sides: it moves by at most the largest difference of
one probability, a float32 ulp or two near 1 (6e-8), hence 1e-7 (the table shows the measured
values).

Run: estimator-metrics example destination estimator --dir DIR  (then `keras --dir DIR`
with the Python of a TensorFlow 2.16+ environment)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence

import numpy as np

from estimator_metrics._comparison import Comparison, table

from . import _common, classifier

EXAMPLE = classifier.EXAMPLE
#: Checkpoint variable -> (Keras layer name, index in layer.get_weights()). The classifier's
#: model_fn makes two `tf.compat.v1.layers.dense` layers, named dense and dense_1.
CHECKPOINT_TO_KERAS = {
    "dense/kernel": ("hidden", 0),
    "dense/bias": ("hidden", 1),
    "dense_1/kernel": ("logits", 0),
    "dense_1/bias": ("logits", 1),
}
#: Checkpoint variables that are not the model: training state (Adam's slots and powers,
#: the step). Any other unmapped variable is an error: the Keras model would lack it.
TRAINING_STATE = ("global_step", "beta1_power", "beta2_power")
TRAINING_SLOT_SUFFIXES = ("/Adam", "/Adam_1")
METRICS = ("accuracy", "f1_macro", "average_confidence")
#: Largest |Estimator - Keras| accepted, absolute: see the module docstring for why.
TOLERANCES = {"accuracy": 0.0, "f1_macro": 0.0, "average_confidence": 1e-7}
EVAL_BATCH = _common.BATCH_SIZE
ESTIMATOR_JSON, KERAS_JSON, EVAL_NPZ = "estimator.json", "keras.json", "eval.npz"


def _versions() -> dict:
    import importlib.metadata

    import tensorflow as tf

    def version(name):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {
        "tensorflow": tf.__version__,
        "keras": version("keras"),
        "tensorflow-estimator": version("tensorflow-estimator"),
        "numpy": np.__version__,
    }


# ------------------------------------------------------------ the Estimator half


def _f1_macro(labels, predictions):
    """add_metrics' metric function: macro F1 over the 10 classes, from the probabilities."""
    from estimator_metrics import builders

    return {
        "f1_macro": builders.fbeta(
            labels,
            predictions["probabilities"],
            num_classes=classifier.NUM_CLASSES,
            average="macro",
        )
    }


def estimator_half(directory: str, steps: int, seed: int = 0, log=print) -> dict:
    """Trains (unless `directory` holds a checkpoint of `steps`) and evaluates with the
    builders; writes the evaluation data, predictions and metrics; returns the metrics."""
    import tensorflow as tf

    _common.require_estimator("legacy_examples.destination estimator")
    data = EXAMPLE.make_data(seed)
    checkpoint = tf.train.latest_checkpoint(directory)
    trained = int(checkpoint.rsplit("-", 1)[1]) if checkpoint else 0
    if trained < steps:
        log(f"[estimator] training {EXAMPLE.name} for {steps - trained} steps in {directory}")
        _common.train(EXAMPLE, data, directory, steps - trained, seed)
    estimator = tf.estimator.add_metrics(
        _common.estimator(EXAMPLE, "legacy", directory, seed), _f1_macro
    )
    eval_input = _common.input_fn(data.eval_features, data.eval_labels, train=False, seed=seed)
    log("[estimator] Estimator.evaluate with the builders")
    results = estimator.evaluate(eval_input, name="destination")
    probabilities = np.stack([p["probabilities"] for p in estimator.predict(eval_input)])
    np.savez(
        os.path.join(directory, EVAL_NPZ),
        x=data.eval_features["x"],
        labels=data.eval_labels,
        probabilities=probabilities,
    )
    report = {
        "versions": _versions(),
        "checkpoint": os.path.basename(tf.train.latest_checkpoint(directory)),
        "global_step": int(results["global_step"]),
        "metrics": {name: float(results[name]) for name in METRICS},
    }
    with open(os.path.join(directory, ESTIMATOR_JSON), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    return report


# ---------------------------------------------------------------- the Keras half


def keras_model():
    """The classifier's network as a Keras model: dense(64, relu) -> dense(10) -> softmax."""
    import tensorflow as tf

    return tf.keras.Sequential(
        [
            tf.keras.Input(shape=(classifier.NUM_FEATURES,), name="x"),
            tf.keras.layers.Dense(64, activation="relu", name="hidden"),
            tf.keras.layers.Dense(classifier.NUM_CLASSES, name="logits"),
            tf.keras.layers.Softmax(name="probabilities"),
        ]
    )


def _is_training_state(name: str) -> bool:
    return name in TRAINING_STATE or name.endswith(TRAINING_SLOT_SUFFIXES)


def load_checkpoint_weights(model, checkpoint: str, mapping: Mapping = CHECKPOINT_TO_KERAS):
    """Sets `model`'s weights from a tf.compat.v1 checkpoint through `mapping`.

    Raises ValueError naming the variables when the checkpoint lacks a mapped one, holds a
    model variable the mapping does not place, or a shape differs from the Keras weight's.
    """
    import tensorflow as tf

    reader = tf.train.load_checkpoint(checkpoint)
    shapes = reader.get_variable_to_shape_map()
    missing = sorted(set(mapping) - set(shapes))
    unplaced = sorted(n for n in shapes if n not in mapping and not _is_training_state(n))
    if missing or unplaced:
        raise ValueError(
            f"Expected checkpoint {checkpoint} to hold exactly the variables "
            f"{sorted(mapping)} besides training state; missing {missing}, with no place in "
            f"the Keras model {unplaced}"
        )
    layers = {}
    for name, (layer_name, index) in mapping.items():
        layer = model.get_layer(layer_name)
        weights = layers.setdefault(layer_name, layer.get_weights())
        value = reader.get_tensor(name)
        if value.shape != weights[index].shape:
            raise ValueError(
                f"Expected {name} of shape {weights[index].shape} for layer {layer_name!r} "
                f"weight {index}, received {value.shape} in {checkpoint}"
            )
        weights[index] = value
    for layer_name, weights in layers.items():
        model.get_layer(layer_name).set_weights(weights)


def keras_half(directory: str, log=print) -> dict:
    """Loads the checkpoint into the Keras model, evaluates it with the twins, compares with
    the Estimator's metrics; writes the report (its "rows": each comparison as a dict) and
    returns it with its `Comparison`s (Estimator left, Keras right) as "comparisons"."""
    import tensorflow as tf

    from estimator_metrics import keras_metrics

    with open(os.path.join(directory, ESTIMATOR_JSON), encoding="utf-8") as f:
        estimator = json.load(f)
    with np.load(os.path.join(directory, EVAL_NPZ)) as arrays:
        x, labels, estimator_probabilities = (
            arrays["x"],
            arrays["labels"],
            arrays["probabilities"],
        )
    checkpoint = os.path.join(directory, estimator["checkpoint"])
    model = keras_model()
    load_checkpoint_weights(model, checkpoint)
    model.compile(
        loss=tf.keras.losses.SparseCategoricalCrossentropy(),  # Keras 3's evaluate needs one.
        metrics=[
            tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            keras_metrics.FBeta(
                num_classes=classifier.NUM_CLASSES, average="macro", name="f1_macro"
            ),
            keras_metrics.AverageConfidence(name="average_confidence"),
        ],
    )
    log(f"[keras] {checkpoint} in a Keras model: model.evaluate with the twins")
    results = model.evaluate(x, labels, batch_size=EVAL_BATCH, verbose=0, return_dict=True)
    probabilities = model.predict(x, batch_size=EVAL_BATCH, verbose=0)
    comparisons = [
        Comparison(name, estimator["metrics"][name], float(results[name]), TOLERANCES[name])
        for name in METRICS
    ]
    report = {
        "estimator_versions": estimator["versions"],
        "keras_versions": _versions(),
        "checkpoint": estimator["checkpoint"],
        "examples": len(labels),
        "max_probability_difference": float(
            np.max(np.abs(probabilities.astype(np.float64) - estimator_probabilities))
        ),
        "predicted_class_differs": int(
            np.sum(probabilities.argmax(1) != estimator_probabilities.argmax(1))
        ),
    }
    rows = [
        dict(metric=c.metric, estimator=c.left, keras=c.right, difference=c.difference,
             tolerance=c.tolerance, agrees=c.agrees)
        for c in comparisons
    ]  # fmt: skip
    with open(os.path.join(directory, KERAS_JSON), "w", encoding="utf-8") as f:
        json.dump({**report, "rows": rows}, f, indent=2)
    return {**report, "comparisons": comparisons}


def format_report(report: Mapping) -> str:
    """The comparison table, with the versions of both sides and the forward-pass check."""

    def side(versions, what):
        keras = versions["keras"] or "tf.keras"
        return f"TF {versions['tensorflow']}, Keras {keras}: {what}"

    left = side(report["estimator_versions"], "Estimator.evaluate, builders")
    right = side(report["keras_versions"], "model.evaluate, twins")
    return "\n".join(
        [
            f"Estimator = {left}",
            f"Keras     = {right}",
            f"{report['checkpoint']}, {report['examples']} evaluation examples. Forward pass: "
            f"largest |probability difference| {report['max_probability_difference']:.2e},",
            f"predicted class differs for {report['predicted_class_differs']} examples.",
            "",
            table(report["comparisons"], ("Estimator", "Keras")),
        ]
    )


# ---------------------------------------------------------------------- the CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="estimator-metrics example destination",
        description="Leaving Estimator: `estimator` trains the classifier example as an "
        "Estimator and evaluates it with the builders (TensorFlow 2.12-2.15); `keras` loads "
        "its checkpoint into the equivalent Keras model and evaluates it with model.evaluate "
        "and the twins (TensorFlow 2.16+, Keras 3), then compares. Exit 1: a metric differs "
        "beyond its tolerance.",
    )
    parser.add_argument("half", choices=("estimator", "keras"), help="which half to run")
    parser.add_argument("--dir", required=True, help="checkpoint and data shared by the halves")
    parser.add_argument(
        "--steps",
        type=int,
        default=EXAMPLE.default_steps,
        help=f"estimator: training steps (default: {EXAMPLE.default_steps})",
    )
    parser.add_argument("--seed", type=int, default=0, help="estimator: data and training seed")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be >= 1, received {args.steps}")
    _common.quiet()
    if args.half == "estimator":
        try:
            report = estimator_half(args.dir, args.steps, args.seed)
        except _common.EstimatorUnavailableError as error:
            parser.exit(2, f"{parser.prog} estimator: error: {error}\n")
        values = ", ".join(f"{k} {v:.8f}" for k, v in report["metrics"].items())
        print(f"[estimator] {report['checkpoint']}: {values}")
        print(f"[estimator] wrote {os.path.join(args.dir, ESTIMATOR_JSON)} and {EVAL_NPZ}")
        return 0
    if not os.path.exists(os.path.join(args.dir, ESTIMATOR_JSON)):
        parser.error(f"{args.dir} has no {ESTIMATOR_JSON}: run the estimator half first")
    report = keras_half(args.dir)
    print(format_report(report))
    return 0 if all(c.agrees for c in report["comparisons"]) else 1


if __name__ == "__main__":
    sys.exit(main())
