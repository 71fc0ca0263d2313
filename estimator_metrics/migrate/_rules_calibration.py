"""migrate: the calibration family - expected calibration error -> `calibration_error`.

* `tfp.stats.expected_calibration_error(num_bins, logits=, labels_true=, labels_predicted=)`
  (TensorFlow Probability, any alias) is a one-shot function of the logits it is given, not
  a streaming metric. In an eager or NumPy script over all the logits at once it is right,
  and it is not reported (`_uses`: only calls in a function with an Estimator role). In a
  `model_fn`, a metric_fn or their helpers it sees one batch: put into a metric pair its
  value is one batch's ECE, averaged by `tf.metrics.mean` it is a mean of batch ECEs;
  neither is the evaluation set's ECE (`wrong under stock Estimator`). Where its value goes
  is not shown in the function, `unsure`. Never rewritten: the builder gives a different
  (the right) number.
* `object_detection.metrics.calibration_metrics.expected_calibration_error(y_true, y_pred,
  nbins=20)` (tensorflow/models) is a streaming ECE built from float32 bins: the builder's
  binary mode on the same scores and 0/1 matches, the same bins and bin weights, in float64
  (`float32 counters`, never rewritten: third-party, and its float32 bin index puts some
  scores one bin up).
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from estimator_metrics.migrate import _names as names
from estimator_metrics.migrate._model import Finding, Status
from estimator_metrics.migrate._rule import Call, Rule

TFP_PARAMS = ("num_bins", "logits", "labels_true", "labels_predicted", "name")
DETECTION_PARAMS = ("y_true", "y_pred", "nbins")
_DOCS = "migrate.md#calibration"
#: What both sources share with the builder, and where the float32 bin index differs.
_BINS = (
    "the bins of tf.histogram_fixed_width_bins: num_bins equal-width bins on [0, 1], "
    "left-closed, 1.0 in the last"
)
_EDGE = (
    "bin index is floor(num_bins * p) computed in float32: a float32 p just below a bin "
    "edge whose product rounds onto the edge goes one bin up (0.7 at 10 bins, 0.35 at 20); "
    "the builder's product is exact (float64)"
)


def _references(call: Call) -> Iterator[cst.CSTNode]:
    """The call, and the names bound to its value (`ece = tfp.stats...(...)`) in its function."""
    module, node = call.ctx.module, call.node
    yield node
    statement = module.statement_of(node)
    if not (
        isinstance(statement, cst.Assign)
        and statement.value is node
        and len(statement.targets) == 1
        and isinstance(statement.targets[0].target, cst.Name)
    ):
        return
    target = statement.targets[0].target
    for other in call.use.function.nodes:
        if isinstance(other, cst.Name) and other.value == target.value and other is not target:
            bound = module.binding(other)
            if bound is not None and bound[1] is node:
                yield other


def _reach(call: Call) -> tuple[str, int]:
    """How the one-shot value reaches an evaluation: ("averaged by <metric>", line),
    ("pair", line) or ("", 0) when the function does not show it."""
    module = call.ctx.module
    for reference in _references(call):
        parent = module.parents.get(reference)
        owner = module.parents.get(parent)
        if isinstance(parent, cst.Arg) and isinstance(owner, cst.Call):
            key = module.path_of(owner.func, names.metric_api)
            if key is not None and key != names.TFP_ECE:
                return f"averaged by {key}", module.line(owner)
        first = isinstance(owner, cst.Tuple) and owner.elements and owner.elements[0] is parent
        if isinstance(parent, cst.Element) and first:
            return "pair", module.line(owner)
    return "", 0


def tfp_ece(call: Call) -> Finding:
    """tfp.stats.expected_calibration_error in graph eval code -> builders.calibration_error."""
    logits = call.text("logits") or "logits"
    labels = call.text("labels_true") or "labels"
    bins = call.text("num_bins") or "num_bins"
    replacement = f"builders.calibration_error({labels}, tf.nn.softmax({logits}), num_bins={bins})"
    how, line = _reach(call)
    one_shot = (
        "tfp.stats.expected_calibration_error is a one-shot function of the logits it is "
        "given, not a streaming metric: "
    )
    status = Status.WRONG
    if how.startswith("averaged"):
        today = (
            f"{how[len('averaged by ') :]} (line {line}) averages the ECE of each batch, and "
            "ECE does not add over batches: a mean of batch ECEs (bins filled by one batch at "
            "a time) is not the ECE of the evaluation set"
        )
    elif how == "pair":
        today = (
            f"as a metric pair's value (line {line}) it is computed from one batch's logits, "
            "so the evaluation reports one batch's ECE, not the evaluation set's"
        )
    else:
        status, today = (
            Status.UNSURE,
            (
                "here it sees one batch; where its value goes is not shown in this function "
                "(returned, a summary, a helper): reported by an evaluation, it is one batch's "
                "ECE, not the evaluation set's"
            ),
        )
    notes = [
        one_shot + today,
        "builders.calibration_error streams the ECE of every batch of the evaluation, as tfp "
        "computes it over all the logits at once: the top-label probability of "
        f"softmax(logits) (the first class on ties, as tfp's argmax), {_BINS}, each bin "
        "weighted by its count; the same number to float32 precision (tfp computes in float32)",
        "tfp's " + _EDGE,
        "the builder also takes weights= (tfp takes none) and returns float64 (value and "
        "update op): cast where float32 is needed",
    ]
    if call.value("labels_predicted") is not None:
        notes.append(
            f"labels_predicted={call.text('labels_predicted')}: tfp bins the probability of "
            "that class, the builder the largest probability: the same only where it is "
            "the argmax of the logits"
        )
    notes.append("not rewritten: a different number (the evaluation set's ECE)")
    return call.finding(
        status,
        replacement,
        "no: today one batch's ECE"
        + (" averaged over batches" if how.startswith("averaged") else "")
        + "; the builder's equals tfp's over all the evaluation's logits to float32 precision",
        notes,
    )


def detection_ece(call: Call) -> Finding:
    """object_detection's streaming ECE -> builders.calibration_error, binary mode."""
    y_true, y_pred = call.text("y_true") or "y_true", call.text("y_pred") or "y_pred"
    nbins = call.text("nbins") or "20"
    return call.finding(
        Status.FLOAT32,
        f"builders.calibration_error({y_true}, {y_pred}, num_bins={nbins})",
        "1e-6 (float32 sums) where no score lies just below a bin edge",
        [
            "a streaming ECE of scores and 0/1 matches: y_pred is the probability of class 1 "
            "of the builder's binary mode ([B] probabilities, 0/1 labels), y_true its labels; "
            f"{_BINS}, each bin weighted by its count, 0.0 for empty bins and before any data, "
            "as the builder",
            "its counts and sums are float32 variables: once a count reaches 2**24, +1 is "
            "lost; the builder's state is float64",
            "its " + _EDGE,
            "nbins defaults to 20, the builder's num_bins to 15: pass num_bins; the builder "
            "checks that y_true is 0/1 (its sums take any value), takes weights= and returns "
            "float64 (value and update op): cast where float32 is needed",
            "not rewritten: third-party metric, float32 state",
        ],
    )


TABLE = {
    names.TFP_ECE: Rule(
        TFP_PARAMS,
        tfp_ece,
        suggest_only="a one-shot function",
        depends_on=TFP_PARAMS[:4],
        docs=_DOCS,
    ),
    "object_detection.metrics.calibration_metrics.expected_calibration_error": Rule(
        DETECTION_PARAMS,
        detection_ece,
        suggest_only="third-party metric",
        depends_on=("nbins",),
        docs=_DOCS,
    ),
}
