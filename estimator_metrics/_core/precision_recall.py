"""`precision`, `recall`, and `precision_recall_fbeta`: all three from one confusion state.

The builders take every option, mode, input layout and check of `fbeta` and keep its state:
one float64 `counts` variable and one counting update, from which each computes its score
(`scores`). `precision_recall_fbeta` builds that state once for the three.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import tensorflow as tf

from estimator_metrics._core import arguments as _arguments
from estimator_metrics._core import state as _state
from estimator_metrics._core.confusion import confusion_options
from estimator_metrics._core.keys import MetricKeys
from estimator_metrics._core.scores import (
    FBETA,
    METRICS,
    PRECISION,
    RECALL,
    streaming_score,
    streaming_scores,
)

PRECISION_RECALL_FBETA = MetricKeys.PRECISION_RECALL_FBETA


def precision(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    *,
    num_classes: int | None = None,
    average: str | None = "binary",
    classes: Sequence[int] | None = None,
    threshold: float = 0.5,
    multilabel: bool = False,
    zero_division: float = 0,
    metrics_collections: Iterable[str] | None = None,
    updates_collections: Iterable[str] | None = None,
    name: str | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Streaming precision, tp / (tp + fp), as a `(value, update_op)` pair.

    Equals `sklearn.metrics.precision_score(y, y_pred, average=average,
    labels=classes or range(C), sample_weight=weights, zero_division=zero_division)` over
    all batches seen. The modes, input layouts, options and checks are those of
    `builders.fbeta` (binary, multiclass, multilabel; `average="samples"` for multilabel),
    and so is the state: one float64 variable `counts` of true positives, false positives
    and false negatives.

    Args:
      labels: True classes, as for `fbeta`.
      predictions: Scores, probabilities or ids, as for `fbeta`.
      weights: Optional non-negative weights: a scalar, of length 1, or the shape of the
        class ids or its leading axes ([B] per example; per example only with "samples").
      num_classes: Number of classes C; needed for multiclass.
      average: "binary", "micro", "macro", "weighted", "samples" (multilabel), or None
        (per-class [C]).
      classes: Optional class ids to report on (scikit-learn's `labels=`, tf_metrics'
        `pos_indices`). Not with average="binary".
      threshold: Probability cut-off in (0, 1) for probability predictions.
      multilabel: Whether each example may belong to several classes.
      zero_division: The precision of a class (or example) with no predicted positive:
        0, 1 or `float("nan")` (left out of the averages).
      metrics_collections: Collections to add `value` to.
      updates_collections: Collections to add `update_op` to.
      name: Name scope, default "precision".

    Returns:
      `(value, update_op)`: float64 tensors, scalars (or [C], [len(classes)], for
      `average=None`); `zero_division` while there is no data.

    Raises:
      ValueError: As `fbeta`: options out of range or that do not define one precision,
        static shapes that cannot fit; `tf.errors.InvalidArgumentError` at run time.
      TypeError: An option or input of the wrong type.
      RuntimeError: Called under eager execution.

    Example:
      >>> import tensorflow as tf
      >>> from estimator_metrics import builders
      >>> with tf.Graph().as_default():
      ...     value, update = builders.precision([1, 0, 1, 1], [0.9, 0.6, 0.4, 0.3])
      ...     with tf.compat.v1.Session() as sess:
      ...         sess.run(tf.compat.v1.local_variables_initializer())
      ...         _ = sess.run(update)
      ...         print(round(float(sess.run(value)), 4))
      0.5
    """
    return streaming_score(
        PRECISION,
        labels,
        predictions,
        weights,
        num_classes=num_classes,
        average=average,
        classes=classes,
        threshold=threshold,
        multilabel=multilabel,
        zero_division=zero_division,
        metrics_collections=metrics_collections,
        updates_collections=updates_collections,
        name=name,
    )


def recall(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    *,
    num_classes: int | None = None,
    average: str | None = "binary",
    classes: Sequence[int] | None = None,
    threshold: float = 0.5,
    multilabel: bool = False,
    zero_division: float = 0,
    metrics_collections: Iterable[str] | None = None,
    updates_collections: Iterable[str] | None = None,
    name: str | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Streaming recall, tp / (tp + fn), as a `(value, update_op)` pair.

    Equals `sklearn.metrics.recall_score(y, y_pred, average=average,
    labels=classes or range(C), sample_weight=weights, zero_division=zero_division)` over
    all batches seen. The modes, input layouts, options, checks and state are those of
    `builders.fbeta` and `builders.precision`.

    Args:
      labels: True classes, as for `fbeta`.
      predictions: Scores, probabilities or ids, as for `fbeta`.
      weights: Optional non-negative weights: a scalar, of length 1, or the shape of the
        class ids or its leading axes ([B] per example; per example only with "samples").
      num_classes: Number of classes C; needed for multiclass.
      average: "binary", "micro", "macro", "weighted", "samples" (multilabel), or None
        (per-class [C]).
      classes: Optional class ids to report on (scikit-learn's `labels=`, tf_metrics'
        `pos_indices`). Not with average="binary".
      threshold: Probability cut-off in (0, 1) for probability predictions.
      multilabel: Whether each example may belong to several classes.
      zero_division: The recall of a class (or example) with no true positive: 0, 1 or
        `float("nan")` (left out of the averages).
      metrics_collections: Collections to add `value` to.
      updates_collections: Collections to add `update_op` to.
      name: Name scope, default "recall".

    Returns:
      `(value, update_op)`: float64 tensors, scalars (or [C], [len(classes)], for
      `average=None`); `zero_division` while there is no data.

    Raises:
      ValueError: As `fbeta`: options out of range or that do not define one recall,
        static shapes that cannot fit; `tf.errors.InvalidArgumentError` at run time.
      TypeError: An option or input of the wrong type.
      RuntimeError: Called under eager execution.

    Example:
      >>> import tensorflow as tf
      >>> from estimator_metrics import builders
      >>> with tf.Graph().as_default():
      ...     value, update = builders.recall([1, 0, 1, 1], [0.9, 0.6, 0.4, 0.3])
      ...     with tf.compat.v1.Session() as sess:
      ...         sess.run(tf.compat.v1.local_variables_initializer())
      ...         _ = sess.run(update)
      ...         print(round(float(sess.run(value)), 4))
      0.3333
    """
    return streaming_score(
        RECALL,
        labels,
        predictions,
        weights,
        num_classes=num_classes,
        average=average,
        classes=classes,
        threshold=threshold,
        multilabel=multilabel,
        zero_division=zero_division,
        metrics_collections=metrics_collections,
        updates_collections=updates_collections,
        name=name,
    )


def precision_recall_fbeta(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    *,
    beta: float = 1.0,
    num_classes: int | None = None,
    average: str | None = "binary",
    classes: Sequence[int] | None = None,
    threshold: float = 0.5,
    multilabel: bool = False,
    zero_division: float = 0,
    key_prefix: str = "",
    metrics_collections: Iterable[str] | None = None,
    updates_collections: Iterable[str] | None = None,
    name: str | None = None,
) -> dict[str, tuple[tf.Tensor, tf.Tensor]]:
    """Precision, recall and F-beta from one state and one counting update.

    What a classifier's model_fn reports together, for the price of one `fbeta`: one
    float64 `counts` variable and one update op that counts the batch; the three update
    ops are the three scores of the state it returns. Equals
    `sklearn.metrics.precision_recall_fscore_support(y, y_pred, beta=beta,
    average=average, labels=classes or range(C), sample_weight=weights,
    zero_division=zero_division)[:3]`. Modes, input layouts, options and checks are
    those of `builders.fbeta`.

    Args:
      labels: True classes, as for `fbeta`.
      predictions: Scores, probabilities or ids, as for `fbeta`.
      weights: Optional non-negative weights, as for `fbeta`.
      beta: Weight of recall against precision in F-beta, > 0.
      num_classes: Number of classes C; needed for multiclass.
      average: "binary", "micro", "macro", "weighted", "samples" (multilabel), or None
        (per-class [C]).
      classes: Optional class ids to report on (scikit-learn's `labels=`, tf_metrics'
        `pos_indices`). Not with average="binary".
      threshold: Probability cut-off in (0, 1) for probability predictions.
      multilabel: Whether each example may belong to several classes.
      zero_division: The value of a score where it is undefined: 0, 1 or
        `float("nan")`, as for `fbeta`.
      key_prefix: Put before each key, so that several triples fit one
        `eval_metric_ops`: "ner/" gives "ner/precision", "ner/recall", "ner/fbeta".
      metrics_collections: Collections to add the three values to.
      updates_collections: Collections to add the three update ops to.
      name: Name scope, default "precision_recall_fbeta".

    Returns:
      `{key_prefix + "precision": (value, update_op), key_prefix + "recall": ...,
      key_prefix + "fbeta": ...}`, in that order: float64 tensors as `fbeta`'s, ready to
      merge into `eval_metric_ops`.

    Raises:
      ValueError: As `fbeta`.
      TypeError: An option or input of the wrong type, or a `key_prefix` that is no str.
      RuntimeError: Called under eager execution.

    Example:
      >>> import tensorflow as tf
      >>> from estimator_metrics import builders
      >>> with tf.Graph().as_default():
      ...     ops = builders.precision_recall_fbeta(
      ...         [0, 1, 2, 2], [0, 2, 2, 2], num_classes=3, average="macro", key_prefix="tags/"
      ...     )
      ...     with tf.compat.v1.Session() as sess:
      ...         sess.run(tf.compat.v1.local_variables_initializer())
      ...         _ = sess.run([update for _, update in ops.values()])
      ...         values = sess.run({key: value for key, (value, _) in ops.items()})
      >>> {key: round(float(value), 4) for key, value in values.items()}
      {'tags/precision': 0.5556, 'tags/recall': 0.6667, 'tags/fbeta': 0.6}
    """
    _state.require_graph("precision_recall_fbeta")
    options = confusion_options(
        beta=beta,
        num_classes=num_classes,
        average=average,
        classes=classes,
        threshold=threshold,
        multilabel=multilabel,
        zero_division=zero_division,
    )
    prefix = _arguments.key_prefix(key_prefix)
    with tf.compat.v1.name_scope(_arguments.check_name(name, PRECISION_RECALL_FBETA)):
        pairs = streaming_scores(
            labels,
            predictions,
            weights,
            options,
            {metric: metric for metric in METRICS},
            metrics_collections,
            updates_collections,
        )
    return {prefix + metric: pairs[metric] for metric in (PRECISION, RECALL, FBETA)}
