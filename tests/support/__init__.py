"""Helpers shared by the tests (importable: `tests/` is on pytest's `pythonpath`).

`support.data`: seeded inputs and small utilities; `support.estimator`: metric ops through a
real `Estimator.evaluate`; `support.keras`: what this Keras line has.
"""
