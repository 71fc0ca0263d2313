"""migrate's calibration rules (docs/migrate.md, Calibration): what they find, and the
numbers their notes state, evaluated - TensorFlow Probability's one-shot ECE per batch
against `builders.calibration_error` over the stream, and object_detection's streaming ECE
(re-implemented in support.calibration from its description) against the builder."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics import builders
from estimator_metrics.migrate import Action, Status
from support import calibration as oracle
from support.data import SEED, SIZES, concat
from support.migrate import module_code, plan

TFP = "import tensorflow as tf\nimport tensorflow_probability as tfp"
SPEC = "return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=ops)"
ECE = "tfp.stats.expected_calibration_error(10, logits=features['logits'], labels_true=labels)"
SUGGESTED = "builders.calibration_error(labels, tf.nn.softmax(features['logits']), num_bins=10)"


def findings(body: str, imports: str = TFP, key: str = "expected_calibration_error") -> list:
    found, _ = plan(module_code(f"loss = 0.0\n{body}\n{SPEC}", imports))
    return [f for f in found if f.metric.endswith(key)]


# ------------------------------------------------------------------ what the rules find


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (f"ops = {{'ece': ({ECE}, tf.no_op())}}", Status.WRONG, "one batch's ECE"),
        (
            f"ece = {ECE}\nops = {{'ece': tf.compat.v1.metrics.mean(ece)}}",
            Status.WRONG,
            "tf.compat.v1.metrics.mean (line 8) averages the ECE of each batch",
        ),
        (f"tf.compat.v1.summary.scalar('ece', {ECE})\nops = {{}}", Status.UNSURE, "not shown"),
    ],
    ids=["pair", "averaged", "summary"],
)
def test_tfp_ece_status_follows_where_its_value_goes(body, status, says):
    [finding] = findings(body)
    assert finding.status == status and says in finding.notes[0]
    assert finding.replacement == SUGGESTED
    assert finding.fix is None and finding.action == Action.REPORT_ONLY
    assert finding.docs.endswith("/migrate/#calibration")
    assert finding.notes[-1] == "not rewritten: a different number (the evaluation set's ECE)"


@pytest.mark.parametrize(
    ("imports", "call"),
    [
        (TFP, "tfp.stats.expected_calibration_error"),
        (
            "import tensorflow as tf\nfrom tensorflow_probability import stats",
            "stats.expected_calibration_error",
        ),
        (
            "import tensorflow as tf\nfrom tensorflow_probability.python.stats import calibration",
            "calibration.expected_calibration_error",
        ),
        (
            "import tensorflow as tf\nfrom tensorflow_probability.stats import "
            "expected_calibration_error as ece",
            "ece",
        ),
    ],
)
def test_tfp_ece_every_alias_and_positional_arguments(imports, call):
    [finding] = findings(f"ops = {{'ece': ({call}(15, logits, labels), tf.no_op())}}", imports)
    assert finding.metric == "tfp.stats.expected_calibration_error"
    assert (
        finding.replacement
        == "builders.calibration_error(labels, tf.nn.softmax(logits), num_bins=15)"
    )


def test_tfp_ece_labels_predicted_is_named():
    body = ECE[:-1] + ", labels_predicted=top)"
    [finding] = findings(f"ops = {{'ece': ({body}, tf.no_op())}}")
    assert any(note.startswith("labels_predicted=top: tfp bins") for note in finding.notes)


def test_tfp_ece_outside_an_estimator_role_and_other_tfp_functions_are_not_reported():
    code = (
        f"{TFP}\n\n\ndef evaluate(logits, labels):\n"
        "    return tfp.stats.expected_calibration_error(15, logits=logits, labels_true=labels)\n"
    )
    assert plan(code)[0] == []
    body = (
        "ops = {'p50': (tfp.stats.percentile(features['x'], 50.0), tf.no_op()),\n"
        "       'x': getattr(tfp.stats, features['name'])(labels, features['x'])}"
    )
    assert plan(module_code(f"loss = 0.0\n{body}\n{SPEC}", TFP))[0] == []


@pytest.mark.parametrize(
    ("imports", "call", "bins"),
    [
        (
            "from object_detection.metrics import calibration_metrics",
            "calibration_metrics.expected_calibration_error(y_true, y_pred)",
            "20",
        ),
        (
            "from object_detection.metrics.calibration_metrics import expected_calibration_error",
            "expected_calibration_error(y_true, y_pred, nbins=10)",
            "10",
        ),
        (
            "import object_detection.metrics.calibration_metrics as cm",
            "cm.expected_calibration_error(y_pred=y_pred, y_true=y_true, nbins=n)",
            "n",
        ),
    ],
)
def test_detection_ece_is_float32_counters_suggesting_the_builder(imports, call, bins):
    [finding] = findings(f"ops = {{'ece': {call}}}", "import tensorflow as tf\n" + imports)
    assert finding.status == Status.FLOAT32 and finding.fix is None
    assert finding.replacement == f"builders.calibration_error(y_true, y_pred, num_bins={bins})"
    assert finding.same_number.startswith("1e-6")
    assert finding.docs.endswith("/migrate/#calibration")


def test_detection_ece_with_unseen_keywords_is_unsure():
    imports = "import tensorflow as tf\nfrom object_detection.metrics import calibration_metrics"
    call = "calibration_metrics.expected_calibration_error(y_true, y_pred, **options)"
    [finding] = findings(f"ops = {{'ece': {call}}}", imports)
    assert finding.status == Status.UNSURE and "nbins" in finding.notes[0]


# ------------------------------------------------------------------ the numbers the notes state


def _batches(rng, sizes=SIZES):
    """Binary detections: float32 scores, and 0/1 matches drawn with a miscalibrated rate."""
    batches = []
    for size in sizes:
        scores = rng.uniform(0, 1, size).astype(np.float32)
        batches.append(((rng.uniform(0, 1, size) < scores**2).astype(np.int64), scores))
    return batches


def _stream_both(batches, nbins):
    """[(detection ECE, builder ECE)] after each batch, from one graph and one session."""
    with tf.Graph().as_default():
        y_true = tf.compat.v1.placeholder(tf.int64, [None])
        y_pred = tf.compat.v1.placeholder(tf.float32, [None])
        _, theirs = oracle.detection_ece(y_true, y_pred, nbins)
        _, ours = builders.calibration_error(y_true, y_pred, num_bins=nbins)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            return [sess.run([theirs, ours], {y_true: y, y_pred: p}) for y, p in batches]


@pytest.mark.parametrize("nbins", [10, 20])
def test_detection_ece_equals_the_builder_to_float32_precision(nbins):
    batches = _batches(np.random.default_rng(SEED))
    scores = concat(batches, 1)
    edges = np.arange(1, nbins) / nbins
    # No float32 score within a few float32 ulps below an edge (see the next test).
    assert np.abs(scores[:, None] - edges[None, :]).min() > 1e-6
    steps = _stream_both(batches, nbins)
    for theirs, ours in steps:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    assert steps[-1][1] > 0.05  # Miscalibrated: the comparison compares something.


def test_detection_ece_float32_bin_index_puts_an_edge_score_one_bin_up():
    # float32(0.7) is 0.69999998..., in [0.6, 0.7): bin 6 of 10. Its float32 product with 10
    # rounds to 7.0, and tf.histogram_fixed_width_bins (object_detection's and tfp's bins)
    # puts it in bin 7, beside 0.75.
    assert float(np.float32(0.7)) < 0.7
    labels, scores = np.array([1, 0]), np.array([0.7, 0.75], np.float32)
    [(theirs, ours)] = _stream_both([(labels, scores)], 10)
    np.testing.assert_allclose(theirs, abs(0.5 - (0.7 + 0.75) / 2), rtol=1e-6)  # One bin.
    np.testing.assert_allclose(ours, 0.5 * (1 - float(scores[0])) + 0.5 * 0.75, rtol=1e-12)


def test_tfp_ece_per_batch_is_not_the_evaluation_sets_and_the_builder_is():
    tfp = pytest.importorskip("tensorflow_probability")
    rng = np.random.default_rng(SEED)
    batches = []
    for size in (16, 16, 16, 16, 7):
        logits = (rng.normal(size=(size, 3)) * 3).astype(np.float32)
        batches.append((rng.integers(0, 3, size).astype(np.int64), logits))
    labels, logits = concat(batches, 0), concat(batches, 1)

    def tfp_ece(y, z):
        with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
            return sess.run(tfp.stats.expected_calibration_error(10, logits=z, labels_true=y))

    whole = tfp_ece(labels, logits)
    per_batch = [tfp_ece(y, z) for y, z in batches]
    with tf.Graph().as_default():
        y = tf.compat.v1.placeholder(tf.int64, [None])
        z = tf.compat.v1.placeholder(tf.float32, [None, 3])
        value, update = builders.calibration_error(y, tf.nn.softmax(z), num_bins=10)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            for labels_batch, logits_batch in batches:
                sess.run(update, {y: labels_batch, z: logits_batch})
            streamed = sess.run(value)
    # The suggestion, streamed over the batches, is tfp's ECE over all the logits at once ...
    np.testing.assert_allclose(streamed, whole, rtol=1e-6, atol=1e-7)
    # ... which neither the last batch's ECE nor the mean of the batches' ECEs is.
    assert abs(per_batch[-1] - whole) > 0.05
    assert abs(np.mean(per_batch) - whole) > 0.05
