"""`estimator-metrics migrate PATH...`: find every Estimator metric, say what it becomes.

Reads Python files with LibCST without importing or running them (and without
TensorFlow), reports each metric use with its status and replacement, and with
`--write` rewrites the exactly equivalent ones in place (`--fix-wrong`: also
the wrong ones) when every use of the metric's pair accepts the new one.
Exit status: 0 when nothing needs attention, 1 when something does (a file
that cannot be parsed, or a use whose status is not `ok` and that this run
did not rewrite), 2 for usage errors (argparse, in `estimator_metrics.cli`).

Modules (all private): `_model` (statuses, actions, findings), `_names` (what a
dotted path names), `_module` (functions, roles, names, uses), `_values` (what
an argument is), `_handbuilt` (metrics built by hand), `_pairs` (uses of a
metric pair), `_rule`, `_rules_v1`, `_rules_keras`, `_rules_more` and
`_registry` (the rules and their one registry), `_context`, `_edit`
(rewrites and layout), `_report`, `_run` (the command).
"""

from estimator_metrics.migrate._model import Action, FileResult, Finding, Fix, Kind, Status
from estimator_metrics.migrate._run import analyze, plan, run

__all__ = ["Action", "FileResult", "Finding", "Fix", "Kind", "Status", "analyze", "plan", "run"]
