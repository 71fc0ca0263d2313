"""Benchmarks of the metric layer: per-step cost, graph size, memory, the floor (`make bench`).

Not part of `make test` (only `tests/benchmarks/test_benchmarks.py` runs the `--quick` smoke
mode). benchmarks/README.md says how to run each part and how long it takes;
benchmarks/results.md holds the latest full run.
"""
