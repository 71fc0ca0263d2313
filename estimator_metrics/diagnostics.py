"""The one hook `make bench` uses: for measuring the builders, never for evaluating.

* `checks_off()`: builders built inside it skip their run-time value checks (what the checks
  cost per update: the (g) variant and the floor's *checks off* column).
* `KEYED_FROM`: the class count from which F-beta reads non-negative scores as integer keys,
  one read for the argmax and its check; the ops an update runs change there, once, and
  stay the same as the class count grows (the benchmarks' op-count target).
* `GROUPED_FROM` and `group_width(C)`: from GROUPED_FROM classes on, where C has a divisor
  near its square root (`group_width(C)`, else None), those keys' row maxima are found by
  groups of that width: one `reduce_max` over the groups reads the batch, `top_k` searches
  the group maxima and the one group that holds the maximum.
* `KEY_ARGMAX_FROM`: the class count from which the other widths' row maxima are found by
  ArgMax, which spreads a row's work over the intra-op threads, instead of `top_k`, which
  reads each row on one thread.

So an update runs one of four sets of ops, each the same whatever the class count: the float
argmax, the keys by `top_k`, by groups, or by ArgMax.
"""

from estimator_metrics._core.diagnostics import (
    GROUPED_FROM,
    KEY_ARGMAX_FROM,
    KEYED_FROM,
    checks_off,
    group_width,
)

__all__ = ["GROUPED_FROM", "KEYED_FROM", "KEY_ARGMAX_FROM", "checks_off", "group_width"]
