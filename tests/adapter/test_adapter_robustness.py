"""adapter.from_keras on what real code does: the update op used as a tensor, odd but valid
metric objects, and graphs freed after evaluation (continuous evaluation: one per checkpoint).
"""

import dataclasses
import gc
import weakref

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics import adapter, builders
from support.keras import needs_keras

X = np.arange(12, dtype=np.float32).reshape(6, 2) / 10.0
BATCH = 2


def _running_means():
    """The cumulative mean of X's first column after each batch of BATCH rows."""
    column = X[:, 0].astype(np.float64)
    return [column[: (step + 1) * BATCH].mean() for step in range(len(X) // BATCH)]


def test_update_op_is_a_tensor_holding_the_value_after_the_update():
    with tf.Graph().as_default():
        mean = tf.keras.metrics.Mean()
        value, update = adapter.from_keras(mean, None, tf.constant([1.0, 3.0]))
        assert isinstance(update, tf.Tensor) and update.dtype == tf.float32
        doubled = update * 2.0  # Arithmetic works on it, as on a v1 update op.
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.local_variables_initializer())
            assert session.run(doubled) == 4.0
            assert session.run(update) == 2.0  # Two runs: two updates, mean still 2.
            assert session.run(value) == 2.0


class _TrainSummaryHook(tf.estimator.SessionRunHook):
    """Fetches the tensor named `train_mean` at every training step."""

    def __init__(self):
        self.seen = []

    def before_run(self, run_context):
        graph = run_context.session.graph
        return tf.estimator.SessionRunArgs(graph.get_tensor_by_name("train_mean:0"))

    def after_run(self, run_context, run_values):
        self.seen.append(float(run_values.results))


def _model_fn(features, labels, mode):
    bias = tf.compat.v1.get_variable("bias", [], initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(tf.square(features["x"][:, 1] - bias))
    # As real Estimator code does with a v1 metric pair: log its update op in TRAIN mode.
    pair = adapter.from_keras(tf.keras.metrics.Mean(), None, features["x"][:, 0])
    tf.identity(pair[1], name="train_mean")
    tf.compat.v1.summary.scalar("running_mean", pair[1])
    train_op = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(
        loss, global_step=tf.compat.v1.train.get_or_create_global_step()
    )
    return tf.estimator.EstimatorSpec(
        mode, loss=loss, train_op=train_op, eval_metric_ops={"mean": pair}
    )


def test_train_mode_identity_and_summary_of_the_update_op_in_a_real_estimator(tmp_path):
    estimator = tf.estimator.Estimator(
        _model_fn,
        model_dir=str(tmp_path),
        config=tf.estimator.RunConfig(save_summary_steps=1, log_step_count_steps=None),
    )
    hook = _TrainSummaryHook()
    input_fn = lambda: tf.data.Dataset.from_tensor_slices({"x": X}).batch(BATCH)
    estimator.train(input_fn, hooks=[hook])
    np.testing.assert_allclose(hook.seen, _running_means(), rtol=1e-6)
    summaries = {}
    for path in tmp_path.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.tag == "running_mean":
                    summaries[event.step] = (
                        tf.make_ndarray(value.tensor)
                        if value.HasField("tensor")
                        else value.simple_value
                    )
    assert sorted(summaries) == [1, 2, 3]
    np.testing.assert_allclose([summaries[step] for step in (1, 2, 3)], _running_means(), rtol=1e-6)
    evaluated = estimator.evaluate(input_fn)
    assert evaluated["mean"] == pytest.approx(X[:, 0].mean(), rel=1e-6)


# ------------------------------------------------------------- valid, once crashing


@dataclasses.dataclass
class ScaledError:
    """A callable dataclass: eq=True makes its instances unhashable."""

    scale: float

    def __call__(self, y_true, y_pred):
        return self.scale * tf.abs(y_true - y_pred)


def _one_step(pair_fn):
    with tf.Graph().as_default():
        value, update = pair_fn()
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.local_variables_initializer())
            session.run(update)
            return session.run(value)


def test_an_unhashable_callable_is_a_metric_function():
    metric = ScaledError(2.0)
    with pytest.raises(TypeError):
        hash(metric)
    value = _one_step(lambda: adapter.from_keras(metric, [1.0, 2.0], [2.0, 4.0]))
    assert value == pytest.approx(3.0)


_EXEC_SOURCE = """
class SumOfPredictions(tf.keras.metrics.Metric):
    def __init__(self, name="sum_of_predictions"):
        super().__init__(name=name)
        self.total = self.add_weight("total", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            y_pred = y_pred * sample_weight
        self.total.assign_add(tf.reduce_sum(y_pred))

    def result(self):
        return tf.identity(self.total)
"""


def test_a_metric_class_without_source_code_is_run_as_it_is():
    # Defined with exec, like an interactive session or a .pyc-only package: AutoGraph
    # cannot read it (it once raised ConversionError); called as is, it runs.
    namespace = {"tf": tf}
    exec(compile(_EXEC_SOURCE, "<interactive>", "exec"), namespace)
    metric_class = namespace["SumOfPredictions"]
    value = _one_step(lambda: adapter.from_keras(metric_class(), [0.0, 0.0], [1.5, 2.5]))
    assert value == pytest.approx(4.0)


@needs_keras("R2Score")
def test_r2score_with_regressors_branches_in_python_and_still_works():
    y = np.array([[1.0], [2.0], [3.0], [5.0], [4.0]], np.float32)
    p = np.array([[1.1], [1.9], [3.2], [4.5], [4.4]], np.float32)
    eager = tf.keras.metrics.R2Score(num_regressors=1)
    eager.update_state(y, p)
    expected = float(eager.result())
    value = _one_step(lambda: adapter.from_keras(tf.keras.metrics.R2Score(num_regressors=1), y, p))
    assert value == pytest.approx(expected, rel=1e-6)


# ----------------------------------------------------------- graphs are freed


def _metric_kinds():
    return {
        "builder": lambda y, p: builders.mape(y, p),
        "v1 metric": lambda y, p: tf.compat.v1.metrics.mean_absolute_error(y, p),
        "Keras object": lambda y, p: adapter.from_keras(tf.keras.metrics.MeanAbsoluteError(), y, p),
        "plain function": lambda y, p: adapter.from_keras(
            tf.keras.losses.mean_absolute_error, y, p
        ),
        "lambda": lambda y, p: adapter.from_keras(lambda a, b: tf.abs(a - b), y, p),
    }


@pytest.mark.parametrize("kind", sorted(_metric_kinds()))
def test_evaluation_graphs_are_freed_after_evaluate(tmp_path, kind):
    make_pair = _metric_kinds()[kind]
    graphs = []

    def model_fn(features, labels, mode):
        graphs.append(weakref.ref(tf.compat.v1.get_default_graph()))
        prediction = features["x"][:, :1]
        loss = tf.reduce_mean(tf.abs(labels - prediction))
        return tf.estimator.EstimatorSpec(
            mode, loss=loss, eval_metric_ops={"metric": make_pair(labels, prediction)}
        )

    estimator = tf.estimator.Estimator(model_fn, model_dir=str(tmp_path))
    input_fn = lambda: tf.data.Dataset.from_tensor_slices(({"x": X}, X[:, 1:])).batch(BATCH)
    for _ in range(3):  # Continuous evaluation: one graph per checkpoint.
        estimator.evaluate(input_fn)
    gc.collect()
    assert len(graphs) == 3
    assert [ref() for ref in graphs] == [None, None, None], f"{kind}: graphs kept alive"
