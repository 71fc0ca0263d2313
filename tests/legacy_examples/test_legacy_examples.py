"""legacy_examples: both metric modes agree on one checkpoint, values make sense, CLIs run.

Each example is trained once (few steps, module-scoped) and its checkpoint is
evaluated with the legacy and the Keras metric ops. The custom_loss tests run
the loss in tf.compat.v1 graph mode with a Session: no eager execution.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import shutil

import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import fbeta_score

from estimator_metrics import legacy_examples
from estimator_metrics.legacy_examples import _common, binary, classifier, custom_loss

SEED = 0
#: Training steps per example in these tests (the CLIs default to 300).
STEPS = 100
MODULES = {
    name: importlib.import_module(f"{legacy_examples.__name__}.{name}")
    for name in legacy_examples.EXAMPLES
}
#: The binary example's Keras mode uses tf.keras.metrics.FBetaScore: where this
#: line lacks the class, the tests that evaluate binary in Keras mode skip.
NEEDS_FBETA = pytest.mark.skipif(
    bool(MODULES["binary"].EXAMPLE.missing_keras_classes()),
    reason="tf.keras.metrics has no FBetaScore",
)
EXAMPLE_PARAMS = [
    pytest.param(n, marks=NEEDS_FBETA) if n == "binary" else n for n in legacy_examples.EXAMPLES
]


@dataclasses.dataclass
class Run:
    example: _common.Example
    data: _common.Data
    model_dir: str
    results: dict  # metrics mode -> Estimator.evaluate results

    def predict(self, key: str) -> np.ndarray:
        """`key` of the checkpoint's predictions on the eval split, stacked."""
        estimator = _common.estimator(self.example, "legacy", self.model_dir, SEED)
        fn = _common.input_fn(
            self.data.eval_features, self.data.eval_labels, train=False, seed=SEED
        )
        return np.stack([p[key] for p in estimator.predict(fn)])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """name -> Run, trained and evaluated in both modes on first use."""
    _common.quiet()
    cache = {}

    def get(name: str) -> Run:
        if name not in cache:
            example = MODULES[name].EXAMPLE
            data = example.make_data(SEED)
            model_dir = str(tmp_path_factory.mktemp(name))
            _common.train(example, data, model_dir, STEPS, SEED)
            results = {
                mode: _common.evaluate(example, data, model_dir, mode, SEED)
                for mode in _common.METRIC_MODES
            }
            cache[name] = Run(example, data, model_dir, results)
        return cache[name]

    return get


@pytest.mark.parametrize("name", EXAMPLE_PARAMS)
def test_legacy_and_keras_agree_within_tolerances(runs, name):
    run = runs(name)
    legacy, keras = run.results["legacy"], run.results["keras"]
    assert run.example.name == name
    # The same checkpoint, the same eval batches, the same metric names.
    assert legacy["global_step"] == keras["global_step"] == STEPS
    assert legacy["loss"] == keras["loss"]
    # Legacy mode also draws the reliability diagram where an example does (an image
    # Summary, bytes): a picture, not a number to compare.
    images = {key for key, value in legacy.items() if isinstance(value, bytes)}
    assert images == ({"reliability_diagram"} if run.example.draws else set())
    metrics = set(legacy) - {"loss", "global_step"} - images
    assert metrics == set(keras) - {"loss", "global_step"} == set(run.example.tolerances)
    for metric, tolerance in run.example.tolerances.items():
        assert math.isfinite(legacy[metric]), metric
        assert abs(float(legacy[metric]) - float(keras[metric])) <= tolerance, (
            metric,
            legacy[metric],
            keras[metric],
        )


def test_classifier_accuracy_well_above_chance(runs):
    # 10 balanced classes: chance is 0.1. 100 steps reach about 0.88.
    run = runs("classifier")
    for mode in _common.METRIC_MODES:
        assert run.results[mode]["accuracy"] > 0.6
        assert 0.1 < run.results[mode]["average_confidence"] < 1.0
        assert 0.0 < run.results[mode]["calibration_error"] < 0.5


def test_classifier_main_writes_the_reliability_diagram(runs, tmp_path, capsys, monkeypatch):
    model_dir = tmp_path / "model"
    shutil.copytree(runs("classifier").model_dir, model_dir)
    argv = ["--steps", str(STEPS), "--model-dir", str(model_dir)]
    assert classifier.main(argv) == 0
    out = capsys.readouterr().out
    png = model_dir / "reliability_diagram.png"
    assert f"reliability_diagram: {png} (TensorBoard: Images tab of {model_dir})" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "calibration_error: 0." in out and "\\x89PNG" not in out
    # Without matplotlib (the diagram extra) every number still comes, and a note says why
    # the picture does not.
    monkeypatch.setattr(_common, "can_draw", lambda: False)
    png.unlink()
    assert classifier.main(argv) == 0
    out = capsys.readouterr().out
    assert "calibration_error: 0." in out and not png.exists()
    assert out.splitlines()[-1] == _common.DIAGRAM_NOTE


def test_regressor_fits(runs):
    run = runs("regressor")
    label_std = float(np.std(run.data.eval_labels))  # About 2.5; the noise is 0.5.
    for mode in _common.METRIC_MODES:
        assert run.results[mode]["rmse"] < 0.4 * label_std
        assert math.isfinite(run.results[mode]["mape"])
        assert 0 < run.results[mode]["mape"] < 10  # Percent; about 2.3 here.


def test_regressor_metrics_are_per_example_not_broadcast(runs):
    """Both modes give the per-example number; [B] - [B, 1] -> [B, B] does not."""
    run = runs("regressor")
    labels = run.data.eval_labels.astype(np.float64)  # [N]
    predictions = run.predict("predictions").astype(np.float64)  # [N, 1]
    assert predictions.shape == (len(labels), 1)
    right = 100 * np.mean(np.abs(labels - predictions[:, 0]) / np.abs(labels))
    rmse = np.sqrt(np.mean(np.square(labels - predictions[:, 0])))

    # What naive code computes, batch by batch, with labels [b] and the head
    # [b, 1]: every label against every prediction of its batch, [b, b].
    total = count = 0.0
    for start in range(0, len(labels), _common.BATCH_SIZE):
        batch = slice(start, start + _common.BATCH_SIZE)
        y, p = labels[batch], predictions[batch]
        errors = np.abs(y - p) / np.abs(y)
        assert errors.shape == (len(y), len(y))
        total, count = total + errors.sum(), count + errors.size
    naive = 100 * total / count
    # TF broadcasts the same way, silently.
    with tf.Graph().as_default():
        y = tf.compat.v1.placeholder(tf.float32, [None])
        p = tf.compat.v1.placeholder(tf.float32, [None, 1])
        assert (y - p).shape.as_list() == [None, None]

    assert naive > 3 * right  # About 14% against 2.3%.
    tolerances = run.example.tolerances
    for mode in _common.METRIC_MODES:
        assert abs(run.results[mode]["mape"] - right) <= tolerances["mape"], mode
        assert abs(run.results[mode]["rmse"] - rmse) <= tolerances["rmse"], mode


@NEEDS_FBETA
def test_binary_fbeta_and_accuracy_beat_the_baselines(runs):
    run = runs("binary")
    labels = run.data.eval_labels
    positives = labels.mean()  # About 0.3.
    # Chance: always predicting the majority class 0 gives 1 - positives (0.675);
    # the data allow about 0.9.
    majority = 1 - positives
    # F-beta baseline: always predicting class 1 (recall 1, precision = positives).
    all_positive = (1 + binary.BETA**2) * positives / (binary.BETA**2 * positives + 1)  # 0.38
    for mode in _common.METRIC_MODES:
        assert run.results[mode]["accuracy"] > majority + 0.1
        assert run.results[mode]["fbeta"] > all_positive + 0.3
    # scikit-learn on the argmax of the same checkpoint's predictions.
    expected = fbeta_score(labels, run.predict("class"), beta=binary.BETA)
    for mode in _common.METRIC_MODES:
        assert abs(run.results[mode]["fbeta"] - expected) <= run.example.tolerances["fbeta"]


def test_custom_loss_mae_over_labelled_examples(runs):
    run = runs("custom_loss")
    labels = run.data.eval_labels.astype(np.float64)
    mask = np.isfinite(labels)
    assert 0.15 < 1 - mask.mean() < 0.35  # About a quarter of the labels are missing.
    predictions = run.predict("predictions")[:, 0].astype(np.float64)
    expected = np.mean(np.abs(labels[mask] - predictions[mask]))
    assert expected < 0.2 * np.std(labels[mask])  # Noise 0.3, label std about 2.
    for mode in _common.METRIC_MODES:
        assert math.isfinite(run.results[mode]["loss"])
        # float32 metric sums of ~370 errors against float64 NumPy: ~1e-8 apart.
        assert abs(run.results[mode]["mae"] - expected) <= 1e-6, mode


@pytest.mark.parametrize("name", EXAMPLE_PARAMS)
def test_main_evaluates_and_prints(runs, tmp_path, capsys, name):
    # On a copy of the fixture's checkpoint: main finds its STEPS steps done,
    # skips training (the fixture ran the same _common.train) and prints
    # exactly what the fixture's Keras-mode evaluation returned.
    model_dir = tmp_path / "model"
    shutil.copytree(runs(name).model_dir, model_dir)
    status = MODULES[name].main(
        ["--metrics", "keras", "--steps", str(STEPS), "--model-dir", str(model_dir)]
    )
    out = capsys.readouterr().out
    assert status == 0
    expected = runs(name).results["keras"]
    assert out.splitlines() == [f"{key}: {expected[key]}" for key in sorted(expected)]
    assert f"global_step: {STEPS}" in out
    for metric in MODULES[name].EXAMPLE.tolerances:
        assert f"{metric}: " in out


def test_main_trains_a_new_model_dir(tmp_path, capsys):
    status = custom_loss.main(["--steps", "3", "--model-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0
    assert "global_step: 3" in out and "mae: " in out
    assert (tmp_path / "eval_legacy").is_dir()


@pytest.mark.parametrize("name", legacy_examples.EXAMPLES)
def test_help(capsys, name):
    with pytest.raises(SystemExit) as exit_info:
        MODULES[name].main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"estimator-metrics example {name}" in out
    assert "--metrics {legacy,keras}" in out and "--steps" in out and "--model-dir" in out


# custom_loss in graph mode: tf.Graph, tf.compat.v1.gradients and a Session.


def _masked_batch(seed=1, size=40):
    """Features [size, D], labels [size] (about a quarter NaN: row 0 yes, row 1 no)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(size, custom_loss.NUM_FEATURES)).astype(np.float32)
    y = (x @ rng.normal(size=custom_loss.NUM_FEATURES) + 3).astype(np.float32)
    missing = rng.random(size) < 0.25
    missing[:2] = [True, False]
    y[missing] = np.nan
    return x, y, missing


def _linear_graph(kernel, bias):
    x = tf.compat.v1.placeholder(tf.float32, [None, custom_loss.NUM_FEATURES])
    y = tf.compat.v1.placeholder(tf.float32, [None])
    k = tf.compat.v1.Variable(kernel, name="kernel")
    b = tf.compat.v1.Variable(bias, name="bias")
    return x, y, k, b, tf.matmul(x, k) + b  # predictions [B, 1]


def test_masked_loss_gradient_flows_in_graph_mode_and_ignores_masked_examples():
    x_value, y_value, missing = _masked_batch()
    kernel = np.random.default_rng(2).normal(size=(custom_loss.NUM_FEATURES, 1)).astype(np.float32)
    bias = np.array([0.5], np.float32)
    with tf.Graph().as_default():
        assert not tf.executing_eagerly()
        x, y, k, b, predictions = _linear_graph(kernel, bias)
        loss = custom_loss.masked_loss(y, predictions)
        gradients = tf.compat.v1.gradients(loss, [k, b])
        # A single tf.where has the same value and NaN gradients (see the module).
        present = tf.math.is_finite(y)
        naive_errors = tf.where(present, tf.square(predictions[:, 0] - y), tf.zeros_like(y))
        naive = tf.reduce_sum(naive_errors) / tf.reduce_sum(tf.cast(present, tf.float32))
        naive_gradient = tf.compat.v1.gradients(naive, k)[0]
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            loss_value, (dk, db), naive_value, naive_dk = sess.run(
                [loss, gradients, naive, naive_gradient], {x: x_value, y: y_value}
            )
            # Masked examples: other features (huge), other missing labels (inf).
            x_other, y_other = x_value.copy(), y_value.copy()
            x_other[missing] = 1e3
            y_other[missing] = np.inf
            dk_other, db_other = sess.run(gradients, {x: x_other, y: y_other})

    # Analytic: loss = mean_m r_m^2, r = x k + b - y over the labelled rows m.
    xm = x_value[~missing].astype(np.float64)
    residuals = xm @ kernel[:, 0] + bias[0] - y_value[~missing]
    np.testing.assert_allclose(loss_value, np.mean(residuals**2), rtol=1e-5)
    np.testing.assert_allclose(dk[:, 0], 2 * xm.T @ residuals / len(xm), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(db, [2 * residuals.mean()], rtol=1e-5, atol=1e-6)
    # Masked examples contribute nothing: the gradient does not change at all.
    np.testing.assert_array_equal(dk_other, dk)
    np.testing.assert_array_equal(db_other, db)
    # The single-where version: right value, NaN gradient.
    np.testing.assert_allclose(naive_value, loss_value, rtol=1e-6)
    assert np.isnan(naive_dk).all()


def _train_model_fn(loss: str, steps: int):
    """Runs custom_loss.model_fn's train_op in a Session, full batch (512 examples).

    Returns [data loss (masked MSE), model_fn loss, kernel, bias] before and
    after training, the gradients of the model_fn loss ({"kernel", "bias"})
    and those of `numpy_step_loss` w.r.t. [kernel, bias].
    """
    data = custom_loss.make_data(SEED)
    with tf.Graph().as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, custom_loss.NUM_FEATURES])
        y = tf.compat.v1.placeholder(tf.float32, [None])
        spec = custom_loss.model_fn(
            {"x": x}, y, tf.estimator.ModeKeys.TRAIN, {"metrics": "legacy", "loss": loss}
        )
        kernel, bias = tf.compat.v1.trainable_variables("linear")
        assert [v.op.name for v in (kernel, bias)] == ["linear/kernel", "linear/bias"]
        predictions = tf.matmul(x, kernel) + bias
        data_loss = custom_loss.masked_loss(y, predictions)
        gradients = dict(zip(("kernel", "bias"), tf.compat.v1.gradients(spec.loss, [kernel, bias])))
        numpy_gradients = tf.compat.v1.gradients(
            custom_loss.numpy_step_loss(y, predictions), [kernel, bias]
        )
        feed = {x: data.train_features["x"][:512], y: data.train_labels[:512]}
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            before = sess.run([data_loss, spec.loss, kernel, bias], feed)
            for _ in range(steps):
                sess.run(spec.train_op, feed)
            after = sess.run([data_loss, spec.loss, kernel, bias], feed)
    return before, after, gradients, numpy_gradients


def test_masked_loss_training_reduces_the_loss():
    (_data_before, loss_before, *_), (data_after, loss_after, *_), gradients, _ = _train_model_fn(
        "masked", steps=60
    )
    assert all(g is not None for g in gradients.values())
    assert np.isfinite([loss_before, loss_after]).all()
    assert loss_after < 0.1 * loss_before
    assert data_after < 0.2  # The noise variance is 0.09.


def test_numpy_step_loss_has_no_gradient_and_does_not_train():
    steps = 60
    before, after, gradients, numpy_gradients = _train_model_fn("numpy_step", steps=steps)
    (data_before, _loss_before, kernel_before, bias_before) = before
    (data_after, _loss_after, kernel_after, bias_after) = after
    # The NumPy step's value is right; it has no gradient at all.
    assert numpy_gradients == [None, None]
    # With the L2 penalty, minimize() still finds a gradient for the kernel and
    # runs; the bias is reachable only through the NumPy step.
    assert gradients["bias"] is None and gradients["kernel"] is not None
    np.testing.assert_array_equal(bias_after, bias_before)  # Never moved.
    # The kernel only decays: w <- w (1 - 2 lr l2) each step, the data play no part.
    decay = (1 - 2 * custom_loss.LEARNING_RATE * custom_loss.L2) ** steps
    np.testing.assert_allclose(kernel_after, kernel_before * decay, rtol=1e-5)
    assert data_after > 0.9 * data_before  # No fit: the masked model gets below 0.2.


def test_numpy_step_loss_value_equals_masked_loss():
    x_value, y_value, _ = _masked_batch()
    with tf.Graph().as_default():
        x, y, _, _, predictions = _linear_graph(
            np.ones((custom_loss.NUM_FEATURES, 1), np.float32), np.zeros(1, np.float32)
        )
        losses = [
            custom_loss.masked_loss(y, predictions),
            custom_loss.numpy_step_loss(y, predictions),
        ]
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            masked, numpy_step = sess.run(losses, {x: x_value, y: y_value})
            all_missing = sess.run(losses, {x: x_value[:1], y: y_value[:1]})
    np.testing.assert_allclose(numpy_step, masked, rtol=1e-6)
    assert all_missing == [0.0, 0.0]  # Only missing labels: 0, not NaN.


def test_progress_hook_prints_each_quarter_of_the_steps_it_ran():
    """Counted from the hook's own runs, so the same lines at every run: the global step
    fetched beside the train op was read before or after its increment, as the executor
    ordered the two (76/300 instead of 75/300 now and then)."""
    lines: list[str] = []
    with tf.Graph().as_default():
        step = tf.compat.v1.train.get_or_create_global_step()
        train = tf.compat.v1.assign_add(step, 1)
        hooks = [_common.progress_hook("model", 300, lines.append)]
        with tf.compat.v1.train.MonitoredSession(hooks=hooks) as sess:
            for _ in range(300):
                sess.run(train)
    assert lines == [f"  model: {n}/300 training steps" for n in (75, 150, 225, 300)]
