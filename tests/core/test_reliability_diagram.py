"""The reliability diagram: the image Summary `builders.reliability_diagram` gives, what
`Estimator.evaluate` writes of it into the evaluation's event file, the twin's picture of
its state, and the clear error where matplotlib (the `diagram` extra) is missing."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from estimator_metrics import builders
from estimator_metrics._core import diagram as _diagram
from estimator_metrics._core import parity
from estimator_metrics.keras_metrics import CalibrationError
from support import calibration as oracle
from support import estimator as harness

SIZE = (640, 640)


def _diagram_stream(batches, **options):
    """(serialized Summary, state) after one update of reliability_diagram per batch."""
    with tf.Graph().as_default():
        inputs = [parity.placeholder(array) for array in batches[0]]
        value, update = builders.reliability_diagram(*inputs, **options)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            for batch in batches:
                state = sess.run(update, dict(zip(inputs, batch)))
            return sess.run(value), state


def _image(summary: bytes, tag: str) -> bytes:
    """The PNG of the one image value of `summary`, after checking its tag and size."""
    values = tf.compat.v1.Summary.FromString(summary).value
    assert [value.tag for value in values] == [tag]
    image = values[0].image
    assert (image.width, image.height, image.colorspace) == (*SIZE, 4)
    pixels = tf.io.decode_png(image.encoded_image_string).numpy()
    assert pixels.shape == (SIZE[1], SIZE[0], 4)
    assert pixels[..., :3].std() > 20  # A drawing, not a blank canvas.
    return image.encoded_image_string


def _texts_are_readable(figure) -> dict:
    """{role: text} of the figure's titles, labels and caption, after checking each is set,
    at least 9 points, inside the canvas and clear of the others (no overlap)."""
    top, bottom = figure.axes
    texts = {
        "title": top.title,
        "accuracy label": top.yaxis.label,
        "weight label": bottom.yaxis.label,
        "confidence label": bottom.xaxis.label,
        "caption": figure.texts[0],
    }
    renderer = figure.canvas.get_renderer()
    canvas = figure.bbox
    boxes = {}
    for role, text in texts.items():
        assert text.get_text(), role
        assert text.get_fontsize() >= 9, role
        box = text.get_window_extent(renderer)
        assert canvas.x0 <= box.x0 and box.x1 <= canvas.x1, role
        assert canvas.y0 <= box.y0 and box.y1 <= canvas.y1, role
        boxes[role] = box
    for a, box_a in boxes.items():
        for b, box_b in boxes.items():
            assert a == b or not box_a.overlaps(box_b), (a, b)
    for axes in figure.axes:  # The tick labels: numbers on both axes of each panel.
        assert [t.get_text() for t in axes.get_yticklabels() if t.get_text()]
    assert [t.get_text() for t in bottom.get_xticklabels()][:2] == ["0.0", "0.2"]
    return {role: text.get_text() for role, text in texts.items()}


def _figure(state, *, ece, mce, binary, title):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = _diagram.figure(state, ece=ece, mce=mce, binary=binary, title=title)
    FigureCanvasAgg(figure).draw()  # Lays the labels out where the PNG has them.
    return figure


def test_value_is_an_image_summary_drawn_from_the_state(multiclass_batches):
    batches = [(y, p, w) for y, p, w in multiclass_batches]
    summary, state = _diagram_stream(batches, num_bins=10, name="diagram")
    expected = oracle.bins(
        *oracle.top_label(
            np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
        ),
        np.concatenate([b[2] for b in batches]),
        10,
    )
    np.testing.assert_allclose(state, expected, rtol=1e-12, atol=1e-12)
    ece, mce = (oracle.calibration_error(state, norm) for norm in ("l1", "max"))
    png = _image(summary, "diagram")
    drawn, _, _ = _diagram.draw_png(
        state, ece=ece, mce=mce, binary=False, title="Reliability diagram: diagram"
    )
    assert png == drawn
    texts = _texts_are_readable(
        _figure(state, ece=ece, mce=mce, binary=False, title="Reliability diagram: diagram")
    )
    assert texts["caption"].startswith(f"ECE {ece:.4f}    MCE {mce:.4f}    10 bins")
    assert texts["confidence label"] == "confidence (largest class probability)"
    assert texts["accuracy label"] == "accuracy (top label correct)"


def test_binary_axes_say_what_a_binary_diagram_shows(binary_batches):
    summary, state = _diagram_stream(binary_batches)
    _image(summary, "reliability_diagram")
    texts = _texts_are_readable(
        _figure(state, ece=0.1, mce=0.2, binary=True, title="Reliability diagram")
    )
    assert texts["confidence label"] == "predicted probability of class 1"
    assert texts["accuracy label"] == "fraction of class 1"


def test_no_data_still_draws_a_diagram():
    empty = (np.zeros([0], np.int64), np.zeros([0, 3], np.float32))
    summary, state = _diagram_stream([empty])
    assert not state.any()
    _image(summary, "reliability_diagram")


def test_update_op_draws_nothing_and_value_changes_no_state():
    with tf.Graph().as_default() as graph:
        value, update = builders.reliability_diagram([0, 1], [[0.8, 0.2], [0.3, 0.7]])
    drawing = {op.name for op in graph.get_operations() if op.type == "PyFunc"}
    assert drawing == {"reliability_diagram/value"}
    assert update.dtype == tf.float64 and update.shape == (3, 15)
    ancestors, frontier = set(), [update.op]
    while frontier:
        op = frontier.pop()
        if op.name not in ancestors:
            ancestors.add(op.name)
            frontier += [t.op for t in op.inputs] + list(op.control_inputs)
    assert not drawing & ancestors
    assert value.dtype == tf.string and value.shape == ()


# ------------------------------------------------------------------------- Estimator


def _diagram_metric_fn(labels, features):
    probabilities, weights = features["multiclass_probabilities"], features["weights"]
    return {
        "reliability": builders.reliability_diagram(
            labels["multiclass"], probabilities, weights, num_bins=10
        ),
        "ece": builders.calibration_error(
            labels["multiclass"], probabilities, weights, num_bins=10
        ),
        "mce": builders.calibration_error(
            labels["multiclass"], probabilities, weights, num_bins=10, norm="max"
        ),
    }


def test_estimator_evaluate_writes_the_picture_into_the_event_file(tmp_path):
    features, labels = harness.make_builder_data(103)
    results = harness.evaluate_with_metrics(
        _diagram_metric_fn, features, labels, batch_size=16, model_dir=str(tmp_path)
    )
    state = oracle.bins(
        *oracle.top_label(labels["multiclass"], features["multiclass_probabilities"]),
        features["weights"],
        10,
    )
    np.testing.assert_allclose(results["ece"], oracle.calibration_error(state, "l1"), rtol=1e-12)
    np.testing.assert_allclose(results["mce"], oracle.calibration_error(state, "max"), rtol=1e-12)
    images = {}
    for path in glob.glob(os.path.join(str(tmp_path), "eval", "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.HasField("image"):
                    images[value.tag] = value.image.encoded_image_string
                elif value.tag in ("ece", "mce"):
                    assert value.simple_value == pytest.approx(results[value.tag], rel=1e-6)
    # Estimator names the values of a bytes metric "key/0", "key/1", ...
    assert list(images) == ["reliability/0"]
    assert images["reliability/0"] == _image(results["reliability"], "reliability_diagram")
    drawn, _, _ = _diagram.draw_png(
        state,
        ece=results["ece"],
        mce=results["mce"],
        binary=False,
        title="Reliability diagram",
    )
    assert images["reliability/0"] == drawn


def test_drawing_needs_no_display_and_no_pyplot(tmp_path):
    """A fresh interpreter without DISPLAY, with a GUI backend asked for: nothing is shown,
    pyplot is never imported, and the image comes out."""
    code = (
        "import sys, numpy as np, tensorflow as tf\n"
        "from estimator_metrics import builders\n"
        "with tf.Graph().as_default():\n"
        "    value, update = builders.reliability_diagram([0, 1], [[0.8, 0.2], [0.3, 0.7]])\n"
        "    with tf.compat.v1.Session() as s:\n"
        "        s.run(tf.compat.v1.local_variables_initializer()); s.run(update)\n"
        "        summary = s.run(value)\n"
        "assert tf.compat.v1.Summary.FromString(summary).value[0].image.width == 640\n"
        "print('pyplot' if 'matplotlib.pyplot' in sys.modules else 'no pyplot')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(MPLBACKEND="TkAgg", MPLCONFIGDIR=str(tmp_path), TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "no pyplot"


# ------------------------------------------------------------------ matplotlib missing


def test_missing_matplotlib_fails_while_building_and_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` fails.
    with tf.Graph().as_default():
        with pytest.raises(
            ImportError, match=r"pip install 'estimator-metrics\[diagram\]'"
        ) as info:
            builders.reliability_diagram([0], [[0.6, 0.4]])
        assert "builders.reliability_diagram draws the reliability diagram" in str(info.value)
        assert "calibration/#the-diagram-extra" in str(info.value)
        # The calibration error itself needs no matplotlib.
        value, update = builders.calibration_error([0, 1], [[0.6, 0.4], [0.1, 0.9]], num_bins=5)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            sess.run(update)
            assert sess.run(value) == pytest.approx(0.25)
    metric = CalibrationError()
    metric.update_state([0], [[0.6, 0.4]])
    with pytest.raises(ImportError, match=r"CalibrationError draws .*estimator-metrics\[diagram\]"):
        metric.reliability_diagram()


# --------------------------------------------------------------------- the Keras twin


@pytest.mark.keras3
def test_twins_diagram_is_the_builders_picture_of_the_same_batches(multiclass_batches):
    summary, _ = _diagram_stream(multiclass_batches, num_bins=12)
    metric = CalibrationError(num_bins=12)  # Its default name: the title of the builder's.
    for y, p, w in multiclass_batches:
        metric.update_state(y, p, sample_weight=w)
    assert metric.reliability_diagram() == _image(summary, "reliability_diagram")


@pytest.mark.keras3
def test_twins_diagram_goes_to_tensorboard_with_tf_summary_image(tmp_path, rng):
    inputs = tf.keras.Input((4,))
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(3, activation="softmax")(inputs))
    metric = CalibrationError()
    model.compile(loss="sparse_categorical_crossentropy", metrics=[metric])
    x, y = rng.normal(size=(64, 4)).astype(np.float32), rng.integers(0, 3, 64)
    model.evaluate(x, y, batch_size=16, verbose=0)
    png = metric.reliability_diagram()
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        tf.summary.image("reliability", tf.io.decode_png(png)[None], step=1)
    found = []
    for path in glob.glob(os.path.join(str(tmp_path), "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            found += [value.tag for value in event.summary.value]
    assert found == ["reliability"]
    assert metric._binary is False  # The axes of a top-label diagram, from the traced step.
