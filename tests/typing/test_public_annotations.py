"""Every function and method the public modules export is annotated, parameters and return.

Users' type checkers read these annotations through py.typed. `make check` runs mypy strictly
over the public modules, but they re-export what the private modules define, and mypy reports
nothing about those (pyproject.toml: follow_imports = "silent"); this is the check that what
they export carries its types. Marked keras3: the twins are Keras 3 classes there.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

pytestmark = pytest.mark.keras3

PUBLIC = ("builders", "adapter", "keras_metrics", "parity", "keys", "diagnostics", "cli")


def _exported(module_name):
    module = importlib.import_module(f"estimator_metrics.{module_name}")
    names = getattr(module, "__all__", None) or ["main"]  # the CLI's entry point
    for name in names:
        yield f"{module_name}.{name}", getattr(module, name)


def _callables():
    """(qualified name, function) for each exported function, and each public method (and
    __init__) that our classes define, inherited from other of our classes included."""
    for qualified, obj in (x for m in PUBLIC for x in _exported(m)):
        if inspect.isfunction(obj):
            yield qualified, obj
        elif inspect.isclass(obj):
            ours = [c for c in obj.__mro__ if c.__module__.startswith("estimator_metrics")]
            for name in {n for c in ours for n in vars(c)}:
                member = inspect.getattr_static(obj, name)
                function = getattr(member, "__func__", member)  # classmethod, staticmethod
                if inspect.isfunction(function) and (name == "__init__" or name[0] != "_"):
                    yield f"{qualified}.{name}", function


CALLABLES = dict(_callables())


def test_the_public_modules_export_functions_and_classes_to_check():
    assert {"builders.fbeta", "adapter.from_keras", "parity.compare", "cli.main"} <= set(CALLABLES)
    assert {"keras_metrics.FBeta.update_state", "keras_metrics.FBeta.get_config"} <= set(CALLABLES)


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_every_parameter_and_the_return_are_annotated(name):
    function = inspect.unwrap(CALLABLES[name])
    annotations = function.__annotations__
    parameters = list(inspect.signature(function).parameters.values())
    if parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    missing = [p.name for p in parameters if p.name not in annotations]
    assert not missing, f"{name}: parameters without annotations: {missing}"
    assert "return" in annotations, f"{name}: no return annotation"
