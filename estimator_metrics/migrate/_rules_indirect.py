"""migrate: calls through a name that holds one of several metric functions, or one looked
up by name (`getattr(tf.metrics, name)(...)`): which metric runs is only known at run time."""

from __future__ import annotations

from estimator_metrics.migrate._indirect import CHOSEN_AT_RUN_TIME
from estimator_metrics.migrate._model import Finding, Status
from estimator_metrics.migrate._rule import Call, Rule


def chosen_at_run_time(call: Call) -> Finding:
    held = call.use.why_not
    several = not held.startswith("`")
    return call.finding(
        Status.UNSURE,
        "one adapter.from_keras(<its Keras metric>, labels, predictions) per metric function "
        "it may call (each is reported where it is named)"
        if several
        else "one adapter.from_keras(<Keras metric>, labels, predictions) or builder per "
        "metric name, named in the code",
        "unknown",
        [
            (f"it calls one of {held}" if several else held)
            + ": which one runs is only known at run time",
            "not rewritten: the metric is only known at run time",
        ],
    )


TABLE = {CHOSEN_AT_RUN_TIME: Rule(transform=chosen_at_run_time, docs="migrate.md#indirect-uses")}
