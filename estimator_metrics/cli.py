"""The `estimator-metrics` command line."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Optional, Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="estimator-metrics",
        description="Exact, validated evaluation metrics for tf.estimator model_fns.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="run the legacy examples with legacy and with Keras metrics; compare",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Trains each classic Estimator example (legacy_examples: a 10-class\n"
            "classifier, a regressor, a binary classifier) on generated data, evaluates the\n"
            "same checkpoint twice - with legacy metrics (our builders and\n"
            "tf.compat.v1.metrics) and with Keras metric objects through\n"
            "adapter.from_keras - and prints one table: example, metric, legacy value,\n"
            "Keras value, |difference|, verdict. It also evaluates every builder in a\n"
            "two-headed Estimator beside an independent NumPy recomputation. Exits 1 when\n"
            "any pair differs beyond its stated tolerance. Evaluation summaries go to the\n"
            "model directory (printed) for TensorBoard."
        ),
    )
    demo.add_argument("--steps", type=int, default=None,
                      help="training steps of every model (default: each example's own, "
                      "300-400)")
    demo.add_argument(
        "--model-dir",
        help="where checkpoints and evaluation summaries go, one subdirectory per example "
        "(default: a new temporary directory, printed)",
    )
    demo.add_argument("--examples", default=",".join(_demo_examples()),
                      help="comma-separated examples to compare (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    demo.add_argument(
        "--distributed", action="store_true",
        help="instead: train the binary example with tf.estimator.train_and_evaluate as a "
        "real local cluster (chief, worker, ps and evaluator processes on loopback ports, "
        "configured by TF_CONFIG), take the metrics the evaluator task computed on the final "
        "checkpoint, evaluate that checkpoint again in this process, and show both equal "
        "(default steps: 200)",
    )
    return parser


def _demo_examples() -> tuple[str, ...]:
    from legacy_examples import DEMO_EXAMPLES  # pylint: disable=import-outside-toplevel

    return DEMO_EXAMPLES


def quiet_tensorflow() -> None:
    """Keeps TensorFlow's C++ and Python log noise out of the output."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", message=r".* is deprecated and will be removed")
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    tf.get_logger().setLevel("ERROR")
    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        if args.steps is not None and args.steps < 1:
            _parser().error(f"--steps must be >= 1, received {args.steps}")
        examples = [name for name in args.examples.split(",") if name]
        unknown = sorted(set(examples) - set(_demo_examples()))
        if unknown or not examples:
            _parser().error(f"--examples must name some of {', '.join(_demo_examples())}; "
                            f"received {args.examples!r}")
        quiet_tensorflow()
        from estimator_metrics import _demo  # pylint: disable=import-outside-toplevel

        if args.distributed:
            return _demo.run_distributed(steps=args.steps, model_dir=args.model_dir,
                                         seed=args.seed)
        return _demo.run(steps=args.steps, model_dir=args.model_dir, examples=examples,
                         seed=args.seed)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
