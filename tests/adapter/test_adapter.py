"""adapter.from_keras and adapter.per_class: correctness, state placement, errors."""

import glob

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics import adapter
from support import estimator as harness
from support.keras import needs_keras

# One example on which FBetaScore (micro F1) is 0.75 eagerly: P = 1, R = 3/5.
ONE_Y = np.array([[1, 1, 1, 1, 1]], np.float32)
ONE_P = np.array([[0.9, 0.9, 0.9, 0.1, 0.1]], np.float32)


def _graph_value(make_metric, calls):
    """Value after `from_keras(metric, *call)` for each call, in a fresh graph."""
    with tf.Graph().as_default():
        metric = make_metric()
        pairs = [adapter.from_keras(metric, *call) for call in calls]
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            sess.run([update for _, update in pairs])  # One step, as Estimator runs them.
            values = [sess.run(value) for value, _ in pairs]
    for value in values[1:]:  # Every returned value reads the same state.
        np.testing.assert_array_equal(value, values[0])
    return values[0]


def test_last_pair_counts_every_call_and_each_call_runs_once_per_step():
    with tf.Graph().as_default():
        metric = tf.keras.metrics.Sum()
        first = adapter.from_keras(metric, None, [1.0, 2.0])
        second = adapter.from_keras(metric, None, [10.0])
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            sess.run(second[1])
            assert sess.run(second[0]) == 13.0
            sess.run([first[1], second[1]])  # Both listed: still once each.
            assert sess.run(first[0]) == 26.0
            sess.run(first[1])  # The first pair alone runs only the first call.
            assert sess.run(first[0]) == 29.0


def _eager_value(make_metric, calls):
    metric = make_metric()
    for call in calls:
        metric.update_state(*call)
    return metric.result().numpy()


# ------------------------------------------------------ custom Metric styles


class TF1Style(tf.keras.metrics.Metric):
    """update_state returns an op that groups two assignments."""

    def __init__(self, name="tf1_style"):
        super().__init__(name=name)
        self.total = self.add_weight("total", initializer="zeros")
        self.count = self.add_weight("count", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        error = tf.reduce_sum(tf.abs(tf.cast(y_true, tf.float32) - y_pred))
        return tf.group(
            self.total.assign_add(error),
            self.count.assign_add(tf.cast(tf.size(y_pred), tf.float32)),
        )

    def result(self):
        return tf.math.divide_no_nan(self.total, self.count)


class TF2StyleOrdered(tf.keras.metrics.Metric):
    """Returns nothing; later assignments read earlier ones (order matters)."""

    def __init__(self, name="tf2_style"):
        super().__init__(name=name)
        self.count = self.add_weight("count", initializer="zeros")
        self.mean = self.add_weight("mean", initializer="zeros")
        self.peak_mean = self.add_weight("peak_mean", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        batch = tf.cast(tf.size(y_pred), tf.float32)
        self.count.assign_add(batch)
        # Running mean: reads `count` after its update, then `mean` after its.
        self.mean.assign_add((tf.reduce_sum(y_pred) - batch * self.mean) / self.count)
        self.peak_mean.assign(tf.maximum(self.peak_mean, self.mean))

    def result(self):
        return tf.stack([self.mean, self.peak_mean])


class Lazy(tf.keras.metrics.Metric):
    """Creates its per-column state on the first update, like FBetaScore."""

    def __init__(self, name="lazy"):
        super().__init__(name=name)
        self.sums = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.sums is None:
            self.sums = self.add_weight("sums", shape=y_pred.shape[-1:], initializer="zeros")
            self.rows = self.add_weight("rows", initializer="zeros")
        self.sums.assign_add(tf.reduce_sum(y_pred, axis=0))
        self.rows.assign_add(tf.cast(tf.shape(y_pred)[0], tf.float32))

    def result(self):
        return tf.math.divide_no_nan(self.sums, self.rows)


CALLS = [
    (np.array([[1.0, 0.0, 2.0]], np.float32), np.array([[0.5, 0.25, 1.0]], np.float32)),
    (
        np.array([[0.0, 1.0, 1.0], [2.0, 2.0, 0.0]], np.float32),
        np.array([[0.75, 0.5, 3.0], [1.0, 4.0, 0.5]], np.float32),
    ),
]


@pytest.mark.parametrize(
    "make_metric",
    [TF1Style, TF2StyleOrdered, Lazy],
    ids=["tf1_returns_op", "tf2_returns_none_ordered", "lazy_variables"],
)
def test_custom_metric_styles_match_eager_after_two_updates(make_metric):
    np.testing.assert_allclose(
        _graph_value(make_metric, CALLS), _eager_value(make_metric, CALLS), rtol=1e-6
    )


def test_callable_is_a_weighted_mean_and_shares_state_across_calls():
    def abs_error(y_true, y_pred):
        return tf.reduce_mean(tf.abs(y_true - y_pred), axis=-1)

    weights = [np.array([2.0], np.float32), np.array([1.0, 3.0], np.float32)]
    calls = [(y, p, w) for (y, p), w in zip(CALLS, weights)]
    per_example = np.concatenate([np.abs(y - p).mean(-1) for y, p in CALLS])
    expected = np.average(per_example, weights=np.concatenate(weights))
    np.testing.assert_allclose(_graph_value(lambda: abs_error, calls), expected, rtol=1e-6)


def test_single_input_metrics_take_predictions_and_refuse_labels():
    values = np.array([1.0, 2.0, 6.0], np.float32)
    weights = np.array([1.0, 1.0, 2.0], np.float32)
    with tf.Graph().as_default():
        value, update = adapter.from_keras(tf.keras.metrics.Mean(), None, values, weights)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            sess.run(update)
            assert sess.run(value) == pytest.approx(15 / 4)
        with pytest.raises(
            ValueError,
            match=r"Mean.update_state takes one input \(values\): "
            r"pass it as `predictions` with labels=None",
        ):
            adapter.from_keras(tf.keras.metrics.Mean(), values, values)


@pytest.mark.parametrize("name", ["_private", "-neg", "précision", "<lambda>", "my metric"])
def test_any_metric_or_function_name_gives_a_valid_scope(name):
    def fn(y_true, y_pred):
        return tf.abs(y_true - y_pred)

    fn.__name__ = name
    with tf.Graph().as_default():
        adapter.from_keras(fn, [[1.0]], [[2.0]])
        adapter.from_keras(tf.keras.metrics.MeanAbsoluteError(name=name), [[1.0]], [[2.0]])


@needs_keras("FBetaScore")
def test_state_is_local_and_metric_never_global():
    with tf.Graph().as_default():
        metrics = [tf.keras.metrics.FBetaScore(), tf.keras.metrics.AUC(), Lazy()]
        for metric in metrics:
            adapter.from_keras(metric, ONE_Y, ONE_P)
        variables = [v for metric in metrics for v in metric.variables]
        keys = tf.compat.v1.GraphKeys
        assert tf.compat.v1.global_variables() == []
        assert tf.compat.v1.trainable_variables() == []
        for key in (keys.LOCAL_VARIABLES, keys.METRIC_VARIABLES):
            collection = tf.compat.v1.get_collection(key)
            assert all(any(v is c for c in collection) for v in variables), key


# ----------------------------------------- stock Estimator vs the adapter


def _stock_and_adapter(tmp_path, build_metric, calls):
    """evaluate() of the metric handed to EstimatorSpec as is, and via from_keras.

    `calls` are (y_true, y_pred) NumPy pairs for the metric's update calls,
    fed as one example so that the eval loop reads (and ends) its input.
    """
    features = {
        f"{i}/{j}": value[None] for i, call in enumerate(calls) for j, value in enumerate(call)
    }

    def batch_calls(features):
        return [(features[f"{i}/0"][0], features[f"{i}/1"][0]) for i in range(len(calls))]

    def stock_fn(labels, features):
        metric = build_metric()
        for call in batch_calls(features):
            metric.update_state(*call)
        return {"metric": metric}

    def adapter_fn(labels, features):
        metric = build_metric()
        return {"metric": [adapter.from_keras(metric, *call) for call in batch_calls(features)][-1]}

    return [
        harness.evaluate_with_metrics(
            fn, features, None, batch_size=1, model_dir=str(tmp_path / name)
        )["metric"]
        for name, fn in (("stock", stock_fn), ("adapter", adapter_fn))
    ]


@needs_keras("FBetaScore")
def test_stock_estimator_is_wrong_for_fbeta_and_the_adapter_is_right(tmp_path):
    make = lambda: tf.keras.metrics.FBetaScore(average="micro", threshold=0.5)
    with tf.Graph().as_default():  # What stock EstimatorSpec runs: metric.updates.
        metric = make()
        metric.update_state(ONE_Y, ONE_P)
        if not metric.updates:
            pytest.skip(
                "this Keras' FBetaScore records no update op in a graph: "
                "stock EstimatorSpec refuses it instead"
            )
    truth = _eager_value(make, [(ONE_Y, ONE_P)])
    stock, ours = _stock_and_adapter(tmp_path, make, [(ONE_Y, ONE_P)])
    assert truth == pytest.approx(0.75)
    assert stock == 0.0  # Only the last assignment of update_state ran.
    assert ours == pytest.approx(0.75, rel=1e-6)


def test_stock_estimator_counts_only_the_first_of_two_updates(tmp_path):
    calls = [
        (np.array([[1.0]]), np.array([[3.0]])),
        (np.array([[1.0], [1.0]]), np.array([[1.0], [2.0]])),
    ]
    make = tf.keras.metrics.MeanAbsoluteError
    truth = _eager_value(make, calls)
    stock, ours = _stock_and_adapter(tmp_path, make, calls)
    assert truth == pytest.approx(1.0)  # (2 + 0 + 1) / 3
    assert stock == pytest.approx(2.0)  # Only the first update counted.
    assert ours == pytest.approx(1.0, rel=1e-6)


# --------------------------------------------- Estimator attachment modes


def _keras_metric_fn(labels, features):
    one_hot = tf.one_hot(labels["multiclass"], harness.NUM_CLASSES)
    probabilities = features["multiclass_probabilities"]
    f1 = tf.keras.metrics.F1Score(average=None, threshold=0.5)  # Lazily built.
    mae = tf.keras.metrics.MeanAbsoluteError()
    ops = adapter.per_class(
        "f1", adapter.from_keras(f1, one_hot, probabilities, features["weights"])
    )
    regression = labels["regression"][:, None]  # Keras' MAE averages the last axis.
    adapter.from_keras(mae, regression, features["regression_predictions"])
    ops["mae_twice"] = adapter.from_keras(  # Second update of the same metric.
        mae, regression, -features["regression_predictions"], features["weights"]
    )
    ops["r2"] = adapter.from_keras(
        tf.keras.metrics.R2Score(),
        labels["regression"][:, None],
        features["regression_predictions"],
    )
    return ops


def _keras_truth(features, labels):
    f1 = tf.keras.metrics.F1Score(average=None, threshold=0.5)
    f1.update_state(
        tf.one_hot(labels["multiclass"], harness.NUM_CLASSES),
        features["multiclass_probabilities"],
        features["weights"],
    )
    mae = tf.keras.metrics.MeanAbsoluteError()
    regression = labels["regression"][:, None]
    mae.update_state(regression, features["regression_predictions"])
    mae.update_state(regression, -features["regression_predictions"], features["weights"])
    r2 = tf.keras.metrics.R2Score()
    r2.update_state(labels["regression"][:, None], features["regression_predictions"])
    truth = {f"f1/{i}": value for i, value in enumerate(f1.result().numpy())}
    truth.update(mae_twice=mae.result().numpy(), r2=r2.result().numpy())
    return truth


@needs_keras("F1Score", "R2Score")
@pytest.mark.parametrize("mode", harness.MODES)
def test_modes_after_train_match_eager_keras(tmp_path, mode):
    # 96 examples in batches of 16: TPUEstimator needs full batches. The
    # metric ops also run during training, so the checkpoint was written by
    # a graph holding Keras metric state.
    features, labels = harness.take(*harness.make_builder_data(96), 96)
    results = harness.evaluate_with_metrics(
        _keras_metric_fn,
        features,
        labels,
        batch_size=16,
        mode=mode,
        model_dir=str(tmp_path),
        train_steps=2,
        metrics_in_train=True,
    )
    assert results["global_step"] == 2
    assert harness.checkpoint_variable_names(str(tmp_path)) == [harness.BIAS, "global_step"]
    for key, expected in _keras_truth(features, labels).items():
        np.testing.assert_allclose(results[key], expected, rtol=1e-5, err_msg=key)


@needs_keras("F1Score", "R2Score")
def test_per_class_entries_reach_tensorboard(tmp_path):
    features, labels = harness.take(*harness.make_builder_data(40), 40)
    harness.evaluate_with_metrics(
        _keras_metric_fn, features, labels, batch_size=16, model_dir=str(tmp_path)
    )
    tags = set()
    for path in glob.glob(str(tmp_path / "eval" / "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(value.tag for value in event.summary.value)
    assert {f"f1/{i}" for i in range(harness.NUM_CLASSES)} <= tags


def test_per_class_names_and_errors():
    with tf.Graph().as_default():
        pair = (tf.constant([0.1, 0.2, 0.3]), tf.no_op())
        ops = adapter.per_class("f1", pair, class_names=["cat", "dog", "eel"])
        assert sorted(ops) == ["f1/cat", "f1/dog", "f1/eel"]
        assert all(update is pair[1] for _, update in ops.values())
        with pytest.raises(ValueError, match=r"Expected 3 class_names for 'f1', received 2"):
            adapter.per_class("f1", pair, class_names=["cat", "dog"])
        with pytest.raises(
            ValueError, match=r"vector of statically known length, received shape \(\)"
        ):
            adapter.per_class("auc", (tf.constant(0.5), tf.no_op()))


# ------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "metric, message",
    [
        (
            42,
            r"Expected a tf.keras.metrics.Metric instance or a callable fn\(y_true, y_pred\), "
            r"received int: 42",
        ),
        ("auc", r"received str: 'auc'"),
        (tf.keras.metrics.AUC, r"received the class AUC; instantiate it, e.g. AUC\(\)"),
    ],
)
def test_non_metrics_raise_type_error_naming_the_type(metric, message):
    with tf.Graph().as_default(), pytest.raises(TypeError, match=message):
        adapter.from_keras(metric, [1.0], [1.0])


def test_metric_from_another_graph_is_refused():
    with tf.Graph().as_default():
        metric = tf.keras.metrics.Mean()
    with (
        tf.Graph().as_default(),
        pytest.raises(
            ValueError,
            match=r"'mean' \(Mean\) has variables .* in another "
            r"graph: it was created outside this model_fn",
        ),
    ):
        adapter.from_keras(metric, [1.0], [1.0])


@needs_keras("F1Score")
def test_metric_reused_across_two_model_fn_calls_is_refused(tmp_path):
    lazy = tf.keras.metrics.F1Score()  # No variables until its first update.

    def metric_fn(labels, features):
        return {"f1": adapter.from_keras(lazy, features["y"], features["p"])}

    features = {"y": ONE_Y, "p": ONE_P}
    first = harness.evaluate_with_metrics(
        metric_fn, features, None, batch_size=1, model_dir=str(tmp_path)
    )
    assert first["f1"].shape == (5,)
    with pytest.raises(ValueError, match=r"reused from an earlier model_fn call"):
        harness.evaluate_with_metrics(
            metric_fn, features, None, batch_size=1, model_dir=str(tmp_path)
        )


def test_eager_call_says_where_it_belongs():
    with pytest.raises(
        RuntimeError,
        match=r"call it inside a model_fn .* not under eager "
        r"execution.*metric.update_state",
    ):
        adapter.from_keras(tf.keras.metrics.Mean(), [1.0], [1.0])
