"""README.md as a user meets it: an entry point, whose examples run as they are pasted.

The first example is a whole `model_fn`: it is executed as it stands and trained and evaluated
in a real Estimator, and its numbers are checked against scikit-learn on the predictions the
checkpoint gives. The second, the Keras twin in `compile`, runs in a Keras model (Keras 2 here,
Keras 3 in the keras3 run). The docs' home page shows the same two examples.
"""

import re
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import accuracy_score, f1_score

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
_PYTHON = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def python_blocks(path: Path) -> list[str]:
    return _PYTHON.findall(path.read_text(encoding="utf-8"))


def _data(rng, n):
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = np.argmax(x[:, :3] + 0.5 * rng.normal(size=(n, 3)), axis=1).astype(np.int64)
    return x, y


def test_the_readme_is_an_entry_point():
    text = README.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= 12 * 1024
    lines = text.splitlines()
    first = {what: next(i for i, line in enumerate(lines) if what in line) for what in (
        'pip install "estimator-metrics[cpu]"', "def model_fn", "keras_metrics.FBeta",
        "estimator-metrics migrate src/", "make demo", "make test",
    )}  # fmt: skip
    assert list(first.values()) == sorted(first.values()), first  # In the order a user needs.
    assert first["def model_fn"] < 25, first  # On the first screen.


def test_the_docs_home_shows_the_readme_examples():
    assert python_blocks(ROOT / "docs" / "index.md") == python_blocks(README)[:2]


def test_the_first_example_is_a_model_fn_of_at_most_15_lines():
    source = python_blocks(README)[0]
    body = source[source.index("def model_fn") :].strip().splitlines()
    assert len(body) <= 15, body


def test_the_first_example_runs_in_an_estimator_as_pasted(tmp_path):
    pytest.importorskip("tensorflow_estimator")
    namespace = {}
    exec(python_blocks(README)[0], namespace)
    rng = np.random.default_rng(7)
    x, y = _data(rng, 600)

    def input_fn(epochs):
        return tf.data.Dataset.from_tensor_slices(({"x": x}, y)).repeat(epochs).batch(64)

    estimator = tf.estimator.Estimator(namespace["model_fn"], model_dir=str(tmp_path))
    estimator.train(lambda: input_fn(3))
    got = estimator.evaluate(lambda: input_fn(1))
    kernel, bias = (tf.train.load_variable(str(tmp_path), f"dense/{v}") for v in ("kernel", "bias"))
    predicted = np.argmax(x @ kernel + bias, axis=1)
    assert got["accuracy"] > 0.6  # It trained: the numbers below are not those of a constant.
    f1 = f1_score(y, predicted, average="macro", labels=[0, 1, 2], zero_division=0)
    np.testing.assert_allclose(got["f1_macro"], f1, rtol=1e-12)
    np.testing.assert_allclose(got["accuracy"], accuracy_score(y, predicted), rtol=1e-7)


@pytest.mark.keras3
def test_the_twin_example_compiles_and_evaluates_in_a_keras_model():
    rng = np.random.default_rng(8)
    x, y = _data(rng, 300)
    w = rng.uniform(0, 2, size=len(y)).astype(np.float32)  # Keras feeds weights as float32.
    model = tf.keras.Sequential(
        [tf.keras.Input(shape=(4,)), tf.keras.layers.Dense(3, activation="softmax")]
    )
    namespace = {"model": model}
    exec(python_blocks(README)[1], namespace)
    got = model.evaluate(x, y, sample_weight=w, batch_size=64, return_dict=True, verbose=0)
    predicted = np.argmax(model.predict(x, verbose=0), axis=1)
    f1 = f1_score(y, predicted, average="macro", labels=[0, 1, 2], sample_weight=w)
    np.testing.assert_allclose(got["f1_macro"], f1, rtol=1e-12)
