"""What every example shares: its description, input_fns, train/evaluate, CLI."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from estimator_metrics._core.environment import EstimatorUnavailableError, require_estimator

METRIC_MODES = ("legacy", "keras")
BATCH_SIZE = 64


@dataclasses.dataclass(frozen=True)
class Data:
    """Generated train and eval splits: dicts of NumPy arrays."""

    train_features: Mapping[str, np.ndarray]
    train_labels: np.ndarray
    eval_features: Mapping[str, np.ndarray]
    eval_labels: np.ndarray


@dataclasses.dataclass(frozen=True)
class Example:
    """One classic Estimator example.

    Attributes:
      name: Module name under legacy_examples.
      description: One line for --help and the demo.
      make_data: seed -> Data, deterministic.
      model_fn: `model_fn(features, labels, mode, params)`; `params["metrics"]`
        is "legacy" or "keras" and picks the eval metrics.
      tolerances: metric name -> largest |legacy - keras| accepted (absolute),
        with the reason in the example's module.
      default_steps: Training steps of a full run.
      keras_classes: `tf.keras.metrics` classes the Keras twin needs beyond
        those of every supported Keras line (e.g. FBetaScore, new in 2.13).
      draws: Whether its legacy metrics include `builders.reliability_diagram` where
        matplotlib is installed (`can_draw`).
    """

    name: str
    description: str
    make_data: Callable[[int], Data]
    model_fn: Callable
    tolerances: Mapping[str, float]
    default_steps: int = 400
    keras_classes: tuple = ()
    draws: bool = False

    def missing_keras_classes(self) -> list:
        """The `keras_classes` this Keras lacks: its Keras twin cannot run here."""
        import tensorflow as tf

        return [name for name in self.keras_classes if not hasattr(tf.keras.metrics, name)]


def input_fn(features, labels, *, train: bool, seed: int, batch_size: int = BATCH_SIZE):
    """A tf.data input_fn over NumPy arrays; shuffled and repeated for training."""
    import tensorflow as tf

    def fn():
        data = tf.data.Dataset.from_tensor_slices((dict(features), labels))
        if train:
            data = data.shuffle(len(labels), seed=seed).repeat()
        return data.batch(batch_size)

    return fn


def estimator(example: Example, metrics: str, model_dir: str, seed: int, config=None):
    """The example's Estimator with `metrics` ("legacy" or "keras") eval metrics."""
    import tensorflow as tf

    require_estimator(f"legacy_examples.{example.name}")
    if metrics not in METRIC_MODES:
        raise ValueError(f"Expected `metrics` in {METRIC_MODES}, received metrics={metrics!r}")
    config = config or tf.estimator.RunConfig(tf_random_seed=seed, log_step_count_steps=None)
    return tf.estimator.Estimator(
        example.model_fn, model_dir=model_dir, config=config, params={"metrics": metrics}
    )


def train(
    example: Example, data: Data, model_dir: str, steps: int, seed: int, hooks: Sequence = ()
) -> None:
    """Trains `steps` steps (metrics play no part in training).

    `RunConfig(tf_random_seed=...)` does not seed tf.compat.v1.layers'
    initializers on TF 2.15, so the global seeds are set here too: the same
    seed gives the same model.
    """
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    estimator(example, "legacy", model_dir, seed).train(
        input_fn(data.train_features, data.train_labels, train=True, seed=seed),
        steps=steps,
        hooks=list(hooks),
    )


def progress_hook(label: str, steps: int, log: Callable[[str], None] = print):
    """A SessionRunHook that logs training progress at every quarter of `steps`."""
    import tensorflow as tf

    require_estimator("legacy_examples progress_hook")

    class ProgressHook(tf.estimator.SessionRunHook):
        # Counts its own runs: a global step fetched beside the train op is read before or
        # after the op's increment, as the executor orders them, so progress read from it
        # could print 76/300 in one run and 75/300 in the next.
        def begin(self):
            self._done = 0
            self._next = 1

        def after_run(self, run_context, run_values):
            self._done += 1
            done = self._done
            while self._next <= 4 and done >= self._next * steps / 4:
                log(f"  {label}: {min(done, steps)}/{steps} training steps")
                self._next += 1

    return ProgressHook()


def evaluate(example: Example, data: Data, model_dir: str, metrics: str, seed: int) -> dict:
    """Evaluates the latest checkpoint in `model_dir` with `metrics`' metric ops.

    Each mode writes its summaries to its own `eval_<metrics>` directory.
    """
    return estimator(example, metrics, model_dir, seed).evaluate(
        input_fn(data.eval_features, data.eval_labels, train=False, seed=seed),
        name=metrics,
    )


def run(example: Example, metrics: str, steps: int, model_dir: str | None, seed: int = 0) -> dict:
    """Trains (if `model_dir` has no checkpoint of `steps`) and evaluates."""
    import tensorflow as tf

    require_estimator(f"legacy_examples.{example.name}")  # Before a directory is made.

    model_dir = model_dir or tempfile.mkdtemp(prefix=f"legacy-{example.name}-")
    data = example.make_data(seed)
    checkpoint = tf.train.latest_checkpoint(model_dir)
    trained = int(checkpoint.rsplit("-", 1)[1]) if checkpoint else 0
    if trained < steps:
        train(example, data, model_dir, steps - trained, seed)
    return evaluate(example, data, model_dir, metrics, seed)


def can_draw() -> bool:
    """Whether matplotlib, which draws the reliability diagram (the `diagram` extra), is
    installed: without it the examples evaluate every number and skip the picture."""
    return importlib.util.find_spec("matplotlib") is not None


#: What the examples say where they skip the picture.
DIAGRAM_NOTE = (
    "no reliability diagram: matplotlib is not installed (pip install 'estimator-metrics[diagram]')"
)


def write_images(results: Mapping, directory: str) -> dict:
    """Writes the PNG of every image Summary among `results` (the bytes value of
    `builders.reliability_diagram`) to `directory`/<key>.png; returns {key: path}."""
    import tensorflow as tf

    written = {}
    for key, value in sorted(results.items()):
        if not isinstance(value, bytes):
            continue
        for summary_value in tf.compat.v1.Summary.FromString(value).value:
            if summary_value.HasField("image"):
                path = os.path.join(directory, f"{key}.png")
                with open(path, "wb") as out:
                    out.write(summary_value.image.encoded_image_string)
                written[key] = path
                break
    return written


def options_parser(prog: str, description: str, default_steps: int | None = None):
    """The options of every example's command: --metrics, --steps, --model-dir, --seed.

    Without `default_steps`, --steps defaults to None: the example's own, once known.
    """
    steps = default_steps or "the example's own"
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "--metrics",
        choices=METRIC_MODES,
        default="legacy",
        help="legacy: builders and tf.compat.v1.metrics; keras: Keras metric "
        "objects through adapter.from_keras (default: legacy)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=default_steps,
        help=f"training steps (default: {steps})",
    )
    parser.add_argument("--model-dir", help="checkpoint directory (default: a new temporary one)")
    parser.add_argument("--seed", type=int, default=0, help="data and training seed")
    return parser


def main(example: Example, argv: Sequence[str] | None = None) -> int:
    """`estimator-metrics example <name>`: train, evaluate, print the metrics."""
    parser = options_parser(
        f"estimator-metrics example {example.name}", example.description, example.default_steps
    )
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be >= 1, received {args.steps}")
    quiet()
    try:
        require_estimator(parser.prog)
    except EstimatorUnavailableError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    model_dir = args.model_dir or tempfile.mkdtemp(prefix=f"legacy-{example.name}-")
    results = run(example, args.metrics, args.steps, model_dir, args.seed)
    images = write_images(results, model_dir)
    for name in sorted(results):
        if name in images:  # An image Summary: written out, and in TensorBoard.
            print(f"{name}: {images[name]} (TensorBoard: Images tab of {model_dir})")
        elif not isinstance(results[name], bytes):
            print(f"{name}: {results[name]}")
    if example.draws and args.metrics == "legacy" and not can_draw():
        print(DIAGRAM_NOTE)
    return 0


def quiet() -> None:
    """Keeps TensorFlow's log noise out of the output."""
    from estimator_metrics._quiet import quiet_tensorflow

    quiet_tensorflow()


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
