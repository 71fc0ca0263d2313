"""The metric implementation behind the public modules: state, shape and value checks, input
decoding, one module per metric, the Keras adapter and twins, parity and a session runner.

Imports nothing of ours above it (an import-linter contract in pyproject.toml)."""
