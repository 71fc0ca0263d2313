"""The metric implementation behind the public modules: float64 state, static argument checks
(`arguments`), shape arithmetic (`shapes`), run-time checks (`checks`), input tensors
(`inputs`) and their decoding (`decode`), the confusion state precision, recall and F-beta
share (`confusion`) and their scores from it (`scores`), one module per builder, the Keras
adapter and twins (`keras_twin`, `keras_metrics`), parity and a session runner.

Imports nothing of ours above it (an import-linter contract in pyproject.toml)."""
