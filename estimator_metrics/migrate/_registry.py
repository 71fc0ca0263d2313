"""migrate: the one rule table - every family's table, keyed by qualified name - and dispatch.

Each family module (`_rules_v1`, `_rules_contrib`, `_rules_tf_metrics`, `_rules_keras`,
`_rules_handbuilt`, `_rules_calibration`) holds one table `{qualified name: Rule}`; a key
ending in `.*` is the family's rule for every other name under that prefix. `classify`
reads one use: it binds the arguments of the call it makes (or of the call made through
it) to the row's parameters, follows a twin row to the rule it shares, and turns a use
whose meaning depends on keywords the code does not show into `unsure`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

from estimator_metrics.migrate import _rules_calibration as calibration
from estimator_metrics.migrate import _rules_contrib as contrib
from estimator_metrics.migrate import _rules_handbuilt as handbuilt
from estimator_metrics.migrate import _rules_indirect as indirect
from estimator_metrics.migrate import _rules_keras as keras
from estimator_metrics.migrate import _rules_tf_metrics as tf_metrics
from estimator_metrics.migrate import _rules_v1 as v1
from estimator_metrics.migrate._context import Context
from estimator_metrics.migrate._indirect import Indirect
from estimator_metrics.migrate._model import Finding, Kind, Status
from estimator_metrics.migrate._rule import Call, Rule, candidate, fixed
from estimator_metrics.migrate._uses import Use, uses

TABLE: Mapping[str, Rule] = {
    **v1.TABLE,
    **contrib.TABLE,
    **tf_metrics.TABLE,
    **keras.TABLE,
    **handbuilt.TABLE,
    **calibration.TABLE,
    **indirect.TABLE,
}


#: The docs section of uses whose keywords hide in a `**kwargs` the code does not show.
UNSEEN = "migrate.md#unseen-keywords"


def addresses() -> list:
    """Every docs section a finding can point at ("page.md#anchor")."""
    return sorted({rule.docs for rule in TABLE.values() if rule.docs} | {UNSEEN})


def all_uses(ctx: Context) -> Iterator[Use]:
    """Every use in the module: calls, names and Keras objects, then hand-built metrics."""
    yield from uses(ctx.module)
    yield from Indirect(ctx.module).uses()
    fbetas = []
    for match in ctx.handbuilt.fbetas():
        fbetas.append(match.node)
        if match.half == 0:  # The update half belongs to the same metric.
            yield Use(Kind.HAND_BUILT, match.node, match.function, "hand-built F-beta", match=match)
    skip = {id(node) for node in fbetas}
    for match in ctx.handbuilt.counters(skip):
        yield Use(Kind.HAND_BUILT, match.node, match.function, "hand-built counters", match=match)


def rule_for(key: str) -> tuple[str, Rule]:
    """`(key, rule)` of a qualified name: its own row, else its family's `.*` row."""
    if key in TABLE:
        return key, TABLE[key]
    prefix = key.rpartition(".")[0]
    return prefix + ".*", TABLE[prefix + ".*"]


def short(key: str) -> str:
    """The metric's own name in a key: `accuracy` for `tf.compat.v1.metrics.accuracy`."""
    return key.rpartition(".")[2] if key.startswith(("tf", "estimator_metrics")) else key


def classify(use: Use, ctx: Context) -> Finding:
    """The finding of one use."""
    _, row = rule_for(use.key)
    rule, name = row, short(use.key)
    held = []  # Why this use is suggested but not rewritten, beyond what its rule says.
    if row.twin:
        _, shared = rule_for(row.twin)
        rule = dataclasses.replace(
            shared, params=row.params, suggest_only=row.suggest_only, depends_on=row.depends_on
        )
        name = short(row.twin)
        held.append(row.suggest_only)
    if use.kind is Kind.REFERENCE:
        held.append(use.why_not)
    call = Call(use, ctx, {}, use.label, name, use.call, rule.suggest_only, rule.docs)
    if rule.params is not None and use.call is not None:
        bound, spread, unseen = ctx.values.bind(use.call, rule.params)
        if bound is None or (unseen and any(key not in bound for key in rule.depends_on)):
            return _unsure(call, rule, spread, bound)
        call.bound = bound
        if spread:
            held.append(f"not rewritten: arguments come from {spread}")
    elif use.kind is Kind.REFERENCE:
        return call.finding(Status.UNSURE, f"see the docs ({name})", "unknown", held)
    call.suggest_only = "; ".join(held) or rule.suggest_only
    finding = _apply(rule, call)
    if held:
        finding.fix, finding.edits, finding.imports = None, {}, ()
        finding.notes += [note for note in held if note not in finding.notes]
    return finding


def _apply(rule: Rule, call: Call) -> Finding:
    if rule.transform is not None:
        return rule.transform(call)
    if rule.keras is not None:
        return candidate(call, rule)
    return fixed(call, rule)


def _unsure(call: Call, rule: Rule, spread: str, bound: dict | None) -> Finding:
    """A use whose arguments the code does not show: never migratable on a guess."""
    missing = [key for key in rule.depends_on if bound is None or key not in bound]
    what = spread or "*args/**kwargs the code does not show"
    call.docs = UNSEEN
    return call.finding(
        Status.UNSURE,
        f"see the docs ({call.name})",
        "unknown",
        [
            f"arguments come from {what}: "
            + (
                f"{', '.join(missing)} change what it computes, and the code does not show them"
                if missing
                else "the code does not show them"
            ),
            "not rewritten: not analysed",
        ],
    )
