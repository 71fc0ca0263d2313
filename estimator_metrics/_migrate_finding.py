"""migrate: a finding (one metric use) and what the rules need to build one.

Statuses, worst first:

* `wrong under stock Estimator`: the number this code reports today is wrong
  (a Keras FBetaScore/F1Score/R2Score object or a twice-updated Keras metric
  placed in eval_metric_ops; v1 accuracy/precision/recall given
  probabilities, which v1 casts to integers or booleans).
* `no TF2 equivalent`: neither Keras nor our builders give this number.
* `float32 counters`: a hand-built F-beta, MAPE or average confidence over
  float32 v1 counters; our float64 builder is the exact alternative.
* `migratable`: a Keras metric through `adapter.from_keras` gives the same
  number (exactly, or within the stated tolerance, or under a stated condition).
* `ok`: already `adapter.from_keras` or one of our builders.
"""

from __future__ import annotations

import ast
import dataclasses
from typing import Optional

from estimator_metrics import _migrate_edit as edit
from estimator_metrics import _migrate_names as names
from estimator_metrics._migrate_find import Module, Scope
from estimator_metrics._migrate_patterns import Patterns

WRONG = "wrong under stock Estimator"
NO_TF2 = "no TF2 equivalent"
FLOAT32 = "float32 counters"
MIGRATABLE = "migratable"
OK = "ok"
STATUSES = (WRONG, NO_TF2, FLOAT32, MIGRATABLE, OK)

#: Finding.fix values: what --write may do with it.
EXACT = "exact"  # Same number: --write rewrites it.
CORRECTION = "correction"  # The right number instead of a wrong one: --write --fix-wrong.

IMPORTS = {"adapter": "from estimator_metrics import adapter",
           "tf": "import tensorflow as tf"}


@dataclasses.dataclass
class Finding:
    path: str
    line: int
    column: int
    function: str
    role: str
    metric: str
    status: str
    replacement: str
    same_number: str
    notes: list
    source: str = ""
    fix: Optional[str] = None
    action: str = ""
    edits: list = dataclasses.field(default_factory=list, repr=False)
    imports: tuple = ()

    def as_dict(self) -> dict:
        return {key: getattr(self, key) for key in (
            "path", "line", "column", "function", "role", "metric", "status", "replacement",
            "same_number", "notes", "source", "fix", "action")}


@dataclasses.dataclass
class Context:
    """One module, and the names a rewrite of it can use."""

    module: Module
    patterns: Patterns
    source: edit.Source
    path: str
    adapter: Optional[str]  # Names estimator_metrics.adapter (None: cannot).
    keras: str  # Names tf.keras.metrics.
    estimator: Optional[str]  # Names tf.estimator.
    imports: tuple  # Keys of IMPORTS a rewrite adds.

    @classmethod
    def build(cls, module: Module, source: edit.Source, path: str) -> "Context":
        imports = module.imports
        bound = module.bound
        needed = []
        adapter = imports.name_for("estimator_metrics.adapter")
        if adapter is None and imports.name_for("estimator_metrics"):
            adapter = imports.name_for("estimator_metrics") + ".adapter"
        if adapter is None and "adapter" not in bound:
            adapter = "adapter"
            needed.append("adapter")
        tf = imports.name_for(*names.TF_ROOTS)
        keras = imports.name_for("tensorflow.keras.metrics")
        if tf is None and keras is None and "tf" not in bound:
            tf = "tf"
            needed.append("tf")
        keras_prefix = f"{tf}.keras.metrics" if tf else (keras or "tf.keras.metrics")
        if tf is None and keras is None:
            adapter = None  # No way to name tf.keras.metrics: report only.
        return cls(module, Patterns(module), source, path, adapter, keras_prefix,
                   f"{tf}.estimator" if tf else None, tuple(needed))

    @property
    def keras_needs(self) -> tuple:
        """Imports needed to name tf.keras.metrics (`import tensorflow as tf` if added)."""
        return self.needs("tf") if self.keras.startswith("tf.") else ()

    def needs(self, *names_used: str) -> tuple:
        """The imports (keys of IMPORTS) a rewrite using these names must add."""
        return tuple(name for name in names_used if name in self.imports)

    def text(self, node: Optional[ast.AST]) -> str:
        return self.source.flat(node) if node is not None else ""

    def finding(self, node: ast.AST, scope: Scope, metric: str, status: str,
                replacement: str, same_number: str, notes: list, **kwargs) -> Finding:
        return Finding(self.path, node.lineno, node.col_offset + 1, scope.qualname,
                       scope.role, metric, status, replacement, same_number, notes,
                       source=self.text(node), **kwargs)

    def rewritten(self, node: ast.AST, edits: list) -> str:
        """The flattened text of `node` after the edits that fall inside it."""
        start, end = self.source.span(node)
        inside = [edit.Edit(e.start - start, e.end - start, e.text) for e in edits
                  if start <= e.start and e.end <= end]
        return edit.flatten(edit.apply(self.source.text[start:end], inside))


@dataclasses.dataclass
class Arg:
    node: ast.AST  # The positional expression or the keyword node.
    value: ast.AST


def bind(call: ast.Call, params: tuple) -> Optional[dict]:
    """`{parameter: Arg}` for a call of a function with these positional parameters."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(
            k.arg is None for k in call.keywords) or len(call.args) > len(params):
        return None
    bound = {param: Arg(arg, arg) for param, arg in zip(params, call.args)}
    for keyword in call.keywords:
        if keyword.arg in bound:
            return None
        bound[keyword.arg] = Arg(keyword, keyword.value)
    return bound


def is_none(node: Optional[ast.AST]) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value is None)
