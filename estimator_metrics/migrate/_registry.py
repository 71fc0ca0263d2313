"""migrate: the one registry of rules, keyed by (kind of use, metric name), and dispatch."""

from __future__ import annotations

from collections.abc import Mapping

from estimator_metrics.migrate import _rules_keras as keras
from estimator_metrics.migrate import _rules_more as more
from estimator_metrics.migrate._context import Context
from estimator_metrics.migrate._model import Finding, Kind, Status
from estimator_metrics.migrate._rule import Call, Rule
from estimator_metrics.migrate._rules_v1 import V1_RULES
from estimator_metrics.migrate._uses import Use
from estimator_metrics.migrate._values import bind

REGISTRY: Mapping[tuple[Kind, str | None], Rule] = {
    (rule.kind, rule.name): rule
    for rule in (
        *V1_RULES,
        *(
            Rule(kind, name, label, params, handler)
            for kind, name, label, params, handler in more.MORE_TABLE
        ),
        Rule(Kind.KERAS, None, "tf.keras.metrics.{name}", None, keras.keras_object),
        Rule(Kind.OURS, None, "{name}", None, keras.ours),
        Rule(Kind.ADD_METRICS, None, "tf.contrib.estimator.add_metrics", None, keras.add_metrics),
    )
}


def rule_for(kind: Kind, name: str) -> Rule:
    """The rule of this metric, else its kind's default rule."""
    return REGISTRY.get((kind, name)) or REGISTRY[(kind, None)]


def classify(use: Use, ctx: Context) -> Finding:
    """The finding of one use: contrib streaming_* go to the v1 rule they wrap."""
    if use.kind is Kind.CONTRIB and use.name in more.STREAMING:
        return _contrib_streaming(use, ctx)
    rule = rule_for(use.kind, use.name)
    call = Call(use, ctx, {}, rule.label.format(name=use.name))
    if rule.params is not None:
        bound = bind(use.node, rule.params)
        if bound is None:
            return call.finding(
                Status.MIGRATABLE,
                f"see docs/migration.md ({use.name})",
                "unknown",
                ["arguments passed as *args/**kwargs: not analysed"],
            )
        call.bound = bound
    return rule.handler(call)


def _contrib_streaming(use: Use, ctx: Context) -> Finding:
    """streaming_x(predictions, labels, ...): the v1 rule of x, suggested, never rewritten."""
    name = more.STREAMING[use.name]
    rule = rule_for(Kind.V1, name)
    params = rule.params
    if params[0] != "values":
        params = ("predictions", "labels", *params[2:])
    call = Call(use, ctx, {}, f"tf.contrib.metrics.{use.name}")
    bound = bind(use.node, params)
    if bound is None:
        return call.finding(
            Status.MIGRATABLE,
            f"see docs/migration.md ({name})",
            "unknown",
            ["arguments passed as *args/**kwargs: not analysed"],
        )
    call.bound = bound
    original = use.name
    use.name = name  # The v1 rule reads the metric name (notes cite the guide row by it).
    finding = rule.handler(call)
    use.name = original
    finding.fix, finding.edits = None, {}
    finding.notes.append(
        "tf.contrib is gone in TF 2; streaming_* take predictions first, "
        "from_keras takes labels first"
    )
    return finding


def hand_built(ctx: Context) -> list:
    """Findings for hand-built F-beta and other arithmetic over v1 counters."""
    findings, fbetas = [], []
    for match in ctx.handbuilt.fbetas():
        fbetas.append(match.node)
        if match.half == 0:  # The update half belongs to the same metric.
            findings.append(more.hand_built_fbeta(ctx, match))
    skip = {id(node) for node in fbetas}
    for match in ctx.handbuilt.counters(skip):
        findings.append(more.hand_built_counters(ctx, match))
    return findings
