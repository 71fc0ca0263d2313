"""The one hook `make bench` uses: for measuring the builders, never for evaluating.

* `checks_off()`: builders built inside it skip their run-time value checks (what the checks
  cost per update: the (g) variant and the floor's *checks off* column).
* `KEYED_FROM`: the class count from which F-beta reads non-negative scores as integer keys,
  one read for the argmax and its check; the ops an update runs change there, once, and
  stay the same as the class count grows (the benchmarks' op-count target).
* `KEY_ARGMAX_FROM`: the class count from which those keys' row maxima are found by ArgMax,
  which spreads a row's work over the intra-op threads, instead of `top_k`, which reads
  each row on one thread: the second and last change of the ops an update runs.
"""

from estimator_metrics._core.diagnostics import KEY_ARGMAX_FROM, KEYED_FROM, checks_off

__all__ = ["KEYED_FROM", "KEY_ARGMAX_FROM", "checks_off"]
