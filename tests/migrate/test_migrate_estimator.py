"""Rewritten fixture model_fns run in a real Estimator: the same numbers for exact rewrites,
the corrected numbers for `--fix-wrong`, and every use of a rewritten pair still valid
(summaries and tf.identity of the update op in TRAIN and EVAL, arithmetic, tf.group)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics.migrate import Action, Status
from support.keras import stock_estimator_takes_fbeta
from support.migrate import FIXTURES, report


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _data(seed=0, n=60):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    weight = rng.choice([0.5, 1.0, 2.0], n).astype(np.float32)
    labels = (x @ np.array([1.0, -1.0, 0.5, 0.0]) + 0.5 * rng.normal(size=n)) > 0.3
    return {"x": x, "weight": weight}, labels.astype(np.int64)


def _input_fn(train):
    features, labels = _data()

    def make():
        data = tf.data.Dataset.from_tensor_slices((features, labels))
        return (data.repeat() if train else data).batch(16)

    return make


def _before_and_after(tmp_path, capsys, fixture, *flags, params=None, train_after=False):
    """Trains the fixture's model_fn, then evaluates the same checkpoint with the
    original and the rewritten model_fn. Returns (before, after, report, model_dir)."""
    before, after = tmp_path / f"before_{fixture}", tmp_path / f"after_{fixture}"
    shutil.copy(FIXTURES / fixture, before)
    shutil.copy(FIXTURES / fixture, after)
    _, document = report(capsys, after, "--write", *flags)
    # Keras initializers without a seed draw one from Python's `random`: seed it, so the
    # trained model (and the bounds below) are the same in every run.
    tf.keras.utils.set_random_seed(1)
    model_dir = str(tmp_path / "model")
    config = tf.estimator.RunConfig(tf_random_seed=1)
    extra = {"params": params} if params is not None else {}
    results, estimators = [], []
    for path, name in ((before, "before"), (after, "after")):
        model_fn = _load(path, f"{name}_{fixture[:-3]}").model_fn
        estimator = tf.estimator.Estimator(model_fn, model_dir=model_dir, config=config, **extra)
        if name == "before":
            estimator.train(_input_fn(True), steps=20)
        results.append(estimator.evaluate(_input_fn(False), name=name))
        estimators.append(estimator)
    if train_after:  # TRAIN mode of the rewritten model_fn, after both evaluations.
        estimators[1].train(_input_fn(True), steps=5)
    return results[0], results[1], document, model_dir


def _assert_same(before, after):
    assert sorted(before) == sorted(after)
    for key in before:
        assert np.isfinite(before[key]), key
        np.testing.assert_allclose(after[key], before[key], rtol=1e-7, err_msg=key)


def test_rewritten_model_fn_gives_the_same_numbers(tmp_path, capsys):
    before, after, document, _ = _before_and_after(
        tmp_path, capsys, "compat_v1_model_fn.py", params={}
    )
    rewritten = [f for f in document["findings"] if f["action"] == Action.REWRITTEN]
    assert len(rewritten) == 6 and {f["same_number"] for f in rewritten} == {"exact"}
    assert sorted(before) == [
        "accuracy",
        "auc",
        "global_step",
        "iou",
        "loss",
        "mean_loss",
        "precision",
        "recall",
        "rmse_click",
        "weighted_precision",
    ]
    assert all(before[key] > 0 for key in before)
    _assert_same(before, after)


def test_keyword_forms_rewritten_give_the_same_numbers(tmp_path, capsys):
    before, after, document, _ = _before_and_after(
        tmp_path, capsys, "keyword_forms.py", params={"n_classes": 2}
    )
    assert [f["action"] for f in document["findings"]].count(Action.REWRITTEN) == 3
    _assert_same(before, after)


def test_rewritten_pairs_keep_every_use_valid_in_train_and_eval(tmp_path, capsys):
    before, after, document, model_dir = _before_and_after(
        tmp_path, capsys, "pair_uses.py", train_after=True
    )
    rewritten = {
        f["metric"].rsplit(".", 1)[-1]
        for f in document["findings"]
        if f["action"] == Action.REWRITTEN
    }
    assert rewritten == {"accuracy", "mean", "root_mean_squared_error"}
    assert "x0" in after and "x1" in after  # The comprehension's pairs, rewritten.
    _assert_same(before, after)
    assert 0.5 < after["accuracy"] < 1 and after["scaled_loss"] > after["mean_loss"] * 100
    # TRAIN mode of the rewritten model_fn ran: the summary of the update op was written.
    events = list(Path(model_dir).glob("events.out.tfevents.*"))
    tags = {
        value.tag
        for path in events
        for event in tf.compat.v1.train.summary_iterator(str(path))
        for value in event.summary.value
    }
    assert "accuracy" in tags


@pytest.mark.skipif(
    not stock_estimator_takes_fbeta(),
    reason="keras_in_spec.py hands F1Score/FBetaScore objects to EstimatorSpec: "
    "this Keras lacks them, or EstimatorSpec refuses them",
)
def test_fix_wrong_gives_the_corrected_numbers(tmp_path, capsys):
    before, after, document, model_dir = _before_and_after(
        tmp_path, capsys, "keras_in_spec.py", "--fix-wrong"
    )
    statuses = {f["metric"].split("`")[1]: (f["status"], f["action"]) for f in document["findings"]}
    assert statuses == {
        "f05": (Status.WRONG, "fixed"),
        "f1": (Status.WRONG, "fixed"),
        "mae": (Status.WRONG, "fixed"),
        "r2": (Status.WRONG, "fixed"),
        "auc": (Status.MIGRATABLE, "report only"),
    }
    # The truth: the same metrics updated eagerly on the checkpoint's predictions.
    features, labels = _data()
    kernel = tf.train.load_variable(model_dir, "dense/kernel")
    bias = tf.train.load_variable(model_dir, "dense/bias")
    probability = tf.sigmoid(tf.constant(features["x"]) @ kernel + bias)
    y = tf.constant(labels.astype(np.float32)[:, None])
    metrics = {
        "f05": tf.keras.metrics.FBetaScore(beta=0.5, average="micro", threshold=0.5),
        "f1": tf.keras.metrics.F1Score(average="micro", threshold=0.5),
        "mae": tf.keras.metrics.MeanAbsoluteError(),
        "r2": tf.keras.metrics.R2Score(),
        "auc": tf.keras.metrics.AUC(),
    }
    for metric in metrics.values():
        metric.update_state(y, probability)
    metrics["mae"].update_state(y, tf.round(probability), sample_weight=features["weight"])
    truth = {name: float(metric.result()) for name, metric in metrics.items()}
    assert all(0.05 < value < 1 for value in truth.values()), truth
    # Stock EstimatorSpec, as the report said: 0.0, 0.0, the first update only, NaN.
    assert before["f05"] == 0.0 and before["f1"] == 0.0 and np.isnan(before["r2"])
    first_only = tf.keras.metrics.MeanAbsoluteError()
    first_only.update_state(y, probability)
    np.testing.assert_allclose(before["mae"], float(first_only.result()), rtol=1e-5)
    # Soft errors vs soft and 0/1 errors: far apart next to the 1e-5 tolerances here (the
    # trained model, hence the gap, varies from run to run: 0.003 to 0.08 seen).
    assert abs(before["mae"] - truth["mae"]) > 1e-3
    # After --fix-wrong: the right numbers; the untouched AUC is unchanged.
    for name in ("f05", "f1", "mae", "r2", "auc"):
        np.testing.assert_allclose(after[name], truth[name], rtol=1e-5, err_msg=name)
    assert after["auc"] == before["auc"]


def test_exact_forms_rewritten_give_the_same_numbers(tmp_path, capsys):
    """A reassigned argmax variable, tf.to_int32 / tf.cast of an argmax, tf.where(p > t, 1, 0):
    each rewritten, each the same number in a real Estimator."""
    before, after, document, _ = _before_and_after(tmp_path, capsys, "exact_forms.py", params={})
    assert [f["action"] for f in document["findings"]] == [Action.REWRITTEN] * 6
    assert sorted(before) == [
        "accuracy",
        "accuracy_int32",
        "accuracy_rounded",
        "global_step",
        "iou",
        "loss",
        "precision",
        "recall",
    ]
    assert all(before[key] > 0 for key in before)
    _assert_same(before, after)


def test_aggregate_metric_map_rewrite_gives_the_same_numbers(tmp_path, capsys):
    """tf_slim's aggregate_metric_map before; the two dict comprehensions (and the accuracy
    inside rewritten in the same pass) after."""
    before, after, document, _ = _before_and_after(tmp_path, capsys, "slim_metrics.py", params={})
    actions = {
        f["metric"]: f["action"] for f in document["findings"] if f["function"] == "model_fn"
    }
    assert actions == {
        "tf_slim.metrics.aggregate_metric_map": Action.REWRITTEN,
        "tf.compat.v1.metrics.accuracy": Action.REWRITTEN,
        "tf_slim.metrics.streaming_mean": Action.REPORT_ONLY,
        "tf_slim.metrics.streaming_auc": Action.REPORT_ONLY,
    }
    assert sorted(before) == ["accuracy", "auc", "global_step", "loss", "mean_probability"]
    _assert_same(before, after)
