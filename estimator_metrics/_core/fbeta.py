"""`fbeta`: streaming F-beta from the confusion state it shares with precision and recall."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import tensorflow as tf

from estimator_metrics._core import arguments as _arguments
from estimator_metrics._core.keys import MetricKeys
from estimator_metrics._core.scores import streaming_score

FBETA = MetricKeys.FBETA
AVERAGES = _arguments.AVERAGES


def fbeta(
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
    metrics_collections: Iterable[str] | None = None,
    updates_collections: Iterable[str] | None = None,
    name: str | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Streaming F-beta score as a `(value, update_op)` pair.

    Equals `sklearn.metrics.fbeta_score(y, y_pred, beta=beta, average=average,
    labels=classes or range(C), sample_weight=weights, zero_division=zero_division)` over
    all batches seen. State: one float64 variable `counts` [3, C] of per-class true
    positives, false positives and false negatives ([3], class 1 only, for
    average="binary"; [3, 3] for average="samples"), the state `precision` and `recall`
    keep too (`precision_recall_fbeta` computes all three from one).

    Modes, by arguments:
      * binary (`average="binary"`, positive class 1): float probabilities
        [B] or [B, 1] give `y_pred = predictions > threshold`; integer or bool
        predictions are 0/1 ids; with `num_classes=2`, float [B, 2] scores
        give `argmax`.
      * multiclass (`num_classes=C`, `average` micro/macro/weighted/None):
        `argmax` of float [..., C] scores, or integer class ids [...].
      * multilabel (`multilabel=True`): 0/1 labels [B, C], predictions [B, C]
        probabilities (`> threshold`) or 0/1 ids; `average` micro/macro/weighted/None,
        or "samples": the score of each example's predicted set against its true set,
        averaged over examples weighted by `weights` (per example: [B] or a scalar).
      Labels are class ids ([B] or [B, 1], [B, T] for sequences), or one-hot with one axis
      more than the predicted ids, in the first two. Shapes the static graph leaves open
      (`None` dimensions, unknown rank) are read when the update runs, and checked.

    Args:
      labels: True classes, see modes.
      predictions: Scores, probabilities or ids, see modes.
      weights: Optional non-negative weights: a scalar, of length 1, or the shape of the
        class ids or its leading axes ([B] per example).
      beta: Weight of recall against precision, > 0.
      num_classes: Number of classes C; needed for multiclass.
      average: "binary", "micro", "macro", "weighted", "samples" (multilabel), or None
        (per-class [C]).
      classes: Optional class ids to report on (scikit-learn's `labels=`, tf_metrics'
        `pos_indices`): micro sums only their counts, macro and weighted average only
        them, None returns their scores in this order. Not with average="binary".
      threshold: Probability cut-off in (0, 1) for probability predictions.
      multilabel: Whether each example may belong to several classes.
      zero_division: The score where it is undefined (no true positive, false positive or
        false negative of a class, or of an example with "samples"): 0, 1 or
        `float("nan")`; NaN scores are left out of the averages, as scikit-learn does.
      metrics_collections: Collections to add `value` to.
      updates_collections: Collections to add `update_op` to.
      name: Name scope, default "fbeta".

    Returns:
      `(value, update_op)`: float64 tensors, scalars (or [C], [len(classes)], for
      `average=None`); `zero_division` (0.0 by default) while there is no data.

    Raises:
      ValueError: An option out of its range, or options that do not define one F-beta;
        static shapes that cannot fit. Shapes and values known only when the update runs
        raise `tf.errors.InvalidArgumentError` there, naming the argument.
      TypeError: An option or input of the wrong type.
      RuntimeError: Called under eager execution.

    Example:
      >>> import tensorflow as tf
      >>> from estimator_metrics import builders
      >>> with tf.Graph().as_default():
      ...     f1, update = builders.fbeta([1, 0, 1, 1], [0.9, 0.6, 0.4, 0.8])
      ...     with tf.compat.v1.Session() as sess:
      ...         sess.run(tf.compat.v1.local_variables_initializer())
      ...         _ = sess.run(update)
      ...         print(round(float(sess.run(f1)), 4))
      0.6667
    """
    return streaming_score(
        FBETA,
        labels,
        predictions,
        weights,
        beta=beta,
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
