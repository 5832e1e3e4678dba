"""Confusion-matrix counting for the threshold metrics (Keras's ``metrics_utils.py``).

For each threshold ``t`` a prediction counts as positive when ``y_pred > t``; each count is the
sum of the sample weights of the matching (label, prediction) pairs.  Labels are booleans (any
non-zero label is positive).

Two ways of counting, chosen as Keras chooses them (the results can differ for predictions lying
exactly on a threshold):

* **direct** (:func:`_counts_direct`): compare every prediction with every threshold;
* **bucketed** (:func:`_counts_bucketed`), used when the thresholds are evenly spaced over
  ``[0, 1]`` (e.g. AUC's default ``t_i = i / (n - 1)``): prediction ``p`` (clipped to ``[0, 1]``)
  falls in bucket ``ceil(p (n - 1)) - 1`` and is positive for every threshold up to its bucket, so
  ``tp = reverse_cumsum(bucket_sums(true labels))``.
"""

from __future__ import annotations

import numpy as np

from refkeras import config
from refkeras.metrics.reduction_metrics import as_array, same_rank

NEG_INF = -1e10
CONDITIONS = ("tp", "fp", "tn", "fn")


# --- thresholds ---------------------------------------------------------------------------------


def parse_init_thresholds(thresholds, default_threshold=0.5) -> list:
    """``thresholds`` as a list (``default_threshold`` when ``None``); each must be in [0, 1]."""
    if thresholds is not None:
        values = list(thresholds) if isinstance(thresholds, list | tuple) else [thresholds]
        invalid = [t for t in values if t is None or t < 0 or t > 1]
        if invalid:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    chosen = default_threshold if thresholds is None else thresholds
    return list(chosen) if isinstance(chosen, list | tuple) else [chosen]


def is_evenly_distributed_thresholds(thresholds) -> bool:
    """Whether ``thresholds`` are ``i / (n - 1)`` for ``i = 0 .. n-1`` (within epsilon), n >= 3."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=config.epsilon()))


# --- counting -----------------------------------------------------------------------------------


def update_confusion_matrix_variables(
    variables_to_update: dict,
    y_true,
    y_pred,
    thresholds,
    top_k=None,
    class_id=None,
    sample_weight=None,
    multi_label=False,
    label_weights=None,
    thresholds_distributed_evenly=False,
) -> None:
    """Add the weighted counts of ``y_true``/``y_pred`` at each threshold to the variables in
    ``variables_to_update`` (keys among ``"tp"``, ``"fp"``, ``"tn"``, ``"fn"``).

    Args:
        y_true, y_pred: labels and scores; ``(batch, ...)``.  Without ``multi_label`` all entries
            are pooled; with it ``y_pred`` is ``(batch, num_labels)`` and each label is counted
            separately (variables of shape ``(num_thresholds, num_labels)``).
        thresholds: the decision thresholds.
        top_k: keep only each row's ``k`` largest scores (the rest become ``-1e10``).
        class_id: count only column ``class_id`` of ``(batch, num_classes)`` inputs.
        sample_weight: broadcastable to ``y_pred`` (a ``(batch,)`` vector weighs each sample).
        label_weights: per-label weights (not with ``multi_label``).
        thresholds_distributed_evenly: use the bucketed count.
    """
    if multi_label and label_weights is not None:
        raise ValueError(
            "`label_weights` for multilabel data should be handled "
            "outside of `update_confusion_matrix_variables` when "
            "`multi_label` is True."
        )
    invalid_keys = [key for key in variables_to_update if key not in CONDITIONS]
    if invalid_keys or not variables_to_update:
        raise ValueError(
            f'Invalid keys: "{invalid_keys}". Valid variable key options are: "{list(CONDITIONS)}"'
        )
    dtype = next(iter(variables_to_update.values())).dtype
    y_true = as_array(y_true).astype(dtype)
    y_pred = as_array(y_pred).astype(dtype)
    thresholds_with_epsilon = bool(thresholds[0] < 0.0 or thresholds[-1] > 1.0)
    thresholds = np.asarray(thresholds, dtype=dtype)

    y_pred, y_true = same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = np.expand_dims(as_array(sample_weight).astype(dtype), axis=-1)
        _, sample_weight = same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array "
                "with shape (num_samples, num_classes), found shape: "
                f"{y_pred.shape}"
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    if label_weights is not None:
        label_weights = np.broadcast_to(np.asarray(label_weights, dtype=dtype)[None], y_pred.shape)
    if sample_weight is not None:
        sample_weight = np.broadcast_to(sample_weight, y_pred.shape)

    count = _counts_bucketed if thresholds_distributed_evenly else _counts_direct
    counts = count(
        y_true,
        y_pred,
        thresholds,
        sample_weight,
        label_weights,
        multi_label,
        thresholds_with_epsilon,
    )
    for key, variable in variables_to_update.items():
        variable.assign(variable.numpy() + counts[key].astype(dtype))


def _counts_direct(y_true, y_pred, thresholds, sample_weight, label_weights, multi_label, _eps):
    """``{tp, fp, tn, fn}`` at each threshold by comparing ``y_pred > threshold``."""
    dtype = y_pred.dtype
    if multi_label:  # (T, batch, labels), counts summed over the batch axis
        pred_is_pos = y_pred[None] > thresholds[:, None, None]
        label_is_pos = np.broadcast_to(y_true.astype(bool)[None], pred_is_pos.shape)
        weights = None if sample_weight is None else sample_weight[None]
    else:  # (T, all entries)
        pred_is_pos = y_pred.reshape(1, -1) > thresholds[:, None]
        label_is_pos = np.broadcast_to(y_true.astype(bool).reshape(1, -1), pred_is_pos.shape)
        weights = None if sample_weight is None else sample_weight.reshape(1, -1)
        if label_weights is not None:
            lw = label_weights.reshape(1, -1)
            weights = lw if weights is None else weights * lw

    def weighted_sum(label, pred):
        both = np.logical_and(label, pred)
        if weights is None:
            return np.sum(both.astype(dtype), axis=1)
        return np.sum(np.where(both, weights.astype(dtype), np.zeros((), dtype)), axis=1)

    return {
        "tp": weighted_sum(label_is_pos, pred_is_pos),
        "fp": weighted_sum(~label_is_pos, pred_is_pos),
        "tn": weighted_sum(~label_is_pos, ~pred_is_pos),
        "fn": weighted_sum(label_is_pos, ~pred_is_pos),
    }


def _counts_bucketed(y_true, y_pred, thresholds, sample_weight, label_weights, multi_label, eps):
    """``{tp, fp, tn, fn}`` for evenly spaced thresholds by bucketing the predictions.

    With ``eps`` (thresholds ``-epsilon`` and ``1 + epsilon`` at the ends, as AUC's) bucket
    ``-1`` (a prediction of exactly 0) is raised to 0; otherwise such predictions count nowhere.
    """
    dtype = y_pred.dtype
    num_thresholds = len(thresholds)
    weights = np.ones((), dtype)
    if sample_weight is not None:
        weights = weights * sample_weight
    if label_weights is not None:
        weights = weights * label_weights
    y_pred = np.clip(y_pred, 0.0, 1.0).astype(dtype)
    y_true = (y_true != 0).astype(dtype)
    true_labels = y_true * weights
    false_labels = (1.0 - y_true) * weights
    bucket = np.ceil(y_pred * (np.asarray(num_thresholds, dtype) - 1)) - 1
    if eps:
        bucket = np.maximum(bucket, 0)
    bucket = bucket.astype(np.int64)
    if not multi_label:  # one column
        true_labels = np.broadcast_to(true_labels, bucket.shape).reshape(-1, 1)
        false_labels = np.broadcast_to(false_labels, bucket.shape).reshape(-1, 1)
        bucket = bucket.reshape(-1, 1)
    else:
        true_labels = np.broadcast_to(true_labels, bucket.shape)
        false_labels = np.broadcast_to(false_labels, bucket.shape)

    def bucket_then_reverse_cumsum(labels):
        sums = np.zeros((num_thresholds, labels.shape[1]), dtype)
        for j in range(labels.shape[1]):
            ok = (bucket[:, j] >= 0) & (bucket[:, j] < num_thresholds)  # others are dropped
            np.add.at(sums[:, j], bucket[ok, j], labels[ok, j])
        return np.flip(np.cumsum(np.flip(sums, 0), axis=0, dtype=dtype), 0)

    tp = bucket_then_reverse_cumsum(true_labels)
    fp = bucket_then_reverse_cumsum(false_labels)
    total_true = np.sum(true_labels, axis=0, dtype=dtype)
    total_false = np.sum(false_labels, axis=0, dtype=dtype)
    counts = {"tp": tp, "fp": fp, "tn": total_false - fp, "fn": total_true - tp}
    if not multi_label:
        counts = {k: v[:, 0] for k, v in counts.items()}
    return counts


def _filter_top_k(x: np.ndarray, k: int) -> np.ndarray:
    """``x`` with all but each row's ``k`` largest entries replaced by ``-1e10`` (first index
    wins ties)."""
    top = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    mask = np.zeros_like(x)
    np.put_along_axis(mask, top, 1.0, axis=-1)
    return x * mask + NEG_INF * (1 - mask)
