"""Static argument validation: every option a builder or twin takes, checked before any op.

Each function takes one option as the user passed it and returns it in the form the metric
code uses, or raises ValueError (a value outside what the option allows) or TypeError (not
even the right kind of value), naming the option and what was received. No TensorFlow here:
these run in the builders while the graph is built and in the twins' constructors, which
share them so that both refuse the same options with the same messages.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

#: The averages of the confusion metrics (`average=`), as scikit-learn names them.
AVERAGES = ("binary", "micro", "macro", "weighted", "samples", None)
#: `multioutput=` of MAPE besides an array of column weights, as scikit-learn names them.
MULTIOUTPUTS = ("uniform_average", "raw_values")
#: The norms of the calibration error (`norm=`), as torchmetrics names them: the expected
#: (l1), root-mean-square (l2) and maximum (max) calibration error.
NORMS = ("l1", "l2", "max")


def check_name(name: str | None, default: str) -> str:
    """The name scope of a builder: `name` or the builder's default."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"Expected `name` to be a str or None, received {type(name).__name__}")
    return name or default


def positive_float(value: Any, arg: str) -> float:
    """A finite float > 0, or ValueError naming `arg` (TypeError if not a number)."""
    _require_real(value, arg)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"Expected `{arg}` > 0, received {arg}={value!r}")
    return float(value)


def open_unit_float(value: Any, arg: str) -> float:
    """A float strictly between 0 and 1, or ValueError naming `arg`."""
    _require_real(value, arg)
    if not 0 < value < 1:
        raise ValueError(f"Expected `{arg}` in the open interval (0, 1), received {arg}={value!r}")
    return float(value)


def positive_int(value: Any, arg: str) -> int:
    """An int >= 1 (not a bool), or ValueError naming `arg`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"Expected `{arg}` to be an integer >= 1, received {arg}={value!r}")
    return int(value)


def one_of(value: Any, arg: str, allowed: tuple[str, ...]) -> str:
    """`value` if it is one of the strings `allowed`, else ValueError naming `arg`."""
    if not (isinstance(value, str) and value in allowed):
        names = ", ".join(repr(name) for name in allowed[:-1]) + f" or {allowed[-1]!r}"
        raise ValueError(f"Expected `{arg}` to be one of {names}, received {arg}={value!r}")
    return value


def check_mode(num_classes: Any, average: Any, multilabel: Any) -> None:
    """ValueError/TypeError for argument combinations that cannot define one confusion."""
    if not isinstance(multilabel, bool):
        raise TypeError(f"Expected `multilabel` to be a bool, received {multilabel!r}")
    if average not in AVERAGES:
        raise ValueError(
            "Expected `average` to be one of 'binary', 'micro', 'macro', 'weighted', "
            f"'samples' or None, received average={average!r}"
        )
    if num_classes is not None and (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, numbers.Integral)
        or num_classes < 2
    ):
        raise ValueError(
            f"Expected `num_classes` to be an integer >= 2 or None, received "
            f"num_classes={num_classes!r}"
        )
    if multilabel and average == "binary":
        raise ValueError(
            "Expected `average` in 'micro', 'macro', 'weighted', 'samples' or None with "
            "multilabel=True, received average='binary'"
        )
    if not multilabel and average == "samples":
        raise ValueError(
            "Expected multilabel=True with average='samples' (each example's predicted set "
            "of classes against its true set), received multilabel=False"
        )
    if not multilabel and average == "binary" and num_classes not in (None, 2):
        raise ValueError(
            "Expected num_classes=None or 2 with average='binary' (positive class 1), "
            f"received num_classes={num_classes}; choose average='micro', 'macro', "
            "'weighted' or None for multiclass"
        )
    if not multilabel and average != "binary" and num_classes is None:
        raise ValueError(
            f"Expected `num_classes` (the number of classes) with average={average!r}, "
            "received num_classes=None"
        )


def class_ids(classes: Any, average: str | None) -> tuple[int, ...] | None:
    """`classes` as a tuple of ints, not yet checked against C; ValueError/TypeError."""
    if classes is None:
        return None
    if average == "binary":
        raise ValueError(
            "Expected average='micro', 'macro', 'weighted' or None with `classes` (binary "
            f"F-beta is of class 1 alone), received average='binary' and classes={classes!r}"
        )
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Sequence):
        raise TypeError(f"Expected `classes` to be a sequence of class ids, received {classes!r}")
    ids = tuple(classes)
    if not ids or any(isinstance(c, bool) or not isinstance(c, numbers.Integral) for c in ids):
        raise ValueError(
            f"Expected `classes` to be a non-empty sequence of int class ids, "
            f"received classes={classes!r}"
        )
    return tuple(int(c) for c in ids)


def check_class_range(
    ids: tuple[int, ...] | None, num_classes: int | None, given: Any
) -> tuple[int, ...] | None:
    """`ids` (`class_ids` of `given`) if distinct and in [0, num_classes), else ValueError."""
    if ids is not None and (
        len(set(ids)) != len(ids) or not all(0 <= c < num_classes for c in ids)
    ):
        raise ValueError(
            f"Expected `classes` to be distinct ids in [0, num_classes="
            f"{num_classes}), received classes={given!r}"
        )
    return ids


def zero_division(value: Any) -> float:
    """0.0, 1.0 or NaN: what a score is where it is undefined; else ValueError naming it."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not (value in (0, 1) or math.isnan(value))
    ):
        raise ValueError(
            f"Expected `zero_division` to be 0, 1 or float('nan'), received zero_division={value!r}"
        )
    return float(value)


def key_prefix(value: Any) -> str:
    """A str to put before metric keys; else TypeError naming `key_prefix`."""
    if not isinstance(value, str):
        raise TypeError(
            f"Expected `key_prefix` to be a str, received {type(value).__name__}: {value!r}"
        )
    return value


def multioutput(value: Any) -> str | tuple[float, ...]:
    """ "uniform_average", "raw_values", or column weights as a tuple of floats (finite,
    >= 0, summing to more than 0); else ValueError/TypeError naming `multioutput`."""
    if isinstance(value, str):
        if value not in MULTIOUTPUTS:
            raise ValueError(
                "Expected `multioutput` to be 'uniform_average', 'raw_values' or a sequence "
                f"of column weights, received multioutput={value!r}"
            )
        return value
    try:
        weights = tuple(float(w) for w in value)
    except (TypeError, ValueError) as error:  # Not iterable, or items that are no numbers.
        raise TypeError(
            "Expected `multioutput` to be 'uniform_average', 'raw_values' or a sequence of "
            f"column weights, received {type(value).__name__}: {value!r}"
        ) from error
    if not weights or not all(math.isfinite(w) and w >= 0 for w in weights) or not sum(weights):
        raise ValueError(
            "Expected `multioutput` weights to be finite, >= 0 and not all 0, one per output "
            f"column, received multioutput={value!r}"
        )
    return weights


def _require_real(value: Any, arg: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"Expected `{arg}` to be a real number, received {type(value).__name__}: {value!r}"
        )
