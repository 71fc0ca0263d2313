"""migrate: one module under analysis, and the names a rewrite of it can use."""

from __future__ import annotations

import dataclasses

import libcst as cst

from estimator_metrics._docs import url
from estimator_metrics.migrate import _edit as edit
from estimator_metrics.migrate._handbuilt import HandBuilt
from estimator_metrics.migrate._model import Finding, Fix, Status
from estimator_metrics.migrate._module import Function, Module
from estimator_metrics.migrate._pairs import Pairs
from estimator_metrics.migrate._values import Values

_TF_ROOTS = ("tensorflow", "tensorflow.compat.v1", "tensorflow.compat.v2")


def top_level_imports(tree: cst.Module) -> dict:
    """{local name: dotted path} of the module's top-level import statements."""
    bound = {}
    for statement in tree.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    path = cst.Module([]).code_for_node(alias.name)
                    if alias.asname is not None:
                        bound[alias.asname.name.value] = path
                    else:  # `import a.b.c` binds `a`.
                        bound[path.split(".")[0]] = path.split(".")[0]
            elif (
                isinstance(small, cst.ImportFrom)
                and not small.relative
                and small.module
                and (not isinstance(small.names, cst.ImportStar))
            ):
                module = cst.Module([]).code_for_node(small.module)
                for alias in small.names:
                    name = alias.name.value
                    local = alias.asname.name.value if alias.asname else name
                    bound[local] = f"{module}.{name}"
    return bound


@dataclasses.dataclass
class Context:
    """One module, its analyses, and the names a rewrite of it can use."""

    module: Module
    values: Values
    handbuilt: HandBuilt
    pairs: Pairs
    layout: edit.Layout
    path: str
    adapter: str | None  # Names estimator_metrics.adapter (None: cannot).
    keras: str  # Names tf.keras.metrics.
    estimator: str | None  # Names tf.estimator.
    imports: tuple  # Keys of IMPORTS a rewrite adds.
    tf_imports: dict  # {local name: path} of the top-level imports.

    @classmethod
    def build(cls, tree: cst.Module, text: str, path: str) -> Context:
        module = Module(tree)
        values = Values(module)
        imports = top_level_imports(module.tree)
        bound = module.bound_names()

        def name_for(*paths):
            for wanted in paths:
                for name, target in sorted(imports.items()):
                    if target == wanted:
                        return name
            return None

        needed = []
        adapter = name_for("estimator_metrics.adapter")
        if adapter is None and name_for("estimator_metrics"):
            adapter = name_for("estimator_metrics") + ".adapter"
        if adapter is None and "adapter" not in bound:
            adapter = "adapter"
            needed.append("adapter")
        tf = name_for(*_TF_ROOTS)
        keras = name_for("tensorflow.keras.metrics")
        if tf is None and keras is None and "tf" not in bound:
            tf = "tf"
            needed.append("tf")
        keras_prefix = f"{tf}.keras.metrics" if tf else (keras or "tf.keras.metrics")
        if tf is None and keras is None:
            adapter = None  # No way to name tf.keras.metrics: report only.
        return cls(
            module,
            values,
            HandBuilt(module, values),
            Pairs(module),
            edit.Layout(module, text),
            path,
            adapter,
            keras_prefix,
            f"{tf}.estimator" if tf else None,
            tuple(needed),
            imports,
        )

    @property
    def keras_needs(self) -> tuple:
        """Imports needed to name tf.keras.metrics (`import tensorflow as tf` if added)."""
        return self.needs("tf") if self.keras.startswith("tf.") else ()

    def needs(self, *names_used: str) -> tuple:
        """The imports (keys of IMPORTS) a rewrite using these names must add."""
        return tuple(name for name in names_used if name in self.imports)

    def free_name(self, base: str) -> str | None:
        """`base`, or `base_2` ... `base_9`, whichever the module binds nowhere."""
        bound = self.module.bound_names()
        for candidate in (base, *(f"{base}_{n}" for n in range(2, 10))):
            if candidate not in bound:
                return candidate
        return None

    def text(self, node: cst.CSTNode | None) -> str:
        return edit.flatten(self.module.code(node)) if node is not None else ""

    def finding(
        self,
        node: cst.CSTNode,
        function: Function,
        metric: str,
        status: Status,
        replacement: str,
        same_number: str,
        notes: list,
        *,
        fix: Fix | None = None,
        edits: dict | None = None,
        imports: tuple = (),
        docs: str = "",
    ) -> Finding:
        line, column = self.module.position(node)
        return Finding(
            self.path,
            line,
            column,
            function.qualname,
            function.role,
            metric,
            status,
            replacement,
            same_number,
            list(notes),
            source=self.text(node),
            fix=fix,
            edits=edits or {},
            imports=imports,
            docs=url(docs) if docs else "",
        )

    def rewritten(self, new: cst.CSTNode) -> str:
        """A new node's code on one line, for the report."""
        return edit.flatten(self.module.tree.code_for_node(new))
