"""Metrics built on confusion-matrix counts at thresholds (Keras's ``confusion_metrics.py``):
TruePositives ... FalseNegatives, Precision, Recall, the sensitivity/specificity family and AUC.

Each keeps weighted counts per threshold in its state (see :mod:`refkeras.metrics.metrics_utils`
for how ``update_state`` counts) and computes its result from them.
"""

from __future__ import annotations

import numpy as np

from refkeras import config, ops
from refkeras.metrics.metric import Metric
from refkeras.metrics.metrics_utils import (
    NEG_INF,
    is_evenly_distributed_thresholds,
    parse_init_thresholds,
    update_confusion_matrix_variables,
)
from refkeras.metrics.reduction_metrics import divide_no_nan
from refkeras.saving.object_registration import register_builtin


def _first_or_all(values: np.ndarray, thresholds):
    return ops.convert_to_tensor(values[0] if len(thresholds) == 1 else values)


# --- the counts themselves ----------------------------------------------------------------------


class _ConfusionMatrixConditionCount(Metric):
    """The weighted count of one condition (``"tp"``, ``"fp"``, ``"tn"`` or ``"fn"``) at each
    threshold (``thresholds=None`` means 0.5); a scalar for one threshold."""

    _condition = ""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = parse_init_thresholds(thresholds, default_threshold=0.5)
        self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(self.thresholds)
        self.accumulator = self.add_variable(
            shape=(len(self.thresholds),), initializer="zeros", name="accumulator"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix_variables(
            {self._condition: self.accumulator},
            y_true,
            y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight,
        )

    def result(self):
        return _first_or_all(self.accumulator.numpy(), self.thresholds)

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


@register_builtin("keras.metrics")
class TruePositives(_ConfusionMatrixConditionCount):
    """Weighted count of ``y_true`` positive and ``y_pred > threshold``; ``thresholds=0.5``."""

    _condition = "tp"


@register_builtin("keras.metrics")
class FalsePositives(_ConfusionMatrixConditionCount):
    """Weighted count of ``y_true`` negative and ``y_pred > threshold``; ``thresholds=0.5``."""

    _condition = "fp"


@register_builtin("keras.metrics")
class TrueNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of ``y_true`` negative and ``y_pred <= threshold``; ``thresholds=0.5``."""

    _condition = "tn"


@register_builtin("keras.metrics")
class FalseNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of ``y_true`` positive and ``y_pred <= threshold``; ``thresholds=0.5``."""

    _condition = "fn"


# --- precision and recall -----------------------------------------------------------------------


class _TopKClassIdMetric(Metric):
    """Shared set-up of Precision and Recall: ``thresholds`` (0.5 by default, or ``-1e10`` with
    ``top_k`` so every kept score counts as positive), ``top_k``, ``class_id``, and a
    ``true_positives`` variable of one entry per threshold."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default_threshold = 0.5 if top_k is None else NEG_INF
        self.thresholds = parse_init_thresholds(thresholds, default_threshold=default_threshold)
        self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(self.thresholds)
        self.true_positives = self._counter("true_positives")

    def _counter(self, name: str):
        return self.add_variable(shape=(len(self.thresholds),), initializer="zeros", name=name)

    def _update(self, variables: dict, y_true, y_pred, sample_weight) -> None:
        update_confusion_matrix_variables(
            variables,
            y_true,
            y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            top_k=self.top_k,
            class_id=self.class_id,
            sample_weight=sample_weight,
        )

    def reset_state(self):
        for v in self.variables:
            v.assign(np.zeros((len(self.thresholds),)))

    def get_config(self) -> dict:
        config = {
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }
        return {**super().get_config(), **config}


@register_builtin("keras.metrics")
class Precision(_TopKClassIdMetric):
    """``precision = tp / (tp + fp)`` (0 when nothing was predicted positive), per threshold.

    Args:
        thresholds: a float or list of floats in [0, 1]; ``y_pred > t`` is a positive
            prediction.  Default 0.5 (or, with ``top_k``, every kept score).
        top_k: only each sample's ``k`` highest scores may be positive.
        class_id: only this class (column) is evaluated.
    """

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)
        self.false_positives = self._counter("false_positives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._update(
            {"tp": self.true_positives, "fp": self.false_positives}, y_true, y_pred, sample_weight
        )

    def result(self):
        tp, fp = self.true_positives.numpy(), self.false_positives.numpy()
        return _first_or_all(divide_no_nan(tp, tp + fp), self.thresholds)


@register_builtin("keras.metrics")
class Recall(_TopKClassIdMetric):
    """``recall = tp / (tp + fn)`` (0 when there were no positive labels), per threshold.

    Args as :class:`Precision`.
    """

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)
        self.false_negatives = self._counter("false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._update(
            {"tp": self.true_positives, "fn": self.false_negatives}, y_true, y_pred, sample_weight
        )

    def result(self):
        tp, fn = self.true_positives.numpy(), self.false_negatives.numpy()
        return _first_or_all(divide_no_nan(tp, tp + fn), self.thresholds)


# --- one rate at a constraint on another --------------------------------------------------------


class SensitivitySpecificityBase(Metric):
    """All four counts at ``num_thresholds`` evenly spaced thresholds (``[0.5]`` for one);
    subclasses return the best of one rate among thresholds where another rate >= ``value``."""

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if num_thresholds <= 0:
            raise ValueError(
                "Argument `num_thresholds` must be an integer > 0. "
                f"Received: num_thresholds={num_thresholds}"
            )
        self.value = value
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
            self._thresholds_distributed_evenly = False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
            self._thresholds_distributed_evenly = True
        n = len(self.thresholds)
        self.true_positives = self.add_variable((n,), "zeros", name="true_positives")
        self.false_positives = self.add_variable((n,), "zeros", name="false_positives")
        self.true_negatives = self.add_variable((n,), "zeros", name="true_negatives")
        self.false_negatives = self.add_variable((n,), "zeros", name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix_variables(
            {
                "tp": self.true_positives,
                "tn": self.true_negatives,
                "fp": self.false_positives,
                "fn": self.false_negatives,
            },
            y_true,
            y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            class_id=self.class_id,
            sample_weight=sample_weight,
        )

    def reset_state(self):
        for v in self.variables:
            v.assign(np.zeros((len(self.thresholds),)))

    def get_config(self) -> dict:
        return {**super().get_config(), "class_id": self.class_id}

    def _rates(self) -> dict:
        tp, fp = self.true_positives.numpy(), self.false_positives.numpy()
        tn, fn = self.true_negatives.numpy(), self.false_negatives.numpy()
        return {
            "sensitivity": divide_no_nan(tp, tp + fn),  # = recall
            "specificity": divide_no_nan(tn, tn + fp),
            "precision": divide_no_nan(tp, tp + fp),
        }

    def _find_max_under_constraint(self, constrained, dependent):
        """``max(dependent where constrained >= value)``, 0 if no threshold qualifies."""
        feasible = constrained >= self.value
        best = np.max(np.where(feasible, dependent, 0), initial=0)
        return ops.convert_to_tensor(np.asarray(best, dtype=dependent.dtype))


@register_builtin("keras.metrics")
class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """The best sensitivity (recall) among thresholds whose specificity ``tn / (tn + fp)`` is at
    least ``specificity``; ``num_thresholds=200``."""

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        if specificity < 0 or specificity > 1:
            raise ValueError(
                "Argument `specificity` must be in the range [0, 1]. "
                f"Received: specificity={specificity}"
            )
        self.specificity = specificity
        self.num_thresholds = num_thresholds
        super().__init__(specificity, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self):
        r = self._rates()
        return self._find_max_under_constraint(r["specificity"], r["sensitivity"])

    def get_config(self) -> dict:
        config = {"num_thresholds": self.num_thresholds, "specificity": self.specificity}
        return {**super().get_config(), **config}


@register_builtin("keras.metrics")
class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """The best specificity among thresholds whose sensitivity is at least ``sensitivity``;
    ``num_thresholds=200``."""

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        if sensitivity < 0 or sensitivity > 1:
            raise ValueError(
                "Argument `sensitivity` must be in the range [0, 1]. "
                f"Received: sensitivity={sensitivity}"
            )
        self.sensitivity = sensitivity
        self.num_thresholds = num_thresholds
        super().__init__(sensitivity, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self):
        r = self._rates()
        return self._find_max_under_constraint(r["sensitivity"], r["specificity"])

    def get_config(self) -> dict:
        config = {"num_thresholds": self.num_thresholds, "sensitivity": self.sensitivity}
        return {**super().get_config(), **config}


@register_builtin("keras.metrics")
class PrecisionAtRecall(SensitivitySpecificityBase):
    """The best precision among thresholds whose recall is at least ``recall``;
    ``num_thresholds=200``."""

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        if recall < 0 or recall > 1:
            raise ValueError(
                f"Argument `recall` must be in the range [0, 1]. Received: recall={recall}"
            )
        self.recall = recall
        self.num_thresholds = num_thresholds
        super().__init__(recall, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self):
        r = self._rates()
        return self._find_max_under_constraint(r["sensitivity"], r["precision"])

    def get_config(self) -> dict:
        config = {"num_thresholds": self.num_thresholds, "recall": self.recall}
        return {**super().get_config(), **config}


@register_builtin("keras.metrics")
class RecallAtPrecision(SensitivitySpecificityBase):
    """The best recall among thresholds whose precision is at least ``precision``;
    ``num_thresholds=200``."""

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        if precision < 0 or precision > 1:
            raise ValueError(
                f"Argument `precision` must be in the range [0, 1]. Received: precision={precision}"
            )
        self.precision = precision
        self.num_thresholds = num_thresholds
        super().__init__(precision, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self):
        r = self._rates()
        return self._find_max_under_constraint(r["precision"], r["sensitivity"])

    def get_config(self) -> dict:
        config = {"num_thresholds": self.num_thresholds, "precision": self.precision}
        return {**super().get_config(), **config}


# --- AUC ----------------------------------------------------------------------------------------

_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = {"interpolation": "interpolation", "majoring": "majoring", "minoring": "minoring"}


def _parse_curve(curve: str) -> str:
    value = getattr(curve, "value", curve)
    if value not in ("ROC", "roc", "PR", "pr", "PRGAIN", "prgain"):
        raise ValueError(
            f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC", "PRGAIN"]'
        )
    return _CURVES[value.lower()]


def _parse_summation(method: str) -> str:
    value = getattr(method, "value", method)
    if value not in ("interpolation", "Interpolation", "majoring", "Majoring", "minoring",
                     "Minoring"):  # fmt: skip
        raise ValueError(
            f'Invalid AUC summation method value: "{method}". '
            'Expected values are ["interpolation", "majoring", "minoring"]'
        )
    return _SUMMATIONS[value.lower()]


@register_builtin("keras.metrics")
class AUC(Metric):
    """Area under the ROC or PR curve, approximated from confusion counts at thresholds.

    Thresholds: ``[-eps, 1/(n-1), 2/(n-1), ..., (n-2)/(n-1), 1 + eps]`` with
    ``n = num_thresholds`` (or ``[-eps, *sorted(thresholds), 1 + eps]``).  With recall
    ``R = tp/(tp+fn)``, false-positive rate ``F = fp/(fp+tn)`` and precision ``P = tp/(tp+fp)`` at
    each threshold ``i``::

        ROC:  sum_i (F_i - F_{i+1}) * h_i(R)        PR: sum_i (R_i - R_{i+1}) * h_i(P)
        h_i(y) = (y_i + y_{i+1}) / 2  ("interpolation"), min(...) ("minoring"), max(...)
        ("majoring")

    PR with ``"interpolation"`` uses the Davis & Goadrich interpolation instead
    (:meth:`interpolate_pr_auc`).  With ``multi_label`` each label gets its own curve and the
    AUCs are averaged (weighted by ``label_weights`` if given).

    Args:
        num_thresholds: 200.  curve: ``"ROC"`` (or ``"PR"``, ``"PRGAIN"``).
        summation_method: ``"interpolation"``.  thresholds: explicit inner thresholds.
        multi_label: False.  num_labels: needed only to create the state before the first update.
        label_weights: per-label weights.  from_logits: apply a sigmoid to ``y_pred`` first.
    """

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        self._direction = "up"
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(
                np.array([0.0] + thresholds + [1.0])
            )
        else:
            if num_thresholds <= 1:
                raise ValueError(
                    "Argument `num_thresholds` must be an integer > 1. "
                    f"Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        eps = config.epsilon()
        self._thresholds = np.array([0.0 - eps] + thresholds + [1.0 + eps])
        self.curve = _parse_curve(curve)
        self.summation_method = _parse_summation(summation_method)
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = (
            None if label_weights is None else np.asarray(label_weights, dtype=self.dtype)
        )
        self._from_logits = from_logits
        self._built = False
        if self.multi_label:
            if num_labels:
                self._build([None, num_labels])
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self) -> list:
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    "`y_pred` must have rank 2 when `multi_label=True`. "
                    f"Found rank {len(shape)}. "
                    f"Full shape received for `y_pred`: {shape}"
                )
            self._num_labels = shape[1]
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        self._build_input_shape = shape
        self.true_positives = self.add_variable(variable_shape, "zeros", name="true_positives")
        self.false_positives = self.add_variable(variable_shape, "zeros", name="false_positives")
        self.true_negatives = self.add_variable(variable_shape, "zeros", name="true_negatives")
        self.false_negatives = self.add_variable(variable_shape, "zeros", name="false_negatives")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.convert_to_tensor(y_pred)
        if not self._built:
            self._build(y_pred.shape)
        if self._from_logits:
            y_pred = ops.sigmoid(y_pred)
        update_confusion_matrix_variables(
            {
                "tp": self.true_positives,
                "tn": self.true_negatives,
                "fp": self.false_positives,
                "fn": self.false_negatives,
            },
            y_true,
            y_pred,
            self._thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
        )

    def _counts(self):
        return (
            self.true_positives.numpy(),
            self.false_positives.numpy(),
            self.true_negatives.numpy(),
            self.false_negatives.numpy(),
        )

    def _average_labels(self, per_threshold_terms):
        """Sum over thresholds; with ``multi_label``, then the (weighted) mean over labels."""
        if not self.multi_label:
            return ops.convert_to_tensor(np.sum(per_threshold_terms))
        by_label_auc = np.sum(per_threshold_terms, axis=0)
        if self.label_weights is None:
            return ops.convert_to_tensor(np.mean(by_label_auc))
        weighted = np.sum(by_label_auc * self.label_weights)
        return ops.convert_to_tensor(divide_no_nan(weighted, np.sum(self.label_weights)))

    def interpolate_pr_auc(self):
        """PR-AUC by interpolating precision between thresholds (Davis & Goadrich, 2006).

        Between thresholds ``i`` and ``i+1`` precision is ``P = tp / p`` with ``tp`` linear in
        ``p = tp + fp``: ``tp = slope * p + intercept``.  Integrating ``P`` against recall gives::

            slope = dtp / dp,  intercept = tp_{i+1} - slope * p_{i+1}
            area_i = slope * (dtp + intercept * log(p_i / p_{i+1})) / (tp_{i+1} + fn_{i+1})
        """
        tp, fp, _, fn = self._counts()
        n = self.num_thresholds
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        prec_slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = np.where(
            np.logical_and(p[: n - 1] > 0, p[1:] > 0),
            divide_no_nan(p[: n - 1], np.maximum(p[1:], 0)),
            np.ones_like(p[1:]),
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = np.log(safe_p_ratio)
        pr_auc_increment = divide_no_nan(
            prec_slope * (dtp + intercept * log_ratio), np.maximum(tp[1:] + fn[1:], 0)
        )
        return self._average_labels(pr_auc_increment)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp, tn, fn = self._counts()
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:  # PRGAIN
            scaling = divide_no_nan(tp + fn, tn + fp)
            recall_gain = 1.0 - scaling * divide_no_nan(fn, tp)
            precision_gain = 1.0 - scaling * divide_no_nan(fp, tp)
            recall_gain = np.where(tp == 0.0, 0.0, recall_gain)
            precision_gain = np.where(tp == 0.0, 1.0, precision_gain)
            x, y = np.maximum(recall_gain, 0.0).astype(tp.dtype), precision_gain.astype(tp.dtype)
        n = self.num_thresholds
        if self.summation_method == "interpolation":
            heights = (y[: n - 1] + y[1:]) / np.asarray(2.0, y.dtype)
        elif self.summation_method == "minoring":
            heights = np.minimum(y[: n - 1], y[1:])
        else:
            heights = np.maximum(y[: n - 1], y[1:])
        return self._average_labels((x[: n - 1] - x[1:]) * heights)

    def reset_state(self):
        if self._built:
            for v in self.variables:
                v.assign(np.zeros(v.shape))

    def get_config(self) -> dict:
        config = {
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return {**super().get_config(), **config}
