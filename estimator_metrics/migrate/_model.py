"""migrate: what a finding is - statuses, fixes, actions and kinds of use as enums."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any


class _StrEnum(str, enum.Enum):
    """enum.StrEnum (Python 3.11+) for Python 3.9: members are their values as strings."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Status(_StrEnum):
    """How today's number relates to what TF2 offers, worst first.

    * WRONG: the number this code reports today is wrong (a Keras
      FBetaScore/F1Score/R2Score object or a twice-updated Keras metric placed
      in eval_metric_ops; v1 accuracy/precision/recall given probabilities,
      which v1 casts to integers or booleans; tfp's one-shot ECE of one batch put
      into a metric pair or averaged by tf.metrics.mean).
    * NO_TF2: neither Keras nor our builders give this number.
    * FLOAT32: a hand-built metric over float32 v1 counters, or object_detection's
      ECE over float32 bins; the float64 alternative is named.
    * UNSURE: which metric, or what it computes, is only known at run time (a
      metric function called through a name that holds one of several, a
      `**kwargs` whose keywords the code does not show): the reason is named.
    * MIGRATABLE: a Keras metric through `adapter.from_keras`, or one of our
      builders, gives the same number (exactly, within the stated tolerance, or
      under the stated condition).
    * OK: already `adapter.from_keras` or one of our builders.
    """

    WRONG = "wrong under stock Estimator"
    NO_TF2 = "no TF2 equivalent"
    FLOAT32 = "float32 counters"
    UNSURE = "unsure"
    MIGRATABLE = "migratable"
    OK = "ok"


class Fix(_StrEnum):
    """What `--write` may do with a finding that carries a rewrite."""

    EXACT = "exact"  # The same number: --write rewrites it.
    CORRECTION = "correction"  # The right number instead of a wrong one: --write --fix-wrong.


class Action(_StrEnum):
    """What this run did, or would do, with a finding."""

    NONE = ""  # Status ok: nothing to do.
    REWRITTEN = "rewritten"
    FIXED = "fixed"
    WOULD_REWRITE = "--write rewrites"
    WOULD_FIX = "--write --fix-wrong fixes"
    REPORT_ONLY = "report only"


class Kind(_StrEnum):
    """Kinds of metric use the module walk finds; the rule table is keyed by the API's name."""

    CALL = "call"  # A call of a metric API (tf.compat.v1.metrics.auc(...)), through any alias.
    REFERENCE = "reference"  # A metric function named without a call: {"auc": tf.metrics.auc}.
    THROUGH_NAME = "through a name"  # fn(...) where fn holds one of several metric functions.
    KERAS = "keras"  # A Keras metric object placed in a metric dict of a role function.
    SUBCLASS = "subclass"  # A class deriving from a metric API class (MetricSpec).
    HAND_BUILT = "hand-built"  # Arithmetic over v1 pairs: F-beta, ratios of counters.


#: Function roles, from how a function is used.
MODEL_FN = "model_fn"
ADD_METRICS_FN = "add_metrics metric_fn"
TPU_METRIC_FN = "TPUEstimator metric_fn"

#: The imports a rewrite may add, by the name it binds: (module, object, as name).
IMPORTS = {
    "adapter": ("estimator_metrics", "adapter", None),
    "tf": ("tensorflow", None, "tf"),
}
#: Third-party before first-party, as import sorters group them.
IMPORTS_ORDER = ("tf", "adapter")


@dataclasses.dataclass
class Finding:
    """One metric use: where, what it is, its status and what it becomes."""

    path: str
    line: int
    column: int
    function: str
    role: str
    metric: str
    status: Status
    replacement: str
    same_number: str
    notes: list
    source: str = ""
    fix: Fix | None = None
    action: Action = Action.NONE
    #: {original libcst node: its replacement}, applied by --write.
    edits: dict = dataclasses.field(default_factory=dict, repr=False)
    imports: tuple = ()  # Keys of IMPORTS the rewrite needs.
    #: The docs section that states and pins what the finding says (an address).
    docs: str = ""

    def as_dict(self) -> dict[str, Any]:
        values = {
            key: getattr(self, key)
            for key in (
                "path",
                "line",
                "column",
                "function",
                "role",
                "metric",
                "status",
                "replacement",
                "same_number",
                "notes",
                "source",
                "fix",
                "action",
                "docs",
            )
        }
        for key in ("status", "fix", "action"):
            values[key] = None if values[key] is None else str(values[key])
        return values


@dataclasses.dataclass
class FileResult:
    """One file: its findings, or why it could not be read."""

    path: str
    findings: list = dataclasses.field(default_factory=list)
    error: str | None = None
    error_line: int | None = None
    text: str = ""
    module: Any = dataclasses.field(default=None, repr=False)  # The parsed libcst.Module.
    new_text: str | None = None  # The rewritten text, when anything is rewritten.
    encoding: str = "utf-8"
    diff: str | None = None  # The unified diff of the rewrite (with --diff).
    crashed: bool = False  # `error` is a bug of migrate, not of the file.

    def summary(self) -> FileResult:
        """What the report needs, without the text and the syntax tree (which hold the
        memory): findings without their edits, errors, the diff."""
        for finding in self.findings:
            finding.edits = {}
        return FileResult(
            self.path,
            self.findings,
            self.error,
            self.error_line,
            encoding=self.encoding,
            diff=self.diff,
            crashed=self.crashed,
        )
