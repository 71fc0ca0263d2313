"""Eager, tf.function and metrics: what is true on the pinned TensorFlow (2.15.1).

One test (or parametrized family) per popular claim; each docstring states the
claim and the measured fact. The README section "Eager, tf.function and
metrics: what is true" quotes them. Everything here runs with default
settings: `tf.config.run_functions_eagerly` is never turned on.
"""

import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import roc_auc_score

from estimator_metrics.keras_metrics import AverageConfidence

#: Read at import, before any test can change it.
FUNCTIONS_RUN_EAGERLY_AT_IMPORT = tf.config.functions_run_eagerly()

SIZES = (5, 1, 17, 0, 32, 9)  # One empty batch.
NUM_CLASSES = 4


@pytest.fixture(autouse=True)
def _default_function_mode():
    """Every test below runs with tf.function in graph mode, as shipped."""
    assert not tf.config.functions_run_eagerly()
    yield
    assert not tf.config.functions_run_eagerly()


def test_functions_are_not_run_eagerly_anywhere_in_this_module():
    """Claim: the facts below need `tf.config.run_functions_eagerly(True)`.

    Fact: it is False at import and before and after every test of this
    module (autouse fixture); the trace counters below would read one trace
    per call if functions ran eagerly.
    """
    assert FUNCTIONS_RUN_EAGERLY_AT_IMPORT is False
    assert tf.config.functions_run_eagerly() is False


# ------------------------------------------------------------------ data


def _stream(rng):
    """Batches of (labels 0/1 [b], scores [b], probabilities [b, 4], weights [b]).

    Scores are (k + 0.5) / 1000: strictly between the thresholds of
    `AUC(num_thresholds=1001)`, so Keras' AUC equals sklearn's exactly (up to
    float32 rounding) rather than approximately.
    """
    batches = []
    for size in SIZES:
        logits = rng.normal(size=(size, NUM_CLASSES)) * 2
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        batches.append(
            (
                rng.integers(0, 2, size).astype(np.float32),
                ((rng.integers(0, 1000, size) + 0.5) / 1000).astype(np.float32),
                (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32),
                (rng.integers(0, 4, size) * rng.choice([0.5, 1.0, 1.5], size)).astype(np.float32),
            )
        )
    return batches


def _concat(batches):
    return [np.concatenate([batch[i] for batch in batches]) for i in range(4)]


def _ragged_dataset(arrays, sizes):
    """A tf.data.Dataset of consecutive slices of `arrays` of the given sizes.

    No generator: slices are cut by a `map` over (start, size) pairs, so the
    element spec has an unknown batch axis.
    """
    sizes = np.asarray(sizes, np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    tensors = [tf.constant(a) for a in arrays]
    return tf.data.Dataset.from_tensor_slices((starts, sizes)).map(
        lambda start, size: tuple(t[start : start + size] for t in tensors)
    )


# Metrics of claims 1 and 2: (factory, update(metric, y, score, probs, w), oracle(*all)).
METRICS = {
    "AUC": (
        lambda: tf.keras.metrics.AUC(num_thresholds=1001),
        lambda m, y, s, p, w: m.update_state(y, s, sample_weight=w),
        lambda y, s, p, w: roc_auc_score(y, s, sample_weight=w),
    ),
    "Mean": (
        tf.keras.metrics.Mean,
        lambda m, y, s, p, w: m.update_state(s, sample_weight=w),
        lambda y, s, p, w: np.average(s.astype(np.float64), weights=w),
    ),
    "AverageConfidence": (
        AverageConfidence,
        lambda m, y, s, p, w: m.update_state(None, p, sample_weight=w),
        lambda y, s, p, w: np.average(p.astype(np.float64).max(1), weights=w),
    ),
}


# ------------------------------------------------- 1. stateful metrics, eager


@pytest.mark.parametrize("name", METRICS)
def test_stateful_metrics_accumulate_eagerly_and_reset(rng, name):
    """Claim: "stateful (streaming) metrics cannot work in eager mode".

    Fact: AUC, Mean and AverageConfidence updated eagerly over six batches
    (sizes 5, 1, 17, 0, 32, 9) equal the sklearn/NumPy value on all 64
    examples (measured relative diff 7e-8 for AUC and 5e-8 for Mean, whose
    state is float32; 0 for AverageConfidence, float64); `reset_state()`
    returns them to 0, and the same stream then gives the same value again.
    """
    make, update, oracle = METRICS[name]
    batches = _stream(rng)
    expected = oracle(*_concat(batches))
    metric = make()
    for batch in batches:
        update(metric, *batch)
    first = metric.result().numpy()
    np.testing.assert_allclose(first, expected, rtol=1e-6)
    metric.reset_state()
    assert metric.result().numpy() == 0.0
    for batch in batches[:2]:  # A different stream after the reset ...
        update(metric, *batch)
    np.testing.assert_allclose(metric.result(), oracle(*_concat(batches[:2])), rtol=1e-6)
    metric.reset_state()
    for batch in batches:  # ... and the full one again.
        update(metric, *batch)
    assert metric.result().numpy() == first


# ------------------------------------- 2. tf.function updates are visible


@pytest.mark.parametrize("name", METRICS)
def test_updates_inside_a_tf_function_are_visible_outside(rng, name):
    """Claim: "a Keras metric updated inside tf.function does not show its updates outside".

    Fact: a metric created outside a `tf.function` and updated by one call per
    batch reads, eagerly after the calls, the eager-only result (measured
    |diff| = 0) and the oracle. The function is traced in graph mode once
    per distinct batch size (6 here), not per call.
    """
    make, update, oracle = METRICS[name]
    batches = _stream(rng)
    eager = make()
    for batch in batches:
        update(eager, *batch)
    metric = make()
    traces = []

    @tf.function
    def step(y, s, p, w):
        traces.append(tf.executing_eagerly())
        update(metric, y, s, p, w)

    for batch in batches:
        step(*batch)
    assert traces == [False] * len(set(SIZES))  # Graph tracing, one per shape.
    value = metric.result()
    assert isinstance(value, tf.__internal__.EagerTensor)
    np.testing.assert_allclose(value, eager.result(), rtol=1e-7)
    np.testing.assert_allclose(value, oracle(*_concat(batches)), rtol=1e-6)


@pytest.mark.parametrize("loop", ["for_over_dataset", "tf_while_loop"])
@pytest.mark.parametrize("name", METRICS)
def test_one_tf_function_call_looping_over_batches_updates_the_outer_metric(rng, name, loop):
    """Claim: as above, for a loop over many batches inside one tf.function call.

    Fact: one call whose body is an AutoGraph `for batch in dataset` (compiled
    to a `ReduceDataset` op) or an explicit `tf.while_loop` (a `While` op),
    over the six ragged batches, leaves the outer metric equal to the eager
    result (|diff| = 0) and the oracle. One trace, one call.
    """
    make, update, oracle = METRICS[name]
    batches = _stream(rng)
    arrays = _concat(batches)
    eager = make()
    for batch in batches:
        update(eager, *batch)
    metric = make()
    traces = []
    if loop == "for_over_dataset":
        dataset = _ragged_dataset(arrays, SIZES)

        @tf.function
        def run(dataset):
            traces.append(1)
            count = tf.constant(0)
            for y, s, p, w in dataset:
                update(metric, y, s, p, w)
                count += 1
            return count

        args, graph_op = (dataset,), "ReduceDataset"
    else:
        sizes = np.asarray(SIZES, np.int32)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int32)
        tensors = [tf.constant(a) for a in arrays]

        @tf.function
        def run():
            traces.append(1)

            def body(i):
                start, size = tf.gather(starts, i), tf.gather(sizes, i)
                update(metric, *(t[start : start + size] for t in tensors))
                return i + 1

            return tf.while_loop(lambda i: i < len(SIZES), body, [tf.constant(0)])

        args, graph_op = (), "While"
    assert int(tf.nest.flatten(run(*args))[0]) == len(SIZES)
    assert len(traces) == 1
    graph = run.get_concrete_function(*args).graph
    assert graph_op in {op.type for op in graph.get_operations()}
    np.testing.assert_allclose(metric.result(), eager.result(), rtol=1e-7)
    np.testing.assert_allclose(metric.result(), oracle(*arrays), rtol=1e-6)


def test_constructing_a_metric_inside_a_tf_function_is_what_fails():
    """What the claim confuses it with: *creating* the metric in the function.

    Fact: `tf.keras.metrics.Mean()` constructed inside a `tf.function` body
    raises ValueError ("tf.function only supports singleton tf.Variables
    created on the first call") on the first call; create it outside, as in
    the tests above.
    """

    @tf.function
    def mean_inside(x):
        metric = tf.keras.metrics.Mean()
        metric.update_state(x)
        return metric.result()

    with pytest.raises(ValueError, match=r"singleton tf\.Variables created on the first call"):
        mean_inside(tf.constant([1.0, 2.0]))


# ------------------------------------------------------------- 3. retracing


class TopProbabilitySum(tf.keras.metrics.Metric):
    """A minimal custom metric: sum over examples of w * max_c p."""

    def __init__(self, name="top_probability_sum"):
        super().__init__(name=name)
        self.total = self.add_weight("total", initializer="zeros")

    def update_state(self, probabilities, weights):
        self.total.assign_add(tf.reduce_sum(weights * tf.reduce_max(probabilities, -1)))

    def result(self):
        return self.total


# (factory or None, update(metric, probs, w), oracle(all probs, all weights)).
TRACED = {
    "AverageConfidence": (
        AverageConfidence,
        lambda m, p, w: m.update_state(None, p, sample_weight=w),
        lambda p, w: np.average(p.astype(np.float64).max(1), weights=w),
    ),
    "Mean_builtin": (
        tf.keras.metrics.Mean,
        lambda m, p, w: m.update_state(tf.reduce_max(p, -1), sample_weight=w),
        lambda p, w: np.average(p.astype(np.float64).max(1), weights=w),
    ),
    "custom_subclass": (
        TopProbabilitySum,
        lambda m, p, w: m.update_state(p, w),
        lambda p, w: np.sum(w * p.astype(np.float64).max(1)),
    ),
    "no_metric": (None, lambda m, p, w: tf.reduce_sum(w * tf.reduce_max(p, -1)), None),
}


@pytest.mark.parametrize("name", TRACED)
def test_trace_counts_come_from_input_shapes_not_from_the_metric(rng, name):
    """Claim: "a custom Keras metric must retrace on every batch".

    Fact, for batches of sizes 1..64 (64 shapes), counted with a Python side
    effect and confirmed by `experimental_get_tracing_count()`: with an
    `input_signature` whose batch axis is None, 1 trace; with
    `reduce_retracing=True`, 2 (the second trace generalizes the batch axis);
    with a plain `@tf.function`, 64, one per new shape. The counts are the
    same for AverageConfidence, the built-in Mean, a minimal Metric subclass
    and a function that updates no metric at all: retracing comes from the
    function's input shapes, not from the metric. Every metric still counts
    all 64 batches (each of the three functions updates its own metric).
    """
    make, update, oracle = TRACED[name]
    metrics = {kind: make() if make else None for kind in ("signature", "relaxed", "plain")}
    traces = dict.fromkeys(metrics, 0)

    def step(kind):
        def traced(probabilities, weights):
            traces[kind] += 1  # Python side effect: runs only while tracing.
            update(metrics[kind], probabilities, weights)

        return traced

    spec = [tf.TensorSpec([None, NUM_CLASSES], tf.float32), tf.TensorSpec([None], tf.float32)]
    functions = {
        "signature": tf.function(step("signature"), input_signature=spec),
        "relaxed": tf.function(step("relaxed"), reduce_retracing=True),
        "plain": tf.function(step("plain")),
    }
    seen = []
    for size in range(1, 65):
        probabilities = rng.dirichlet(np.ones(NUM_CLASSES), size).astype(np.float32)
        weights = rng.uniform(0.5, 2, size).astype(np.float32)
        for function in functions.values():
            function(probabilities, weights)
        seen.append((probabilities, weights))
    assert traces == {"signature": 1, "relaxed": 2, "plain": 64}
    assert {k: f.experimental_get_tracing_count() for k, f in functions.items()} == traces
    if make:
        probabilities, weights = (np.concatenate(column) for column in zip(*seen))
        for metric in metrics.values():
            np.testing.assert_allclose(metric.result(), oracle(probabilities, weights), rtol=1e-6)


def test_model_evaluate_traces_its_test_function_once_for_varying_batch_sizes(rng):
    """Claim: as above, for `model.evaluate` with a custom metric.

    Fact: a Keras model compiled with AverageConfidence, evaluated on (a) a
    tf.data dataset of batches of sizes 1..20, (b) `from_tensor_slices(...)
    .batch(8)` with a partial last batch (210 = 26 * 8 + 2) and (c) NumPy
    arrays with batch_size=8, traces `model.test_function` (a
    `tf.function(reduce_retracing=True)` taking the iterator) once in total:
    `experimental_get_tracing_count() == 1`, and the metric's Python
    `update_state` body ran once. All three results equal NumPy.
    """
    python_updates = []

    class CountingAverageConfidence(AverageConfidence):
        def update_state(self, y_true, y_pred, sample_weight=None):
            python_updates.append(tf.executing_eagerly())
            return super().update_state(y_true, y_pred, sample_weight)

    sizes = np.arange(1, 21)
    probabilities = rng.dirichlet(np.ones(NUM_CLASSES), sizes.sum()).astype(np.float32)
    expected = probabilities.astype(np.float64).max(1).mean()
    model = tf.keras.Sequential([tf.keras.layers.Lambda(lambda x: x)])
    model.compile(loss="mse", metrics=[CountingAverageConfidence()])
    assert not model.run_eagerly
    inputs = [
        dict(x=_ragged_dataset([probabilities, probabilities], sizes)),
        dict(x=tf.data.Dataset.from_tensor_slices((probabilities, probabilities)).batch(8)),
        dict(x=probabilities, y=probabilities, batch_size=8),
    ]
    for kwargs in inputs:
        results = model.evaluate(**kwargs, verbose=0, return_dict=True)
        np.testing.assert_allclose(results["average_confidence"], expected, rtol=1e-6)
    # PolymorphicFunction where this TF has the name (GenericFunction, its alias, elsewhere).
    function_types = tf.types.experimental
    assert isinstance(
        model.test_function,
        getattr(function_types, "PolymorphicFunction", function_types.GenericFunction),
    )
    assert model.test_function.experimental_get_tracing_count() == 1
    assert python_updates == [False]


# ------------------------------------------ 4. custom losses in graph mode

# A linear model with masked squared error: labels < 0 mean "no label".
_X = np.random.default_rng(7).normal(size=(12, 3))
_W0 = np.array([0.5, -1.0, 2.0])
_Y = np.abs(np.random.default_rng(8).normal(size=12)) + 0.1
_Y[[1, 4, 5, 9]] = -1.0
_VALID = _Y >= 0


def _reference_gradient(x=_X, y=_Y, w=_W0):
    """d/dw of mean over valid i of (x_i . w - y_i)**2: 2/n X_v^T (X_v w - y_v)."""
    valid = y >= 0
    return 2 * x[valid].T @ (x[valid] @ w - y[valid]) / valid.sum()


def _masked_loss(kind, labels, predictions):
    """Mean squared error over examples with labels >= 0 (a data-dependent mask)."""
    mask = labels >= 0
    squared = tf.square(predictions - labels)
    if kind == "tf_where":
        total = tf.reduce_sum(tf.where(mask, squared, tf.zeros_like(squared)))
        return total / tf.reduce_sum(tf.cast(mask, squared.dtype))
    return tf.reduce_mean(tf.boolean_mask(squared, mask))


@pytest.mark.parametrize("kind", ["tf_where", "boolean_mask"])
def test_masked_loss_has_exact_gradients_in_tf1_graph_mode(kind):
    """Claim: "a custom loss needs eager execution".

    Fact: in a tf.Graph with placeholders of unknown batch size, run by a
    Session, `tf.compat.v1.gradients` of a loss masked with
    `tf.where(labels >= 0, ...)` or `tf.boolean_mask` equals the analytic
    NumPy gradient (float64, rtol 1e-12); the gradient w.r.t. the inputs of
    the 4 masked examples is exactly 0, and changing their labels (-1 ->
    -1000) changes neither loss nor gradient.
    """
    with tf.Graph().as_default():
        x = tf.compat.v1.placeholder(tf.float64, [None, 3])
        y = tf.compat.v1.placeholder(tf.float64, [None])
        w = tf.compat.v1.Variable(_W0)
        loss = _masked_loss(kind, y, tf.linalg.matvec(x, w))
        grad_w, grad_x = tf.compat.v1.gradients(loss, [w, x])
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            value, gw, gx = sess.run([loss, grad_w, grad_x], {x: _X, y: _Y})
            other_labels = np.where(_VALID, _Y, -1000.0)
            value2, gw2 = sess.run([loss, grad_w], {x: _X, y: other_labels})
    np.testing.assert_allclose(gw, _reference_gradient(), rtol=1e-12)
    np.testing.assert_allclose(value, np.mean((_X @ _W0 - _Y)[_VALID] ** 2), rtol=1e-12)
    assert np.all(gx[~_VALID] == 0) and np.all(np.any(gx[_VALID] != 0, axis=1))
    assert value2 == value and np.array_equal(gw2, gw)


@pytest.mark.parametrize("kind", ["tf_where", "boolean_mask"])
def test_masked_loss_has_exact_gradients_in_a_tf_function_with_gradient_tape(kind):
    """Claim: as above, for TF2 code.

    Fact: the same loss and `tf.GradientTape` inside a `tf.function` (traced
    in graph mode, `tf.executing_eagerly()` False while tracing) give the
    analytic gradient (rtol 1e-12), for two batches of different sizes, one
    trace each.
    """
    w = tf.Variable(_W0)
    traced = []

    @tf.function
    def gradient(x, y):
        traced.append(tf.executing_eagerly())
        with tf.GradientTape() as tape:
            loss = _masked_loss(kind, y, tf.linalg.matvec(x, w))
        return tape.gradient(loss, w)

    for rows in (slice(None), slice(0, 7)):
        np.testing.assert_allclose(
            gradient(_X[rows], _Y[rows]), _reference_gradient(_X[rows], _Y[rows]), rtol=1e-12
        )
    assert traced == [False, False]


def test_masked_loss_trains_through_model_fit_without_run_eagerly():
    """Claim: as above, for `model.compile(loss=custom_fn)` / `model.fit`.

    Fact: with `run_eagerly` False (the default), one full-batch SGD step
    (learning rate 0.125, exact in the optimizer's float32) of `model.fit`
    with the tf.where-masked loss moves the float64 kernel to W0 - 0.125 *
    analytic gradient (rtol 1e-12).
    `model.train_function` is traced once (model and optimizer built before
    `fit`; otherwise the first call traces twice, because it creates the
    variables).
    """
    model = tf.keras.Sequential(
        [
            tf.keras.Input([3], dtype="float64"),
            tf.keras.layers.Dense(
                1,
                use_bias=False,
                dtype="float64",
                kernel_initializer=tf.keras.initializers.Constant(_W0[:, None]),
            ),
        ]
    )
    optimizer = tf.keras.optimizers.SGD(0.125)
    optimizer.build(model.trainable_variables)
    model.compile(optimizer=optimizer, loss=lambda y, p: _masked_loss("tf_where", y, p))
    # A float64 dataset: fit would cast float64 NumPy arrays to float32 (floatx).
    data = tf.data.Dataset.from_tensor_slices((_X, _Y[:, None])).batch(len(_X))
    model.fit(data, epochs=1, verbose=0)
    assert not model.run_eagerly
    assert model.train_function.experimental_get_tracing_count() == 1
    np.testing.assert_allclose(
        model.layers[0].kernel.numpy()[:, 0], _W0 - 0.125 * _reference_gradient(), rtol=1e-12
    )


def test_tf_where_mask_over_a_nan_branch_gives_nan_gradients_in_any_mode():
    """The masking pitfall that is real (and has nothing to do with eager).

    Fact: `tf.where(labels >= 0, (log(labels) - pred)**2, 0)` has a finite
    loss but an all-NaN gradient, eagerly and in a tf.function alike: the
    gradient of the unselected branch is 0 * NaN = NaN. Making the branch
    safe first (`log(tf.where(mask, labels, 1))`) gives the analytic
    gradient.
    """
    w = tf.Variable(_W0)

    def gradient(x, y, safe):
        with tf.GradientTape() as tape:
            mask = y >= 0
            target = tf.math.log(tf.where(mask, y, tf.ones_like(y)) if safe else y)
            squared = tf.square(target - tf.linalg.matvec(x, w))
            loss = tf.reduce_sum(tf.where(mask, squared, tf.zeros_like(squared)))
        return loss, tape.gradient(loss, w)

    traced = tf.function(gradient)
    for run in (gradient, traced):
        loss, grad = run(_X, _Y, False)
        assert np.isfinite(loss.numpy()) and np.all(np.isnan(grad.numpy()))
    expected = -2 * _X[_VALID].T @ (np.log(_Y[_VALID]) - _X[_VALID] @ _W0)
    for run in (gradient, traced):
        np.testing.assert_allclose(run(_X, _Y, True)[1], expected, rtol=1e-12)


def test_numpy_inside_a_loss_cuts_the_gradient_in_graph_function_and_eager():
    """Where "custom losses need eager" comes from, and why eager is no fix.

    Fact: a loss that routes its values through NumPy has no gradient in every
    mode: `tf.numpy_function` gives None from `tf.compat.v1.gradients` in a
    tf.Graph, from a GradientTape in a tf.function, and from a GradientTape
    eagerly; so does an eager `.numpy()` round trip. Calling `.numpy()` in a
    traced loss raises AttributeError ('SymbolicTensor' object has no
    attribute 'numpy'); `model.compile(run_eagerly=True)` makes that loss run,
    and `fit` then fails with "No gradients provided for any variable".
    """

    def numpy_loss(labels, predictions):
        squared = tf.numpy_function(
            lambda a: a.copy(), [tf.square(predictions - labels)], tf.float64
        )
        return tf.reduce_mean(squared)

    with tf.Graph().as_default():
        w = tf.compat.v1.Variable(_W0)
        assert tf.compat.v1.gradients(numpy_loss(_Y, tf.linalg.matvec(_X, w)), [w]) == [None]

    w = tf.Variable(_W0)

    def tape_gradient(loss_fn):
        with tf.GradientTape() as tape:
            loss = loss_fn(_Y, tf.linalg.matvec(_X, w))
        assert np.isfinite(loss.numpy() if tf.executing_eagerly() else 0.0)
        return tape.gradient(loss, w)

    assert tape_gradient(numpy_loss) is None  # Eager.
    assert tf.function(lambda: tape_gradient(numpy_loss))() is None  # Graph.

    def round_trip_loss(labels, predictions):
        return tf.reduce_mean(tf.constant(tf.square(predictions - labels).numpy()))

    assert tape_gradient(round_trip_loss) is None  # Eager: runs, no gradient.
    # Graph tensors are SymbolicTensor where TF has that class, else Tensor.
    with pytest.raises(
        AttributeError, match=r"'(Symbolic)?Tensor' object has no attribute 'numpy'"
    ):
        tf.function(lambda: tape_gradient(round_trip_loss))()

    model = tf.keras.Sequential([tf.keras.layers.Dense(1, dtype="float64")])
    model.compile(optimizer="sgd", run_eagerly=True, loss=lambda y, p: round_trip_loss(y, p))
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        model.fit(_X, _Y[:, None], verbose=0)
