"""The `estimator-metrics` command line."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from estimator_metrics import _docs
from estimator_metrics._core.environment import EstimatorUnavailableError
from estimator_metrics._quiet import quiet_tensorflow


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="estimator-metrics",
        description="Exact, validated evaluation metrics for tf.estimator model_fns.",
        epilog=f"Documentation: {_docs.url('index.md')}",
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
    demo.add_argument(
        "--steps",
        type=int,
        default=None,
        help="training steps of every model (default: each example's own, 300-400)",
    )
    demo.add_argument(
        "--model-dir",
        help="where checkpoints and evaluation summaries go, one subdirectory per example "
        "(default: a new temporary directory, printed)",
    )
    demo.add_argument(
        "--examples",
        default=",".join(_examples().DEMO_EXAMPLES),
        help="comma-separated examples to compare (default: %(default)s)",
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    _add_example(commands)
    _add_migrate(commands)
    return parser


def _add_migrate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    migrate = commands.add_parser(
        "migrate",
        help="find every Estimator metric in Python files, say what each becomes, rewrite "
        "the exactly equivalent ones",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Reads Python files (never imports or runs them) and reports every metric use:\n"
            "tf.metrics.*, tf.compat.v1.metrics.*, tf.contrib.metrics.*, tf_slim.metrics.*\n"
            "(through any import alias), metric functions named without a call and the calls\n"
            "made through them, Keras metric objects placed in eval_metric_ops, hand-built\n"
            "F1/F-beta, MAPE and average confidence. For each: file:line, status (wrong under\n"
            "stock Estimator, no TF2 equivalent, float32 counters, unsure, migratable, ok),\n"
            "the replacement (a Keras metric through adapter.from_keras, or a builder), what\n"
            "differs, and the docs section that says why:\n"
            f"{_docs.url('migrate.md')}\n"
            "\n"
            "Exit status: 0 nothing needs attention; 1 a file could not be parsed, or a use is\n"
            "not ok and was not rewritten by this run; 2 usage error."
        ),
    )
    migrate.add_argument(
        "paths", nargs="+", metavar="PATH", help="Python files, or directories searched for *.py"
    )
    migrate.add_argument(
        "--report",
        choices=("md", "json"),
        default="md",
        help="a Markdown table (default) or a JSON document",
    )
    migrate.add_argument(
        "--write",
        action="store_true",
        help="rewrite the exactly equivalent uses in place (formatting and "
        "comments elsewhere kept; adds the imports needed; idempotent)",
    )
    migrate.add_argument(
        "--diff",
        action="store_true",
        help="show the rewrite as a unified diff (without --write: nothing is written)",
    )
    migrate.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="files analysed in parallel, one process each (default: the cores this "
        "process may use); a progress bar goes to stderr when it is a terminal",
    )
    migrate.add_argument(
        "--fix-wrong",
        action="store_true",
        help="with --write/--diff, also rewrite the uses that are wrong under "
        "stock Estimator to adapter.from_keras: a corrected number, not the "
        "same one",
    )


def _add_example(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    example = commands.add_parser(
        "example",
        help="train and evaluate one legacy example with legacy or Keras metrics",
        description="Runs one classic Estimator example of legacy_examples/ on generated data "
        "and prints its metrics; `estimator-metrics example NAME --help` lists its options "
        "(--metrics legacy|keras, --steps, --model-dir, --seed). `distributed` trains an "
        "example on a real local tf.estimator cluster (chief, worker, ps and evaluator "
        "processes configured by TF_CONFIG) and shows its evaluator's metrics equal to one "
        "process's; `destination` evaluates the classifier's "
        "checkpoint in a Keras model with the twins (its estimator half on TensorFlow "
        "2.12-2.15, its keras half on 2.16+).",
    )
    example.add_argument(
        "name", choices=(*_examples().EXAMPLES, "distributed", "destination"), help="the example"
    )
    example.add_argument("options", nargs=argparse.REMAINDER, help="the example's own options")


def _examples() -> ModuleType:
    """The examples package (constants only: it imports no TensorFlow). It ships as
    estimator_metrics.legacy_examples from the repository's legacy_examples/ (setup.cfg's
    package_dir), which type checkers reading the source tree cannot follow: imported by name."""
    return importlib.import_module("estimator_metrics.legacy_examples")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            return _demo(args)
        if args.command == "example":
            quiet_tensorflow()  # Before the example imports TensorFlow.
            module = importlib.import_module(f"{_examples().__name__}.{args.name}")
            code: int = module.main(args.options)
            return code
    except EstimatorUnavailableError as error:  # TensorFlow 2.16+: no tf.estimator.
        print(f"estimator-metrics {args.command}: error: {error}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        missing = [path for path in args.paths if not os.path.exists(path)]
        if missing:
            _parser().error(f"no such file or directory: {', '.join(missing)}")
        if args.jobs is not None and args.jobs < 1:
            _parser().error(f"--jobs must be >= 1, received {args.jobs}")
        from estimator_metrics import migrate

        return migrate.run(
            args.paths,
            report_format=args.report,
            write=args.write,
            diff=args.diff,
            fix_wrong=args.fix_wrong,
            jobs=args.jobs,
        )
    return 2  # pragma: no cover - argparse rejects unknown commands


def _demo(args: argparse.Namespace) -> int:
    demo_examples = _examples().DEMO_EXAMPLES
    if args.steps is not None and args.steps < 1:
        _parser().error(f"--steps must be >= 1, received {args.steps}")
    examples = [name for name in args.examples.split(",") if name]
    unknown = sorted(set(examples) - set(demo_examples))
    if unknown or not examples:
        _parser().error(
            f"--examples must name some of {', '.join(demo_examples)}; received {args.examples!r}"
        )
    quiet_tensorflow()
    from estimator_metrics import demo

    return demo.run(steps=args.steps, model_dir=args.model_dir, examples=examples, seed=args.seed)


if __name__ == "__main__":
    sys.exit(main())
