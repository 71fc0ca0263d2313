"""Uses of a metric pair: each form rewritten (every use accepts `adapter.from_keras`'
float32 value and update-op Tensor) or refused with the use that would break.

tests/migrate/test_migrate_estimator.py runs the rewritten fixture
(fixtures/pair_uses.py) in a real Estimator, TRAIN and EVAL."""

from __future__ import annotations

import re

import pytest

from estimator_metrics.migrate import Action, Status
from support.migrate import module_code, plan

WIDE = (
    "import tensorflow as tf\nfrom estimator_metrics import adapter\n# "
    + "A long line, so that nothing below needs wrapping. " * 2
    + "." * 14
)
ACCURACY = "tf.compat.v1.metrics.accuracy(labels, tf.argmax(features['logits'], -1))"
KERAS = "adapter.from_keras(tf.keras.metrics.Accuracy(), labels, tf.argmax(features['logits'], -1))"
SPEC = "return tf.estimator.EstimatorSpec(mode, loss=features['loss'], eval_metric_ops=ops)"

#: (id, model_fn body using `{metric}`): every use stays valid, so it is rewritten.
REWRITTEN = [
    (
        "identity_of_update_op",
        "acc = {metric}\ntf.identity(acc[1], name='accuracy_update')\nops = {{'acc': acc}}\n"
        + SPEC,
    ),
    (
        "summary_of_update_op",
        "acc = {metric}\ntf.compat.v1.summary.scalar('accuracy', acc[1])\nops = {{'acc': acc}}\n"
        + SPEC,
    ),
    (
        "summary_of_dict_entry",
        "ops = {{'accuracy': {metric}}}\ntf.summary.scalar('accuracy', ops['accuracy'][1])\n"
        + SPEC,
    ),
    (
        "float32_arithmetic",
        "acc = {metric}\nops = {{'error': (1.0 - acc[0], acc[1]), 'twice': (acc[0] + acc[0], "
        "acc[1])}}\n" + SPEC,
    ),
    (
        "group_of_update_ops",
        "acc = {metric}\ntrain_op = tf.group(features['step'], acc[1])\nops = {{'acc': acc}}\n"
        "return tf.estimator.EstimatorSpec(mode, loss=features['loss'], train_op=train_op, "
        "eval_metric_ops=ops)",
    ),
    ("unpacked", "acc, acc_op = {metric}\nops = {{'acc': (acc, acc_op)}}\n" + SPEC),
    (
        "loop_over_the_metric_dict",
        "ops = {{'accuracy': {metric}}}\nfor name, pair in ops.items():\n"
        "    tf.compat.v1.summary.scalar(name, pair[1])\n" + SPEC,
    ),
    ("returned_from_a_helper", "return {{'accuracy': {metric}}}"),
    (
        "dict_comprehension",
        "ops = {{\n    name: {metric}\n    for name in ('a', 'b')\n}}\n"
        "for name, pair in ops.items():\n    tf.compat.v1.summary.scalar(name, pair[1])\n"
        "ops.update({{'twice': (ops['a'][0] * 2.0, ops['a'][1])}})\n" + SPEC,
    ),
]


@pytest.mark.parametrize("body", [r[1] for r in REWRITTEN], ids=[r[0] for r in REWRITTEN])
def test_pair_uses_that_stay_valid_are_rewritten(body):
    findings, new_text = plan(module_code(body.format(metric=ACCURACY), WIDE))
    assert [(f.status, f.action) for f in findings] == [(Status.MIGRATABLE, Action.REWRITTEN)]
    assert new_text == module_code(body.format(metric=KERAS), WIDE)


#: (id, model_fn body using `{metric}`, the use named in the reason, whether it would break:
#: "a use would break" only where the rewrite breaks it, else the use is not followed)
REFUSED = [
    (
        "passed_to_an_unknown_helper",
        "acc = {metric}\nlog_metric('accuracy', acc)\nops = {{'acc': acc}}\n" + SPEC,
        "the pair is passed to `log_metric('accuracy', acc)`",
        False,
    ),
    (
        "element_passed_to_an_unknown_helper",
        "acc = {metric}\nlog_value(acc[0])\nops = {{'acc': acc}}\n" + SPEC,
        "passed to `log_value(acc[0])`",
        False,
    ),
    (
        "name_of_the_update_op",
        "acc = {metric}\ntf.compat.v1.logging.info(acc[1].name)\nops = {{'acc': acc}}\n" + SPEC,
        "reads a name",
        True,
    ),
    (
        "graph_lookup_by_name",
        "acc = {metric}\nops = {{'acc': acc}}\n"
        "total = tf.compat.v1.get_default_graph().get_tensor_by_name('accuracy/total:0')\n" + SPEC,
        "reads graph elements by name",
        False,
    ),
    (
        "assigned_twice",
        "acc = {metric}\nacc = (acc[0] * 2.0, acc[1])\nops = {{'acc': acc}}\n" + SPEC,
        "assigned more than once",
        False,
    ),
    (
        "metric_dict_passed_on",
        "ops = {{'accuracy': {metric}}}\nlog_all(ops)\n" + SPEC,
        "the metric dict is passed to `log_all(ops)`",
        False,
    ),
    (
        "comprehension_dict_passed_on",
        "ops = {{name: {metric} for name in ('a', 'b')}}\nlog_all(ops)\n" + SPEC,
        "the metric dict is passed to `log_all(ops)`",
        False,
    ),
    (
        "dict_entries_in_a_comprehension",
        "ops = {{'accuracy': {metric}}}\nupdates = [pair[1] for pair in ops.values()]\n" + SPEC,
        "the metric dict's entries are read in",
        False,
    ),
    (
        "subscript_assigned_under_a_computed_key",
        "acc = {metric}\nops = {{}}\nops[features['name']] = acc\n" + SPEC,
        "assigned to `ops[features['name']]`",
        False,
    ),
    (
        "session_run",
        "acc = {metric}\nsession.run(acc)\nops = {{'acc': acc}}\n" + SPEC,
        "the pair is passed to `session.run(acc)`",
        False,
    ),
]


@pytest.mark.parametrize("body, use, breaks", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_pair_uses_that_could_break_block_the_rewrite(body, use, breaks):
    findings, new_text = plan(module_code(body.format(metric=ACCURACY), WIDE))
    assert new_text is None
    assert [(f.status, f.action) for f in findings] == [(Status.MIGRATABLE, Action.REPORT_ONLY)]
    reason = findings[0].notes[-1]
    prefix = "not rewritten, a use would break: " if breaks else "not rewritten: "
    assert reason.startswith(prefix) and use in reason, reason
    assert ("would break" in reason) == breaks, reason
    assert re.search(r"\(lines? \d", reason), reason  # Names the use's line.


def test_float64_builders_name_the_uses_that_need_a_cast():
    """Suggestions of a float64 builder say which uses of the float32 pair need tf.cast."""
    body = (
        "mape = tf.compat.v1.metrics.mean(tf.abs((labels - features['p']) / labels))\n"
        "tf.summary.scalar('mape', mape[1])\n"
        "ops = {'mape': mape, 'loss_plus_mape': (features['loss'] + mape[0], mape[1]),\n"
        "       'percent': (mape[0] * 100.0, mape[1])}\n" + SPEC
    )
    findings, _ = plan(module_code(body, WIDE))
    assert [f.status for f in findings] == [Status.FLOAT32]
    note = findings[0].notes[-1]
    assert note.startswith("builders.mape returns float64 tensors; before switching, check: ")
    assert "`features['loss'] + mape[0]` (line 9) does float32 arithmetic" in note
    assert "summary" not in note and "mape[0] * 100.0" not in note  # Those accept float64.


def test_float64_builders_accept_summaries_and_metric_dicts():
    body = (
        "f = tf_metrics.f1(labels, features['ids'], 5, [1, 2], features['mask'])\n"
        "tf.compat.v1.summary.scalar('f1', f[1])\nops = {'f1': f}\n" + SPEC
    )
    findings, _ = plan(module_code(body, WIDE + "\nimport tf_metrics"))
    assert findings[0].notes[-2] == (
        "every use of this pair in the function accepts builders.fbeta's float64 tensors"
    )
