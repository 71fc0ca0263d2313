"""The builders and their Keras twins in `Estimator.evaluate` (TF 2.12-2.15 only).

One `Estimator.evaluate` runs every case of `support.twins` twice over the same batches:
the builder, and the twin through `adapter.from_keras`. Each must equal the builder in a
plain graph session (which `test_twins.py` compares with the eager twin, the twin in
`model.evaluate` and an oracle) to a relative 1e-12.
"""

import numpy as np
import pytest

from estimator_metrics import adapter
from support.estimator import evaluate_with_metrics
from support.twins import BATCH_SIZE, CASES, RTOL, builder_in_graph


def _metric_fn(labels, features):
    ops = {}
    for case in CASES:
        y, p, w = labels[case.name], features[f"{case.name}/p"], features[f"{case.name}/w"]
        ops[f"builder/{case.name}"] = case.builder(y, p, w)
        # A new twin per model_fn call, as from_keras needs.
        ops[f"twin/{case.name}"] = adapter.from_keras(case.twin(), y, p, w)
    return ops


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """`Estimator.evaluate` of every case, and each case's arrays."""
    arrays = {case.name: case.arrays() for case in CASES}
    features, labels = {}, {}
    for name, (y, p, w) in arrays.items():
        labels[name], features[f"{name}/p"], features[f"{name}/w"] = y, p, w
    results = evaluate_with_metrics(
        _metric_fn,
        features,
        labels,
        batch_size=BATCH_SIZE,
        model_dir=str(tmp_path_factory.mktemp("twins")),
    )
    return results, arrays


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_builder_and_twin_in_estimator_evaluate_equal_the_builder(evaluated, case):
    results, arrays = evaluated
    reference = builder_in_graph(case, arrays[case.name])
    assert np.any(reference > 0)
    for place in ("builder", "twin"):
        np.testing.assert_allclose(
            results[f"{place}/{case.name}"], reference, rtol=RTOL, atol=0, err_msg=place
        )
