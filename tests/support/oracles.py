"""scikit-learn as the oracle of the confusion family, where it refuses to answer too.

scikit-learn refuses sample weights that are all zero; for us such a stream has seen nothing,
so every score is undefined and takes `zero_division`, as on zero counts. Everything else is
`precision_recall_fscore_support` itself, its warnings silenced.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn import metrics

#: The keys of the triple, in its order; `prfs` returns them.
KEYS = ("precision", "recall", "fbeta")


def prfs(y_true, y_pred, *, beta=1.0, average=None, labels=None, sample_weight=None, **kw):
    """{"precision": ..., "recall": ..., "fbeta": ...} of scikit-learn, float64."""
    zero_division = kw.pop("zero_division", 0)
    if kw:
        raise TypeError(f"Unexpected arguments {sorted(kw)}")
    if sample_weight is not None and not np.any(sample_weight):
        shape = () if average is not None else (len(labels),)
        return {key: np.full(shape, float(zero_division)) for key in KEYS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = metrics.precision_recall_fscore_support(
            y_true,
            y_pred,
            beta=beta,
            average=average,
            labels=labels,
            sample_weight=sample_weight,
            zero_division=zero_division,
        )[:3]
    return {key: np.asarray(value, np.float64) for key, value in zip(KEYS, values)}


def check(value, expected, rtol=1e-9):
    """Equal to `rtol` (NaN where NaN is expected)."""
    np.testing.assert_allclose(value, expected, rtol=rtol, atol=1e-12, equal_nan=True)
