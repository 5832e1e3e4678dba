"""Regression metrics (``keras/src/metrics/regression_metrics.py``): the mean, over all samples
seen, of a regression loss function (see :mod:`refkeras.losses.losses` for the formulas)."""

from __future__ import annotations

import numpy as np

from refkeras import ops
from refkeras.losses.losses import (
    l2_normalize,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    squeeze_or_expand_to_same_rank,
)
from refkeras.metrics.reduction_metrics import Mean, MeanMetricWrapper, as_array
from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.metrics")
def cosine_similarity(y_true, y_pred, axis=-1):
    """``sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`` (+1 for parallel vectors; the
    metric's sign is the opposite of the loss's)."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true, dtype=y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return ops.sum(l2_normalize(y_true, axis=axis) * l2_normalize(y_pred, axis=axis), axis=axis)


cosine_similarity._keras_module = "keras.metrics"


class _NameDtypeConfig:
    """Keras writes only ``name`` and ``dtype`` in these metrics' configs."""

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


@register_builtin("keras.metrics")
class MeanSquaredError(_NameDtypeConfig, MeanMetricWrapper):
    """``mean(square(y_true - y_pred))``; ``name="mean_squared_error"``."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(fn=mean_squared_error, name=name, dtype=dtype)
        self._direction = "down"


@register_builtin("keras.metrics")
class MeanAbsoluteError(_NameDtypeConfig, MeanMetricWrapper):
    """``mean(abs(y_true - y_pred))``; ``name="mean_absolute_error"``."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name, dtype=dtype)
        self._direction = "down"


@register_builtin("keras.metrics")
class MeanAbsolutePercentageError(_NameDtypeConfig, MeanMetricWrapper):
    """``100 * mean(abs((y_true - y_pred) / y_true))``;
    ``name="mean_absolute_percentage_error"``."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name, dtype=dtype)
        self._direction = "down"


@register_builtin("keras.metrics")
class MeanSquaredLogarithmicError(_NameDtypeConfig, MeanMetricWrapper):
    """``mean(square(log(y_true + 1) - log(y_pred + 1)))``;
    ``name="mean_squared_logarithmic_error"``."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name, dtype=dtype)
        self._direction = "down"


@register_builtin("keras.metrics")
class CosineSimilarity(_NameDtypeConfig, MeanMetricWrapper):
    """``mean(sum(l2_norm(y_true) * l2_norm(y_pred), axis))``; ``axis=-1``,
    ``name="cosine_similarity"`` (Keras's config omits ``axis``)."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name, dtype=dtype, axis=axis)
        self._direction = "up"


@register_builtin("keras.metrics")
class LogCoshError(_NameDtypeConfig, MeanMetricWrapper):
    """``mean(log(cosh(y_pred - y_true)))``; ``name="logcosh"``."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name, dtype=dtype)
        self._direction = "down"


@register_builtin("keras.metrics")
class RootMeanSquaredError(Mean):
    """``sqrt(mean(square(y_true - y_pred)))`` over all elements seen (weighted);
    ``name="root_mean_squared_error"``."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype=dtype)
        self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = as_array(y_true, self.dtype)
        y_pred = as_array(y_pred, self.dtype)
        a, b = squeeze_or_expand_to_same_rank(y_true, y_pred)
        error_sq = np.square(np.asarray(b) - np.asarray(a))
        return super().update_state(error_sq, sample_weight=sample_weight)

    def result(self):
        return ops.sqrt(super().result())
