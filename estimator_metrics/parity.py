"""Side-by-side check of a graph metric pair and a Keras metric on the same batches.

Use it while migrating: run the `(value, update_op)` pair your `model_fn` uses today and
its Keras replacement over the same data, and see the largest difference before switching.
`ParityReport.comparisons` gives one `Comparison` (both values, their difference, the
tolerance, the verdict) per element.
"""

from estimator_metrics._core.parity import Comparison, ParityReport, compare

__all__ = ["Comparison", "ParityReport", "compare"]
