"""The metric implementation behind the public modules: float64 state, static argument checks
(`arguments`), shape arithmetic (`shapes`), run-time checks (`checks`), input tensors
(`inputs`) and their decoding (`decode`), one module per metric, the Keras adapter and twins
(`keras_metrics`), parity and a session runner.

Imports nothing of ours above it (an import-linter contract in pyproject.toml)."""
