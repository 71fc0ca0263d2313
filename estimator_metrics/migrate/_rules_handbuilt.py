"""migrate: the hand-built family - F-beta from v1 precision and recall, ratios of counters.

Found by pattern (`_handbuilt`), not by name: the table is keyed by the kind of
arithmetic. Each is `float32 counters`: the v1 pairs it reads count in float32,
and the finding names the float64 alternative.
"""

from __future__ import annotations

import libcst as cst

from estimator_metrics.migrate._handbuilt import Counters, FBeta
from estimator_metrics.migrate._model import Finding, Status
from estimator_metrics.migrate._rule import Call, Rule, from_keras_text
from estimator_metrics.migrate._values import number, string


def _beta(ctx, factors: list) -> str:
    texts = [ctx.text(f) for f in factors]
    if len(texts) == 1 and texts[0].endswith(" ** 2"):
        return texts[0][: -len(" ** 2")]
    if len(texts) == 2 and texts[0] == texts[1]:
        return texts[0]
    if len(texts) == 1 and string(factors[0]) is None:
        return f"sqrt({texts[0]})"
    return f"sqrt({' * '.join(texts)})"


def _fbeta_call(ctx, precision, recall, beta: str) -> str:
    """builders.precision_recall_fbeta with the labels, predictions and weights precision
    and recall share: one call for the three metrics."""

    def arguments(call):
        return [(a.keyword.value if a.keyword else None, ctx.text(a.value)) for a in call.args]

    beta_text = f", beta={beta}" if beta != "1.0" else ""
    if arguments(precision) != arguments(recall):
        return (
            "see builders.precision_recall_fbeta: precision and recall here take different "
            f"arguments; pass the labels, predictions and weights= they should share{beta_text}"
        )
    values = {}
    for position, (keyword, text) in enumerate(arguments(precision)):
        key = keyword or ("labels", "predictions", "weights", "", "", "")[min(position, 5)]
        values[key] = text
    weights = f", weights={values['weights']}" if values.get("weights") else ""
    return (
        f"builders.precision_recall_fbeta({values.get('labels', 'labels')}, "
        f"{values.get('predictions', 'predictions')}{weights}{beta_text})"
    )


def fbeta(call: Call) -> Finding:
    ctx, match = call.ctx, call.use.match
    beta = "1.0" if not match.beta_squared else _beta(ctx, match.beta_squared)
    name = "F1" if beta == "1.0" else f"F-beta (beta={beta})"
    via = " through a helper" if _is_helper_call(ctx, match) else ""
    call.metric = (
        f"hand-built {name}{via} from v1 precision (line {ctx.module.line(match.precision)})"
        f" and recall (line {ctx.module.line(match.recall)})"
    )
    denominator = "P + R" if beta == "1.0" else f"{beta}**2 * P + R"
    epsilon = " + ".join(ctx.text(e) for e in match.epsilons)
    if epsilon:
        value = number(match.epsilons[0]) if len(match.epsilons) == 1 else None
        example = (
            f", e.g. {value / (1.5 + value):.1e} at {denominator} = 1.5"
            if isinstance(value, (int, float)) and value > 0
            else ""
        )
        zero = (
            f"this expression is (1 + b**2)·P·R / ({denominator} + {epsilon}): the {epsilon} "
            "term keeps it finite (0.0 where precision + recall = 0, as the builder "
            f"gives) and below the builder by the relative amount {epsilon} / "
            f"({denominator} + {epsilon}){example}"
        )
        same = (
            f"relative {epsilon} / ({denominator}) + 1e-6 or less (its {epsilon} term, and "
            "float32 counts)"
        )
    elif match.no_nan:
        zero = "divide_no_nan gives 0.0 when precision + recall = 0, as the builder does"
        same = "1e-6 (float64 counts)"
    else:
        zero = "this expression is NaN (0/0) when precision + recall = 0; the builder gives 0.0"
        same = "1e-6 (float64 counts); 0.0 where this is NaN"
    return call.finding(
        Status.FLOAT32,
        _fbeta_call(ctx, match.precision, match.recall, beta),
        same,
        [
            "one builders.precision_recall_fbeta call gives precision, recall and this F-beta "
            'from one float64 state: its dict\'s "precision", "recall" and "fbeta" pairs '
            f"replace the v1 pairs of lines {ctx.module.line(match.precision)} and "
            f"{ctx.module.line(match.recall)} and this expression",
            "v1 precision and recall count in float32; the builder counts TP/FP/FN in float64",
            zero,
            "the builder thresholds float predictions at 0.5 (threshold=...); v1 counts every "
            "nonzero prediction as positive: pass the same bool or 0/1 predictions to keep "
            "today's reading",
            "the builder returns float64 (value and update op): cast where float32 is needed",
            "not rewritten: "
            + (
                "a different number where this one is NaN"
                if not (match.no_nan or epsilon)
                else "float32 vs float64 counts" + (f" and the {epsilon} term" if epsilon else "")
            ),
        ],
    )


def _is_helper_call(ctx, match: FBeta) -> bool:
    return hasattr(match.node, "func") and bool(ctx.module.functions_named(match.node.func))


def _counted(ctx, match: Counters) -> tuple:
    """(labels, predictions, num_classes) texts the counters were computed on, where visible."""
    call = match.halves[0].call
    first = call.args[0].value if call.args else None
    matrix = first if match.halves[0].metric == "mean_tensor" else None
    if (
        matrix is not None
        and isinstance(matrix, cst.Call)
        and ctx.values.op(matrix) in ("confusion_matrix", "math.confusion_matrix")
    ):
        texts = [ctx.text(a.value) for a in matrix.args[:3]]
        return (*texts, *["C"] * (3 - len(texts)))
    texts = [ctx.text(a.value) for a in call.args[:2]]
    return (*texts, *["predictions"] * (2 - len(texts)), "C")


def counters(call: Call) -> Finding:
    ctx, match = call.ctx, call.use.match
    metrics = {h.metric for h in match.halves}
    basic = {"true_positives", "false_positives", "true_negatives", "false_negatives"}
    lines = ", ".join(sorted({str(ctx.module.line(h.call)) for h in match.halves}))
    labels, predictions, classes = _counted(ctx, match)
    adapter = ctx.adapter or "adapter"
    if basic <= metrics:
        name = "MCC"
        replacement = (
            f'one {adapter}.from_keras({ctx.keras}.TruePositives(dtype="float64"), '
            f"{labels}, {predictions}) per counter (FalsePositives, TrueNegatives, "
            "FalseNegatives likewise), and the same formula over their pairs"
        )
        advice = (
            "Keras TruePositives... with dtype='float64' count exactly; they threshold "
            "predictions at 0.5 where v1 counts every nonzero one: pass bool or 0/1 "
            "predictions"
        )
    elif match.diagonal and "mean_tensor" in metrics:
        name = "per-class IoU from a confusion matrix"
        replacement = (
            f"one {adapter}.from_keras({ctx.keras}.IoU({classes}, "
            f'target_class_ids=[k], dtype="float64"), {labels}, {predictions}) per '
            "class k, on class ids"
        )
        advice = (
            "tf.keras.metrics.IoU(num_classes, target_class_ids=[k]) is the IoU of "
            "class k, TP / (TP + FP + FN), on the class ids the matrix counts; "
            "dtype='float64' counts exactly (its default is float32)"
        )
    elif metrics == basic - {"true_negatives"}:
        name = "IoU-style ratio of TP, FP and FN"
        replacement = from_keras_text(
            ctx, 'IoU(2, target_class_ids=[1], dtype="float64")', labels, predictions
        )
        advice = (
            "IoU(2, target_class_ids=[1]) is TP / (TP + FP + FN) of the positive class on "
            "0/1 labels and predictions (Keras casts predictions to integers, v1 counts "
            "every nonzero one: pass 0/1 predictions); dtype='float64' counts exactly"
        )
    else:
        name = "ratio of v1 counters"
        replacement = (
            "none ready-made; count with Keras metrics of dtype='float64' through "
            "adapter.from_keras and keep the formula"
        )
        advice = "Keras confusion-count metrics take dtype='float64'"
    call.metric = (
        f"hand-built {name} from float32 v1 counters ({', '.join(sorted(metrics))}, "
        f"line{'s' if ',' in lines else ''} {lines})"
    )
    return call.finding(
        Status.FLOAT32,
        replacement,
        "1e-6 (float64 counts)",
        [
            "v1 counters are float32: once a count reaches 2**24, +1 is lost",
            advice,
            "not rewritten: hand-built",
        ],
    )


_DOCS = "migrate.md#hand-built-metrics"
TABLE = {
    "hand-built F-beta": Rule(transform=fbeta, docs=_DOCS),
    "hand-built counters": Rule(transform=counters, docs=_DOCS),
}
