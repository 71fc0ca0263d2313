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
        help="train and evaluate a small Estimator; check every metric against NumPy",
        description=(
            "Trains a small two-headed Estimator (3-class classifier + regressor) on "
            "generated data, evaluates it with builders.fbeta (macro F1), builders.mape "
            "and builders.average_confidence on weighted examples, recomputes each "
            "metric with NumPy from Estimator.predict on the same data, and prints "
            "both side by side. Exits 1 when a pair differs by more than its "
            "tolerance."
        ),
    )
    demo.add_argument("--steps", type=int, default=300, help="training steps (default: 300)")
    demo.add_argument(
        "--model-dir",
        help="where checkpoints and evaluation summaries go (default: a new temporary "
        "directory, printed at the end, for TensorBoard)",
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    return parser


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
        if args.steps < 1:
            _parser().error(f"--steps must be >= 1, received {args.steps}")
        quiet_tensorflow()
        from estimator_metrics import _demo  # pylint: disable=import-outside-toplevel

        return _demo.run(steps=args.steps, model_dir=args.model_dir, seed=args.seed)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
