"""migrate: what a dotted name in a module refers to, through its imports.

`Imports.qualify(node)` turns `tf.metrics.accuracy`, `metrics.accuracy`,
`v1_metrics.accuracy` or `F1Score` into the full path its module's imports
give it (`tensorflow.compat.v1.metrics.accuracy`,
`tensorflow.keras.metrics.F1Score`, ...); the `is_*`/`*_name` helpers below
classify such paths. Nothing is imported: this is all `ast`.
"""

from __future__ import annotations

import ast
import re
from typing import Iterable, Optional

#: Every function of `tf.compat.v1.metrics` (TF 2.15), the `tf.metrics` of TF 1.x.
V1_METRICS = frozenset("""
accuracy auc average_precision_at_k false_negatives false_negatives_at_thresholds
false_positives false_positives_at_thresholds mean mean_absolute_error mean_cosine_distance
mean_iou mean_per_class_accuracy mean_relative_error mean_squared_error mean_tensor
percentage_below precision precision_at_k precision_at_thresholds precision_at_top_k recall
recall_at_k recall_at_thresholds recall_at_top_k root_mean_squared_error
sensitivity_at_specificity sparse_average_precision_at_k sparse_precision_at_k
specificity_at_sensitivity true_negatives true_negatives_at_thresholds true_positives
true_positives_at_thresholds
""".split())

#: Modules whose lowercase functions are the v1 streaming metrics.
_V1_MODULES = {"tensorflow.metrics", "tensorflow.python.ops.metrics",
               "tensorflow.python.ops.metrics_impl"}
#: Modules whose capitalized names are Keras metric classes (`tf.metrics` is
#: Keras' in TF 2; its lowercase names are taken as TF 1's v1 metrics).
_KERAS_MODULES = {"tensorflow.keras.metrics", "tensorflow.metrics", "keras.metrics",
                  "tf_keras.metrics", "tensorflow.python.keras.metrics"}
#: Keras metrics whose update_state takes the values alone (no y_true).
SINGLE_INPUT_KERAS = frozenset({"Mean", "Sum", "MeanTensor"})
TF_ROOTS = ("tensorflow", "tensorflow.compat.v1", "tensorflow.compat.v2")


def normalize(path: str) -> str:
    """`tensorflow.compat.v1.x` (any number of compat.vN) -> `tensorflow.x`."""
    return re.sub(r"^tensorflow(\.compat\.v[12])+(?=\.|$)", "tensorflow", path)


class Imports:
    """The names a module's import statements bind, and what they refer to."""

    def __init__(self, tree: ast.Module, imports: Optional[Iterable[ast.AST]] = None):
        """`imports`: the module's Import/ImportFrom nodes, if already collected."""
        #: Local name -> dotted path, from every import in the module.
        self.aliases: dict[str, str] = {}
        #: The same for module-level imports only (visible everywhere).
        self.top_level: dict[str, str] = {}
        top = {id(node) for node in tree.body}
        if imports is None:
            imports = (n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)))
        for node in imports:
            bound = dict(_bindings(node))
            self.aliases.update(bound)
            if id(node) in top:
                self.top_level.update(bound)

    def qualify(self, node: ast.AST, shadowed: Iterable[str] = ()) -> Optional[str]:
        """`node`'s dotted path, or None (not a name chain, or not imported).

        `shadowed`: names bound locally in the function that holds `node`
        (a local `metrics = {}` is not the imported `metrics`).
        """
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id in shadowed:
            return None
        base = self.aliases.get(node.id)
        if base is None:
            return None
        return ".".join([base, *reversed(parts)])

    def name_for(self, *paths: str) -> Optional[str]:
        """A module-level name bound to one of `paths`, in that order of preference."""
        for path in paths:
            for name, target in sorted(self.top_level.items()):
                if target == path:
                    return name
        return None


def _bindings(node: ast.AST):
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                yield alias.asname, alias.name
            else:  # `import a.b.c` binds `a`.
                top = alias.name.split(".")[0]
                yield top, top
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        for alias in node.names:
            if alias.name != "*":
                yield alias.asname or alias.name, f"{node.module}.{alias.name}"


def _split(path: Optional[str]) -> tuple[str, str]:
    if not path:
        return "", ""
    module, _, name = normalize(path).rpartition(".")
    return module, name


def v1_metric(path: Optional[str]) -> Optional[str]:
    """`accuracy` for `tensorflow.compat.v1.metrics.accuracy` / `tensorflow.metrics.accuracy`."""
    module, name = _split(path)
    return name if module in _V1_MODULES and name in V1_METRICS else None


def contrib_metric(path: Optional[str]) -> Optional[str]:
    module, name = _split(path)
    return name if module == "tensorflow.contrib.metrics" and name else None


def keras_metric_class(path: Optional[str]) -> Optional[str]:
    module, name = _split(path)
    if module.startswith("keras.src.metrics") and name[:1].isupper():
        return name
    return name if module in _KERAS_MODULES and name[:1].isupper() else None


def is_tf(path: Optional[str], *names: str) -> bool:
    """Whether `path` is `tensorflow.<one of names>` (any compat.vN alias)."""
    return bool(path) and normalize(path) in {f"tensorflow.{name}" for name in names}


def is_spec(path: Optional[str]) -> bool:
    """EstimatorSpec or TPUEstimatorSpec, from tensorflow or tensorflow_estimator."""
    return bool(path) and path.split(".")[0] in ("tensorflow", "tensorflow_estimator") and (
        path.endswith(".EstimatorSpec") or path.endswith(".TPUEstimatorSpec"))


def is_estimator_class(path: Optional[str]) -> bool:
    return bool(path) and path.split(".")[0] in ("tensorflow", "tensorflow_estimator") and (
        path.endswith("Estimator"))


def add_metrics_kind(path: Optional[str]) -> Optional[str]:
    """"core" for tf.estimator.add_metrics, "contrib" for tf.contrib.estimator's."""
    if not path or not path.endswith(".add_metrics"):
        return None
    path = normalize(path)
    if path.startswith("tensorflow.contrib.estimator"):
        return "contrib"
    if path.split(".")[0] in ("tensorflow", "tensorflow_estimator"):
        return "core"
    return None


def estimator_metrics_api(path: Optional[str]) -> Optional[str]:
    """`from_keras`, `per_class` or a builder name, for our own API."""
    if not path:
        return None
    module, _, name = path.rpartition(".")
    if module == "estimator_metrics.adapter" and name in ("from_keras", "per_class"):
        return name
    if module == "estimator_metrics.builders" and name in ("mape", "fbeta",
                                                           "average_confidence"):
        return name
    return None


def bound_names(node: ast.AST) -> set[str]:
    """The names one node binds (to avoid clashing with the imports a rewrite adds)."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return {node.id}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.arg):
        return {node.arg}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {name for name, _ in _bindings(node)}
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return set(node.names)
    return set()
