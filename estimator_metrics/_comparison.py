"""One metric computed two ways: the record (`Comparison`), its verdict, and their table.

Every side-by-side check of the project is made of these: `parity.ParityReport` (one per
element of the two values), the demo's legacy-vs-Keras and builders-vs-NumPy tables,
`make destination` (Estimator vs Keras) and the distributed example (the evaluator task vs
one process). Plain Python, no TensorFlow and no NumPy: anything may use it.

>>> rows = [Comparison("accuracy", 0.938, 0.938, 1e-7), Comparison("mape", 2.5, 2.5001, 1e-5)]
>>> print(table(rows, ("legacy", "Keras")))
metric        legacy       Keras  |difference|  verdict
accuracy  0.93800000  0.93800000      0.00e+00  agree (tolerance 1e-07)
mape      2.50000000  2.50010000      1.00e-04  DIFFER (tolerance 1e-05)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from estimator_metrics import _tables


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One metric computed two ways, and the largest |difference| accepted.

    Attributes:
      metric: The metric's name.
      left: Its value one way (the table's first value column).
      right: Its value the other way.
      tolerance: The largest |left - right| accepted, absolute. A relative tolerance is
        given as one: e.g. `rtol * abs(right)` where `right` is the reference.
      example: What was measured, where one table shows several (the demo's examples);
        "" otherwise.
    """

    metric: str
    left: float
    right: float
    tolerance: float
    example: str = ""

    @property
    def difference(self) -> float:
        """|left - right| (NaN where either is NaN)."""
        return abs(self.left - self.right)

    @property
    def agrees(self) -> bool:
        """Equal values (equal infinities too), or a difference within the tolerance.

        NaN never agrees, not even with NaN: a NaN metric is a failure to report.
        """
        return self.left == self.right or self.difference <= self.tolerance

    @property
    def verdict(self) -> str:
        """What a table shows: "agree" or "DIFFER", and the tolerance."""
        return f"{'agree' if self.agrees else 'DIFFER'} (tolerance {self.tolerance:.0e})"


def table(comparisons: Sequence[Comparison], sides: tuple[str, str]) -> str:
    """The text table of `comparisons`, one row each; `sides` names the two value columns.

    Columns: example (only where some comparison names one), metric, both values (8
    decimals), |difference|, verdict.
    """
    by_example = any(c.example for c in comparisons)
    headers = [*(["example"] if by_example else []), "metric", *sides, "|difference|", "verdict"]
    rows = [
        [
            *([c.example] if by_example else []),
            c.metric,
            f"{c.left:.8f}",
            f"{c.right:.8f}",
            f"{c.difference:.2e}",
            c.verdict,
        ]
        for c in comparisons
    ]
    return _tables.render(headers, rows, "l" * (len(headers) - 4) + "rrrl")
