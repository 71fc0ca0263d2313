"""Benchmarks of the metric layer: per-step cost, graph size, memory (`make bench`).

Not part of `make test` (only `tests/benchmarks/test_benchmarks.py` runs the `--quick` smoke mode).
See `benchmarks/run.py` for what is measured and how, and `benchmarks/results.md` for the
latest full run.
"""
